// A downward API fieldRef to one label or annotation (`metadata.labels['KEY']`) names its key as
// validateObjectFieldSelector checks it: a qualified name, an annotation's lower-cased first (so
// `Example.COM/owner` is one, as an annotation key is), a label's as written. Regression: berth took
// any key between the quotes, in env and in downwardAPI volumes (plain or projected), and such a
// file failed on kubectl apply.
import { describe, expect, it } from 'vitest';
import { parseFile } from '../../src/manifest/parse.js';

const withEnv = (fieldPath: string) => `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: main
    image: busybox:1
    env:
    - name: V
      valueFrom:
        fieldRef: {fieldPath: "${fieldPath}"}
`;

const withVolume = (fieldPath: string, projected: boolean) => `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers: [{name: main, image: busybox:1}]
  volumes:
  - name: info
${
  projected
    ? `    projected:\n      sources:\n      - downwardAPI:\n          items: [{path: v, fieldRef: {fieldPath: "${fieldPath}"}}]`
    : `    downwardAPI:\n      items: [{path: v, fieldRef: {fieldPath: "${fieldPath}"}}]`
}
`;

const lines = (text: string) =>
  parseFile(text, 'p.yaml').diagnostics.map((d) => `${d.line}:${d.col} ${d.code} ${d.message}`);

describe("a fieldRef's label or annotation key", () => {
  it('a label key with a space is refused at the fieldPath', () => {
    expect(lines(withEnv("metadata.labels['team name']"))).toEqual([
      "11:31 ERR_MANIFEST_INVALID metadata.labels['team name']: team name is not a label key (a name must be at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit): a cluster rejects it too",
    ]);
  });

  it('a label key is read as written, an annotation key lower-cased', () => {
    expect(lines(withEnv("metadata.labels['App.Example.com/name']"))).toHaveLength(1);
    expect(lines(withEnv("metadata.annotations['App.Example.com/Owner']"))).toEqual([]);
    expect(lines(withEnv("metadata.labels['app.kubernetes.io/name']"))).toEqual([]);
  });

  it.each([false, true])('is checked in a downwardAPI volume too (projected: %s)', (projected) => {
    const found = lines(withVolume("metadata.annotations['a/b/c']", projected));
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(
      "metadata.annotations['a/b/c']: a/b/c is not an annotation key (at most one '/'",
    );
    expect(lines(withVolume("metadata.annotations['example.com/build']", projected))).toEqual([]);
  });
});
