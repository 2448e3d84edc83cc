// emptyDir.mode (Kubernetes 1.37, EmptyDirVolumeMode): the volume directory's permission bits, 0 to
// 01777 (a YAML 1.1 octal such as 01777 is read as Kubernetes reads it); without it 0777, as before;
// with fsGroup the group may also read, write and enter, and it is setgid (pods.ts), as the kubelet does. A mode past 01777 is refused at its node.
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/lib/yaml-validate.js';
import type { PodManifest } from '../../src/manifest/kinds.js';
import { parseFile } from '../../src/manifest/parse.js';
import { desiredPod } from '../../src/reconcile/desired.js';
import { TEST_HOST } from '../helpers/observed.js';

const pod = (mode: string) => `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers: [{name: main, image: busybox}]
  volumes:
    - name: tmp
      emptyDir:
        mode: ${mode}
    - {name: plain, emptyDir: {}}
`;

describe('emptyDir.mode', () => {
  it('is the permission bits of the volume directory (01777: sticky and world-writable)', () => {
    const r = parseFile(pod('01777'), 'm.yaml');
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    expect(desiredPod(r.parsed[0]?.value as PodManifest, 'm.yaml', TEST_HOST).podDirs).toEqual([
      { path: '/r/pods/p/volumes/tmp', memory: false, mode: 0o1777 },
      { path: '/r/pods/p/volumes/plain', memory: false },
    ]);
  });

  it("with fsGroup gives the group read, write and enter, as the kubelet's fsGroup does", () => {
    const text = pod('0700').replace('spec:\n', 'spec:\n  securityContext: {fsGroup: 2000}\n');
    const r = parseFile(text, 'm.yaml');
    expect(r.diagnostics).toEqual([]);
    expect(desiredPod(r.parsed[0]?.value as PodManifest, 'm.yaml', TEST_HOST).podDirs[0]).toEqual({
      path: '/r/pods/p/volumes/tmp',
      memory: false,
      mode: 0o770,
      fsGroup: 2000,
    });
  });

  it('past 01777, or negative, is refused at its value', () => {
    expect(parseFile(pod('02777'), 'm.yaml').diagnostics.map(formatDiagnostic)).toEqual([
      'm.yaml:9:15: ERR_MANIFEST_SCHEMA: spec.volumes.0.emptyDir.mode must be <= 1023',
    ]);
    expect(parseFile(pod('-1'), 'm.yaml').diagnostics.map((d) => d.code)).toEqual(['ERR_MANIFEST_SCHEMA']);
  });
});
