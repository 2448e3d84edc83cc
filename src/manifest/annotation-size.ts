// The total size of an object's annotations, as the API server bounds it for every kind
// (apimachinery's ValidateAnnotationsSize): each key's and value's bytes summed, at most
// TotalAnnotationSizeLimitB (256 KiB). A cluster refuses a file past it ("Too long: may not be more
// than 262144 bytes"), so it is refused here too, at metadata.annotations, with the size. Pure.
import type { Diagnostic } from '../lib/yaml-validate.js';
import { at, type ParsedDoc } from './position.js';

/** Kubernetes' TotalAnnotationSizeLimitB. */
export const MAX_ANNOTATION_BYTES = 262_144;

export function checkAnnotationSize(p: ParsedDoc): Diagnostic[] {
  const annotations = (p.value as { metadata?: { annotations?: unknown } }).metadata?.annotations;
  if (annotations === null || typeof annotations !== 'object') return [];
  let bytes = 0;
  for (const [key, value] of Object.entries(annotations))
    bytes += Buffer.byteLength(key) + Buffer.byteLength(typeof value === 'string' ? value : String(value));
  if (bytes <= MAX_ANNOTATION_BYTES) return [];
  return [
    at(
      p,
      ['metadata', 'annotations'],
      'ERR_MANIFEST_INVALID',
      `metadata.annotations are ${bytes} bytes (keys and values together), more than the ${MAX_ANNOTATION_BYTES} a cluster takes (it rejects the object too)`,
    ),
  ];
}
