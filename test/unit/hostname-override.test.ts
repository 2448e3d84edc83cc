// spec.hostnameOverride (Kubernetes 1.34, HostnameOverride): the pod's hostname, over hostname and
// the pod's name; a DNS subdomain of at most 64 characters; not with hostNetwork (a cluster refuses
// both, each at its node). It adds no name other pods resolve: only the pod itself sees it.
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/lib/yaml-validate.js';
import type { PodManifest } from '../../src/manifest/kinds.js';
import { parseFile } from '../../src/manifest/parse.js';
import { desiredPod } from '../../src/reconcile/desired.js';
import { TEST_HOST } from '../helpers/observed.js';

const pod = (extra: string) => `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  hostname: short
${extra}  containers: [{name: main, image: busybox}]
`;

describe('spec.hostnameOverride', () => {
  it("is every container's hostname, over spec.hostname", () => {
    const r = parseFile(pod('  hostnameOverride: db-0.db.example\n'), 'm.yaml');
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    const d = desiredPod(r.parsed[0]?.value as PodManifest, 'm.yaml', TEST_HOST);
    expect(d.containers[0]?.settings.hostname).toBe('db-0.db.example');
  });

  it('is refused with hostNetwork, and when it is no DNS subdomain of at most 64 characters', () => {
    expect(
      parseFile(pod('  hostNetwork: true\n  hostnameOverride: db-0\n'), 'm.yaml').diagnostics.map(
        formatDiagnostic,
      ),
    ).toEqual([
      "m.yaml:7:21: ERR_MANIFEST_INVALID: hostnameOverride cannot be set with hostNetwork: the pod's hostname is the host's (a cluster refuses it too)",
    ]);
    expect(parseFile(pod('  hostnameOverride: Db_0\n'), 'm.yaml').diagnostics.map((d) => d.code)).toEqual([
      'ERR_MANIFEST_SCHEMA',
    ]);
    expect(
      parseFile(pod(`  hostnameOverride: ${'a'.repeat(65)}\n`), 'm.yaml').diagnostics.map((d) => d.code),
    ).toEqual(['ERR_MANIFEST_SCHEMA']);
  });
});
