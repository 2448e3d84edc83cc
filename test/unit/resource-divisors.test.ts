// A resourceFieldRef's divisor as a cluster reads it (validateContainerResourceDivisor): compared as
// Quantity.String() writes it, a zero divisor being none (the kubelet divides by 1). berth compared
// the text as written, so the `divisor: "0"` that `kubectl get -o yaml` shows for one left out, and
// 1000m or 1.0 (canonical 1), were refused; the runtime divided by 0.
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/lib/yaml-validate.js';
import type { ContainerManifest } from '../../src/manifest/kinds.js';
import { divisorAs } from '../../src/manifest/objects/divisors.js';
import { parseFile } from '../../src/manifest/parse.js';
import { resourceValue } from '../../src/reconcile/downward.js';

describe('resourceFieldRef divisors', () => {
  it.each([
    ['limits.cpu', '0', 'none'],
    ['limits.cpu', 0, 'none'],
    ['requests.cpu', '1000m', '1'],
    ['requests.cpu', '1.0', '1'],
    ['requests.cpu', '0.001', '1m'],
    ['requests.cpu', 1, '1'],
    ['limits.memory', '1000m', '1'],
    ['limits.memory', 1000, '1k'],
    ['limits.memory', '1024Ki', '1Mi'],
    ['limits.memory', '1Ki', '1Ki'],
    ['limits.memory', '1Ei', '1Ei'],
    ['limits.memory', '0.0009765625Ki', '1'],
    ['limits.ephemeral-storage', '1000000k', '1G'],
  ])('%s divisor %j is %s', (resource, divisor, want) => {
    expect(divisorAs(resource, divisor)).toBe(want);
  });

  it.each([
    ['requests.cpu', '1k'],
    ['requests.cpu', '500m'],
    ['requests.cpu', '1e-3'],
    ['limits.memory', '1m'],
    ['limits.memory', '1024'],
    ['limits.memory', '1e3'],
    // Kept as written by the cluster's parser, so compared as written (apimachinery quantity.go).
    ['limits.memory', '1e0'],
    ['limits.memory', '+1'],
    ['limits.memory', '1.'],
    ['limits.memory', '+1Mi'],
    ['limits.memory', '01Ki'],
    ['limits.memory', '1.5Ki'],
    ['limits.memory', '-1'],
    ['limits.memory', 'lots'],
  ])('%s divisor %j is refused', (resource, divisor) => {
    expect(divisorAs(resource, divisor)).toBeUndefined();
  });

  it('a dump with divisor "0" loads, and the value is divided by 1', () => {
    const text =
      'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: main\n      image: busybox\n      resources: {limits: {cpu: 1500m, memory: 64Mi}}\n      env:\n        - {name: CPU, valueFrom: {resourceFieldRef: {containerName: main, resource: limits.cpu, divisor: "0"}}}\n        - {name: MEM, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: "1000m"}}}\n';
    const r = parseFile(text, 'm.yaml');
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    const c = (r.parsed[0]?.value as { spec: { containers: ContainerManifest[] } } | undefined)?.spec
      .containers[0];
    const node = { name: 'h', ip: '', milliCpus: 2000, memoryBytes: 2 ** 33 };
    expect(c && resourceValue({ resource: 'limits.cpu', divisor: '0' }, c, node)).toBe('2');
    expect(c && resourceValue({ resource: 'limits.memory', divisor: '1000m' }, c, node)).toBe(
      String(64 * 2 ** 20),
    );
  });
});
