// The Image CRD (schemas/crd/image.yaml) is generated from schemas/image.schema.json: it must be
// current, structural (what an API server accepts), and accept what berth accepts.
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
// @ts-expect-error: a plain .mjs script, no types
import { crdFile, renderImageCrd } from '../../scripts/gen-crd.mjs';

const schemaText = readFileSync(new URL('../../schemas/image.schema.json', import.meta.url), 'utf8');
const committed = readFileSync(crdFile, 'utf8');
const crd = parseYaml(committed);
const openApi = crd.spec.versions[0].schema.openAPIV3Schema;

/** Keywords a structural schema of apiextensions.k8s.io/v1 does not allow. */
function forbiddenKeywords(node: unknown, path = ''): string[] {
  if (node === null || typeof node !== 'object') return [];
  const o = node as Record<string, unknown>;
  const out: string[] = [];
  for (const k of ['$schema', '$id', '$ref', 'const', 'definitions', 'id'])
    if (k in o) out.push(`${path}.${k}`);
  if ('additionalProperties' in o && ('properties' in o || o.additionalProperties === false))
    out.push(`${path}.additionalProperties`);
  if (('properties' in o || 'enum' in o) && typeof o.type !== 'string') out.push(`${path}.type missing`);
  for (const [k, v] of Object.entries((o.properties as object) ?? {}))
    out.push(...forbiddenKeywords(v, `${path}.${k}`));
  return out;
}

describe('schemas/crd/image.yaml', () => {
  it('is what scripts/gen-crd.mjs generates from schemas/image.schema.json (run it after a schema change)', () => {
    expect(committed).toBe(renderImageCrd(schemaText));
  });

  it('is a structural schema', () => {
    expect(forbiddenKeywords(openApi)).toEqual([]);
    expect(crd.spec.versions[0].schema.openAPIV3Schema.properties.metadata).toEqual({ type: 'object' });
  });

  it('accepts every example Image and refuses what the JSON Schema refuses', () => {
    const validate = new Ajv({ strict: false, allErrors: true }).compile(openApi);
    const docs = parseAllDocuments(
      readFileSync(new URL('../../examples/manifests/images.yaml', import.meta.url), 'utf8'),
    )
      .map((d) => d.toJS())
      .filter((d) => d?.kind === 'Image');
    expect(docs.length).toBeGreaterThan(0);
    for (const d of docs) expect(validate(d), JSON.stringify(validate.errors)).toBe(true);
    const base = { apiVersion: 'berth.dev/v1alpha1', kind: 'Image', metadata: { name: 'x' } };
    expect(validate({ ...base, spec: {} })).toBe(false);
    expect(validate({ ...base, spec: { ref: 'busybox', pullPolicy: 'Sometimes' } })).toBe(false);
    expect(validate({ ...base, spec: { ref: 'busybox', keep: -1 } })).toBe(false);
    expect(validate({ ...base, spec: { ref: 'busybox', source: 'http://x/a.tar' } })).toBe(false);
    expect(validate({ ...base, spec: { ref: 'busybox', source: 'file:///srv/a.tar', keep: 2 } })).toBe(true);
  });
});
