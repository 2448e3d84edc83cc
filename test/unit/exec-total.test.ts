// The bound on a container's whole argv + environment (MAX_EXEC_TOTAL, expand.ts): each string under
// MAX_EXPANDED, but together past what execve takes, is a diagnostic of its pod's file naming the
// container and the entry where the total crossed; the folder's other pods are built as before. The
// same bound on each exec hook's and probe's command with the container's environment
// (reconcile/exec-bound.ts).
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

// Hooks and probes run their exec command as `runc exec` runs it: as written (no `$(VAR)`), with the
// container's environment. Each is bounded with that environment as the container's own argv is.
describe("an exec hook's or probe's command + the container's environment is bounded", () => {
  // Probes and hooks are not in the manifest's TypeScript shape (the schema has them).
  const pod = (name: string, c: Record<string, unknown>, line = 1) =>
    podDoc(name, c as Partial<Container>, line);
  const bomb = (n: number) => ({ exec: { command: Array(n).fill('z'.repeat(MAX_EXPANDED - 1)) } });
  const tooLarge = (field: string, label: string, at: number) =>
    `container main: ${field}.exec.command[${at}] makes the ${label}'s command and the container's environment more than ${MAX_EXEC_TOTAL} bytes, the most berth passes to one container (Linux takes 2 MiB for both together)`;

  it('a postStart hook of one string repeated: unusable at its line, naming the container and the hook', () => {
    // 8 of them are exactly 1 MiB; the 9th crosses.
    const d = desiredState(
      [
        pod('hooked', { lifecycle: { postStart: bomb(9) } }, 7),
        pod('web', { lifecycle: { postStart: bomb(8) } }),
      ],
      host,
    );
    expect(d.pods.map((p) => p.name)).toEqual(['web']);
    expect(d.unusable).toEqual([
      {
        kind: 'Pod',
        name: 'hooked',
        diagnostic: {
          file: '/m/hooked.yaml',
          line: 7,
          col: 1,
          code: 'ERR_EXEC_TOO_LARGE',
          message: `Pod hooked cannot be used: ${tooLarge('lifecycle.postStart', 'postStart hook', 8)}`,
        },
      },
    ]);
  });

  it('each hook and probe, of app containers, init containers and sidecars', () => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['pre-stop', { lifecycle: { preStop: bomb(9) } }, tooLarge('lifecycle.preStop', 'preStop hook', 8)],
      ['liveness', { livenessProbe: bomb(9) }, tooLarge('livenessProbe', 'liveness probe', 8)],
      ['readiness', { readinessProbe: bomb(9) }, tooLarge('readinessProbe', 'readiness probe', 8)],
      ['startup', { startupProbe: bomb(9) }, tooLarge('startupProbe', 'startup probe', 8)],
    ];
    const docs = cases.map(([name, c]) => pod(name, c));
    const withInit = (name: string, init: Record<string, unknown>): LoadedDoc => {
      const doc = pod(name, {});
      (doc.doc as PodManifest).spec.initContainers = [init as unknown as Container];
      return doc;
    };
    const sidecar = withInit('sidecar', {
      name: 'side',
      image: 'app.invalid/s:1',
      restartPolicy: 'Always',
      startupProbe: bomb(9),
    });
    const init = withInit('init', {
      name: 'setup',
      image: 'app.invalid/i:1',
      lifecycle: { postStart: bomb(9) },
    });
    const d = desiredState([...docs, sidecar, init], host);
    expect(d.pods).toEqual([]);
    expect(d.unusable?.map((u) => u.diagnostic.message)).toEqual([
      ...cases.map(([name, , m]) => `Pod ${name} cannot be used: ${m}`),
      `Pod sidecar cannot be used: ${tooLarge('startupProbe', 'startup probe', 8).replace('container main', 'container side')}`,
      `Pod init cannot be used: ${tooLarge('lifecycle.postStart', 'postStart hook', 8).replace('container main', 'container setup')}`,
    ]);
  });

  it("counts the container's environment, as written (no expansion), in bytes; httpGet and the like are not exec", () => {
    const env = [{ name: 'BIG', value: 'é'.repeat(500_000) }]; // BIG=…: 1,000,005 bytes with its NUL
    const probe = (command: string[]) => ({ readinessProbe: { exec: { command } } });
    // 1,000,005 + 48,571 = 1,048,576: just at the bound; one byte more crosses.
    const at = pod('at', { env, ...probe(['$(BIG)', 'a'.repeat(48_563)]) });
    const over = pod('over', { env, ...probe(['$(BIG)', 'a'.repeat(48_564)]) });
    const http = pod('http', {
      env,
      lifecycle: { postStart: { httpGet: { port: 80, path: `/${'p'.repeat(100_000)}` } } },
    });
    const d = desiredState([at, over, http], host);
    expect(d.pods.map((p) => p.name)).toEqual(['at', 'http']);
    expect(d.unusable?.map((u) => u.diagnostic.message)).toEqual([
      `Pod over cannot be used: ${tooLarge('readinessProbe', 'readiness probe', 1)}`,
    ]);
  });
});
