import { readdirSync, readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseHostConfig } from '../../src/config/host-config.js';
import { loadManifests } from '../../src/manifest/load.js';

describe('examples/', () => {
  it('config.yaml is a valid host config', () => {
    const file = new URL('../../examples/config.yaml', import.meta.url);
    const config = parseHostConfig(readFileSync(file, 'utf8'), 'examples/config.yaml');
    expect(config.plainHttpRegistries).toEqual(['registry.lan:5000']);
  });
});

// Every Pod, ConfigMap and Secret in examples/manifests is also valid Kubernetes, so the folder
// applies to a cluster with `kubectl apply -f`. The Pod schema is the official strict one
// (k8s v1.32.2, yannh/kubernetes-json-schema standalone-strict, vendored from
// ../shared/pods-corpus/k8s-pod-v1.schema.json). ConfigMap and Secret take its ObjectMeta (the
// same strict definition) and their fields as the v1 API defines them.
const MANIFESTS = new URL('../../examples/manifests/', import.meta.url);
const podSchema = JSON.parse(
  readFileSync(new URL('../fixtures/k8s-pod-v1.schema.json', import.meta.url), 'utf8'),
) as { properties: { metadata: object } };
const stringMap = { type: 'object', additionalProperties: { type: 'string' } };
const object = (kind: string, fields: Record<string, object>) => ({
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'metadata'],
  properties: {
    apiVersion: { const: 'v1' },
    kind: { const: kind },
    metadata: podSchema.properties.metadata,
    ...fields,
  },
});
const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
const validators: Record<string, ReturnType<Ajv['compile']>> = {
  Pod: ajv.compile(podSchema),
  ConfigMap: ajv.compile(
    object('ConfigMap', { data: stringMap, binaryData: stringMap, immutable: { type: 'boolean' } }),
  ),
  Secret: ajv.compile(
    object('Secret', {
      data: stringMap,
      stringData: stringMap,
      immutable: { type: 'boolean' },
      type: { type: 'string' },
    }),
  ),
};

// YAML 1.1's octal (`mode: 0444`), as kubectl reads it.
const octal = {
  identify: () => false,
  default: true,
  tag: 'tag:yaml.org,2002:int',
  test: /^[-+]?0[0-7]+$/,
  resolve: (s: string) => Number.parseInt(s, 8),
};
const documents = readdirSync(MANIFESTS)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .flatMap((f) =>
    parseAllDocuments(readFileSync(new URL(f, MANIFESTS), 'utf8'), { customTags: (t) => [octal, ...t] }).map(
      (d) => ({
        file: f,
        value: d.toJS() as { apiVersion: string; kind: string; metadata: { name: string } },
      }),
    ),
  );

describe('examples/manifests under the strict Kubernetes schemas', () => {
  it('holds the web server with a ConfigMap and a Secret, a sidecar and a downward-API consumer', () => {
    expect(documents.map((d) => `${d.file} ${d.value.kind}/${d.value.metadata.name}`)).toEqual([
      'images.yaml Image/busybox',
      'init.yaml Pod/prepared',
      'podinfo.yaml Pod/podinfo',
      'site.yaml ConfigMap/site-content',
      'site.yaml Secret/site-token',
      'site.yaml Pod/site',
      'web.yaml Pod/web',
      'worker.yaml Pod/worker',
    ]);
  });

  it.each(
    documents.filter((d) => d.value.apiVersion === 'v1').map((d) => [`${d.file} ${d.value.kind}`, d.value]),
  )('%s is valid Kubernetes', (_name, value) => {
    const validate = validators[(value as { kind: string }).kind];
    expect(validate).toBeDefined();
    validate?.(value);
    expect(validate?.errors ?? []).toEqual([]);
  });

  it('the schemas are strict: an unknown field or a non-string value is refused', () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a' } };
    expect(
      validators.Pod?.({ ...pod, spec: { containers: [{ name: 'a', image: 'b', colour: 'red' }] } }),
    ).toBe(false);
    expect(
      validators.ConfigMap?.({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'c' },
        data: { a: 1 },
      }),
    ).toBe(false);
    expect(
      validators.Secret?.({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', colour: 'red' } }),
    ).toBe(false);
  });

  it('and loads under berth with no diagnostic at all', async () => {
    const loaded = await loadManifests(MANIFESTS.pathname);
    expect(loaded.diagnostics).toEqual([]);
    expect(loaded.docs).toHaveLength(documents.length);
  });
});
