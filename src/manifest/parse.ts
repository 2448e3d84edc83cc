// One manifest file's text → its documents, each validated against its kind's schema and then by
// the checks a schema cannot make (checks.ts). Pure: positions come from the text alone. A file
// with no document at all is an error (ERR_MANIFEST_EMPTY): an empty or comment-only file is what
// a half-written copy looks like, and only deleting a file may remove what it defines.
import { isMap, LineCounter, parseAllDocuments } from 'yaml';
import { loadSchema } from '../lib/schemas.js';
import { type Diagnostic, syntaxDiagnostics, validateDocument } from '../lib/yaml-validate.js';
import { checkImage, checkPod } from './checks.js';
import type { ManifestDoc } from './kinds.js';
import { at, type ParsedDoc } from './position.js';
import { unsupportedField } from './unsupported.js';

const KINDS: Record<string, { schema: string }> = {
  'v1/Pod': { schema: 'pod.schema.json' },
  'berth.dev/v1alpha1/Image': { schema: 'image.schema.json' },
};

export interface ParsedFile {
  parsed: ParsedDoc[];
  diagnostics: Diagnostic[];
}

export function parseFile(text: string, file: string): ParsedFile {
  const lc = new LineCounter();
  const parsed: ParsedDoc[] = [];
  const diagnostics: Diagnostic[] = [];
  const docs = parseAllDocuments(text, { lineCounter: lc, prettyErrors: false }); // JSON is YAML too
  let documents = 0;
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    if (doc.errors.length > 0) {
      documents++;
      diagnostics.push(...syntaxDiagnostics(doc, lc, file));
      continue;
    }
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) continue; // an empty document
    documents++;
    const p = { doc, value: value as ManifestDoc, file, lc };
    if (!isMap(doc.contents)) {
      diagnostics.push(
        at(p, [], 'ERR_MANIFEST_INVALID', 'a manifest must be a mapping with apiVersion and kind'),
      );
      continue;
    }
    const { apiVersion, kind } = value as { apiVersion?: unknown; kind?: unknown };
    const known = KINDS[`${String(apiVersion)}/${String(kind)}`];
    if (!known) {
      diagnostics.push(
        at(
          p,
          kind === undefined ? [] : ['kind'],
          'ERR_MANIFEST_KIND',
          `apiVersion ${String(apiVersion)}, kind ${String(kind)} is not a kind berth runs (v1 Pod, berth.dev/v1alpha1 Image)`,
        ),
      );
      continue;
    }
    const problems = validateDocument(
      doc,
      value,
      lc,
      file,
      loadSchema(known.schema),
      'ERR_MANIFEST_SCHEMA',
      unsupportedField,
    );
    if (problems.length === 0) problems.push(...(p.value.kind === 'Pod' ? checkPod(p) : checkImage(p)));
    diagnostics.push(...problems);
    if (problems.length === 0) parsed.push(p);
  }
  if (documents === 0) {
    diagnostics.push({
      file,
      line: 1,
      col: 1,
      code: 'ERR_MANIFEST_EMPTY',
      message:
        'the file has no documents (empty, or only comments): what it defined stays as it was; delete the file to remove it',
    });
  }
  return { parsed, diagnostics };
}
