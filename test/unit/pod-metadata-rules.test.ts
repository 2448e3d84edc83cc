// The metadata and annotations a cluster checks on a Pod (apimachinery's ValidateObjectMetaAccessor,
// ValidatePodSpecificAnnotations in validation.go) are refused at their node here too, though berth
// ignores them: finalizers, ownerReferences, generation, the mirror pod annotation, pod-deletion-cost,
// seccomp's and AppArmor's annotations. Table-driven: each row a metadata block and what berth says.
import { describe, expect, it } from 'vitest';
import { parseFile } from '../../src/manifest/parse.js';

const pod = (meta: string, spec = '') =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n${meta}spec:\n${spec}  containers: [{name: app, image: busybox}]\n`;
const errors = (text: string) =>
  parseFile(text, 'p.yaml')
    .diagnostics.filter((d) => d.code.startsWith('ERR_'))
    .map((d) => `${d.line}:${d.col} ${d.code}: ${d.message}`);

describe('object metadata a cluster checks', () => {
  it.each([
    ['  finalizers: [example.com/cleanup, foregroundDeletion, kubernetes]\n', []],
    [
      '  finalizers: [orphan, foregroundDeletion]\n',
      [
        '5:3 ERR_MANIFEST_INVALID: finalizers orphan and foregroundDeletion cannot both be set: a cluster rejects them too',
      ],
    ],
    [
      '  finalizers: ["", a/b/c]\n',
      [
        `5:16 ERR_MANIFEST_INVALID: finalizer "" is not a qualified name (a name must be at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit): a cluster rejects it too`,
        "5:20 ERR_MANIFEST_INVALID: finalizer a/b/c is not a qualified name (at most one '/', between a DNS subdomain prefix and a name): a cluster rejects it too",
      ],
    ],
    ['  ownerReferences: [{apiVersion: v1, kind: ConfigMap, name: c, uid: "1"}]\n', []],
    [
      '  ownerReferences: [{apiVersion: apps/, kind: ReplicaSet, name: r, uid: "1"}]\n',
      [
        '5:34 ERR_MANIFEST_INVALID: ownerReferences.0.apiVersion must name a version (v1, apps/v1): a cluster rejects it too',
      ],
    ],
    [
      '  ownerReferences: [{apiVersion: v1, kind: Event, name: e, uid: "1"}]\n',
      [
        '5:21 ERR_MANIFEST_INVALID: ownerReferences.0: a v1 Event cannot be an owner: a cluster rejects it too',
      ],
    ],
    [
      '  ownerReferences: [{kind: Job, name: "", uid: "1"}]\n',
      [
        '5:21 ERR_MANIFEST_INVALID: ownerReferences.0.apiVersion must name a version (v1, apps/v1): a cluster rejects it too',
        '5:39 ERR_MANIFEST_INVALID: ownerReferences.0.name must not be empty: a cluster rejects it too',
      ],
    ],
    // A Pod's generation is set to 1 before it is validated (podStrategy.PrepareForCreate).
    ['  generation: -1\n', []],
    [
      '  ownerReferences: [{apiVersion: /v1, kind: Event, name: e, uid: "1"}]\n',
      [
        '5:21 ERR_MANIFEST_INVALID: ownerReferences.0: a v1 Event cannot be an owner: a cluster rejects it too',
      ],
    ],
  ])('%s', (meta, expected) => {
    expect(errors(pod(meta))).toEqual(expected);
  });
});

describe('pod annotations a cluster checks', () => {
  const ann = (k: string, v: string) => `  annotations:\n    ${k}: ${JSON.stringify(v)}\n`;
  const cost = 'controller.kubernetes.io/pod-deletion-cost';
  it.each([
    [cost, '0', []],
    [cost, '-2147483648', []],
    [cost, '2147483647', []],
    [cost, '2147483648', ['"2147483648"']],
    [cost, '+10', ['"+10"']],
    [cost, '008', ['"008"']],
    [cost, '', ['""']],
    ['seccomp.security.alpha.kubernetes.io/pod', 'docker/default', []],
    ['container.seccomp.security.alpha.kubernetes.io/app', 'localhost/profiles/audit.json', []],
    [
      'container.seccomp.security.alpha.kubernetes.io/app',
      'localhost/../audit.json',
      ["must not contain '..'"],
    ],
    ['seccomp.security.alpha.kubernetes.io/pod', 'localhost//etc/a.json', ['must be relative']],
    ['container.apparmor.security.beta.kubernetes.io/app', 'unconfined', []],
    [
      'container.apparmor.security.beta.kubernetes.io/app',
      'RuntimeDefault',
      ['"RuntimeDefault" is not an AppArmor profile'],
    ],
    ['kubernetes.io/config.mirror', 'abc', ['must set spec.nodeName']],
  ])('%s: %s', (key, value, expected) => {
    const got = errors(pod(ann(key, value)));
    expect(got).toHaveLength(expected.length);
    for (const [i, words] of expected.entries()) expect(got[i]).toContain(words);
  });

  it('a mirror pod with its nodeName is taken', () => {
    expect(errors(pod(ann('kubernetes.io/config.mirror', 'abc'), '  nodeName: node-1\n'))).toEqual([]);
  });
});
