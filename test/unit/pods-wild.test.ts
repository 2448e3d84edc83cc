// Pod files as people write them from the Kubernetes docs, helm output, kubectl dumps and blog
// posts, and the rules a cluster's validation applies to them that berth must apply too: what a
// cluster refuses is refused (or, for a slip podman tolerates, said with WARN_MANIFEST_K8S_REJECTS),
// at its node.
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/lib/yaml-validate.js';
import { parseFile } from '../../src/manifest/parse.js';

const lines = (text: string) => parseFile(text, 'p.yaml').diagnostics.map(formatDiagnostic);
const pod = (spec: string, meta = '') =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n${meta}spec:\n${spec}`;
const app = '  containers:\n  - name: app\n    image: busybox\n';

describe('the downward API in env', () => {
  it('takes one label or annotation; the whole map is for a downwardAPI volume, as a cluster says', () => {
    expect(
      lines(
        pod(`${app}    env:
    - name: ALL
      valueFrom: {fieldRef: {fieldPath: metadata.labels}}
    - name: ONE
      valueFrom: {fieldRef: {fieldPath: "metadata.labels['app']"}}
    - name: NOTES
      valueFrom: {fieldRef: {fieldPath: metadata.annotations}}
    volumeMounts: [{name: info, mountPath: /info}]
  volumes:
  - name: info
    downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}
`),
      ),
    ).toEqual([
      expect.stringMatching(/^p\.yaml:11:41: ERR_MANIFEST_SCHEMA: .*fieldPath must be one of metadata\.name/),
      expect.stringMatching(/^p\.yaml:15:41: ERR_MANIFEST_SCHEMA: .*fieldPath must be one of metadata\.name/),
    ]);
  });
});

describe('seccompProfile', () => {
  it('localhostProfile only with type Localhost, as a cluster says (the pod and each container)', () => {
    expect(
      lines(
        pod(`  securityContext:
    seccompProfile: {type: RuntimeDefault, localhostProfile: audit.json}
${app}    securityContext:
      seccompProfile: {type: Unconfined, localhostProfile: audit.json}
  - name: two
    image: busybox
    securityContext:
      seccompProfile: {type: Localhost, localhostProfile: audit.json}
`),
      ),
    ).toEqual([
      'p.yaml:7:62: ERR_MANIFEST_INVALID: localhostProfile is for type Localhost only (a cluster rejects it with type RuntimeDefault)',
      'p.yaml:12:60: ERR_MANIFEST_INVALID: localhostProfile is for type Localhost only (a cluster rejects it with type Unconfined)',
    ]);
  });
});

describe('a sleep hook', () => {
  it('sleeps no longer than the grace period (30 s when not given), as a cluster says; 0 is taken', () => {
    const hooks = (grace: string, pre: number, post: number) =>
      lines(
        pod(`${grace}${app}    lifecycle:
      postStart: {sleep: {seconds: ${post}}}
      preStop: {sleep: {seconds: ${pre}}}
`),
      );
    expect(hooks('', 30, 0)).toEqual([]);
    expect(hooks('', 31, 5)).toEqual([
      "p.yaml:11:34: ERR_MANIFEST_INVALID: lifecycle.preStop.sleep.seconds 31 is more than the pod's terminationGracePeriodSeconds (30): a cluster rejects it",
    ]);
    expect(hooks('  terminationGracePeriodSeconds: 10\n', 5, 60)).toEqual([
      "p.yaml:11:36: ERR_MANIFEST_INVALID: lifecycle.postStart.sleep.seconds 60 is more than the pod's terminationGracePeriodSeconds (10): a cluster rejects it",
    ]);
  });
});

describe('serviceAccountName', () => {
  it('is a DNS subdomain, as a cluster says', () => {
    expect(lines(pod(`  serviceAccountName: build-bot.ci\n${app}`))).toEqual([]);
    expect(lines(pod(`  serviceAccountName: Build_Bot\n${app}`))).toEqual([
      expect.stringMatching(
        /^p\.yaml:6:23: ERR_MANIFEST_SCHEMA: spec\.serviceAccountName must be a DNS subdomain/,
      ),
    ]);
  });
});
