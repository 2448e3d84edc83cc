// The bound on a container's whole argv + environment (MAX_EXEC_TOTAL, expand.ts): each string under
// MAX_EXPANDED, but together past what execve takes, is a diagnostic of its pod's file naming the
// container and the entry where the total crossed; the folder's other pods are built as before.
import { describe, expect, it } from 'vitest';
import { MAX_EXEC_TOTAL, MAX_EXPANDED } from '../../src/manifest/expand.js';
import type { LoadedDoc, PodManifest } from '../../src/manifest/kinds.js';
import { desiredState } from '../../src/reconcile/desired.js';

const host = { volumes: '/r/volumes', pods: '/r/pods', netns: '/s/netns' };
type Container = PodManifest['spec']['containers'][0];

const podDoc = (name: string, c: Partial<Container>, line = 1): LoadedDoc => ({
  doc: {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { containers: [{ name: 'main', image: 'app.invalid/a:1', ...c }] },
  },
  file: `/m/${name}.yaml`,
  line,
});

// A0 is 64 characters, each next one doubles it: A11 is 128 KiB, the most one string may be.
const DOUBLINGS: Container['env'] = [
  { name: 'A0', value: 'x'.repeat(64) },
  ...Array.from({ length: 11 }, (_, i) => ({ name: `A${i + 1}`, value: `$(A${i})$(A${i})` })),
];
const copies = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `E${i}`, value: '$(A11)' }));

describe("a container's argv + environment is bounded as a whole", () => {
  it('many 128 KiB values: the pod is unusable at the entry that crossed; its neighbour is built', () => {
    const d = desiredState(
      [
        podDoc('bomb', { env: [...DOUBLINGS, ...copies(40)] }, 3),
        podDoc('web', { env: [{ name: 'A', value: 'a' }] }),
      ],
      host,
    );
    expect(d.pods.map((p) => p.name)).toEqual(['web']);
    expect(d.unusable).toEqual([
      {
        kind: 'Pod',
        name: 'bomb',
        diagnostic: {
          file: '/m/bomb.yaml',
          line: 3,
          col: 1,
          code: 'ERR_EXEC_TOO_LARGE',
          message: `Pod bomb cannot be used: container main: env E5 makes its arguments and environment more than ${MAX_EXEC_TOTAL} bytes, the most berth passes to one container (Linux takes 2 MiB for both together)`,
        },
      },
    ]);
  });

  it('args count with the environment; a total just under the bound is used as it is', () => {
    const big = 'y'.repeat(MAX_EXPANDED - 8);
    const under = podDoc('under', { env: [{ name: 'B', value: big }], args: Array(6).fill('$(B)') });
    const over = podDoc('over', { env: [{ name: 'B', value: big }], args: Array(8).fill('$(B)') });
    const d = desiredState([under, over], host);
    expect(d.pods.map((p) => p.name)).toEqual(['under']);
    expect(d.unusable?.[0]?.diagnostic.message).toMatch(
      /^Pod over cannot be used: container main: args\[7\] makes/,
    );
  });

  it('bytes, not characters: multi-byte values count as Linux counts them', () => {
    const wide = 'é'.repeat(60_000); // 120,000 bytes each
    const d = desiredState(
      [podDoc('wide', { env: Array.from({ length: 9 }, (_, i) => ({ name: `W${i}`, value: wide })) })],
      host,
    );
    expect(d.unusable?.[0]?.diagnostic.message).toMatch(/container main: env W8 makes/);
  });
});
