// A configMap or secret volume's (or projected source's) items[].key as validation.go checks it
// (validateKeyToPath): only that it is not empty. A key no ConfigMap or Secret can hold (conf/app.ini)
// is a key the object lacks: the pod waits for it, or the file is left out when the source is
// optional, as the kubelet does (reconcile/volume-files.ts). Regression: berth refused such a file as
// "a cluster rejects it too". An env configMapKeyRef/secretKeyRef key is still a ConfigMap key
// (validateConfigMapKeySelector checks IsConfigMapKey), and refused otherwise.
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/lib/yaml-validate.js';
import { parseFile } from '../../src/manifest/parse.js';

const pod = (volume: string, env = '') => `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: main
    image: busybox:1${env}
  volumes:
  - name: v
    ${volume}
`;

const sources: [string, (items: string) => string][] = [
  ['configMap', (items) => `configMap: {name: settings, optional: true, items: ${items}}`],
  ['secret', (items) => `secret: {secretName: creds, optional: true, items: ${items}}`],
  [
    'projected configMap',
    (items) => `projected: {sources: [{configMap: {name: settings, optional: true, items: ${items}}}]}`,
  ],
  [
    'projected secret',
    (items) => `projected: {sources: [{secret: {name: creds, optional: true, items: ${items}}}]}`,
  ],
];

const lines = (text: string) => parseFile(text, 'p.yaml').diagnostics.map(formatDiagnostic);

describe("a volume item's key", () => {
  it.each(sources)('may be any non-empty string (%s)', (_, volume) => {
    expect(lines(pod(volume('[{key: conf/app.ini, path: app.ini}, {key: "..data", path: data}]')))).toEqual(
      [],
    );
  });

  it.each(sources)('may not be empty (%s)', (_, volume) => {
    const found = lines(pod(volume('[{key: "", path: app.ini}]')));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(
      /ERR_MANIFEST_SCHEMA: spec\.volumes\.0\..*items\.0\.key must NOT have fewer than 1 characters/,
    );
  });

  it("an env reference's key is still a ConfigMap key", () => {
    const env =
      '\n    env:\n    - {name: A, valueFrom: {configMapKeyRef: {name: settings, key: conf/app.ini}}}';
    const found = lines(pod('emptyDir: {}', env));
    expect(found).toHaveLength(1);
    expect(found[0]).toContain('configMapKeyRef.key must be a ConfigMap or Secret key');
  });
});
