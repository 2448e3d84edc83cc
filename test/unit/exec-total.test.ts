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

// A0 is 63 characters, each next one doubles it: A11 is 126 KiB, `A11=…` under the 128 KiB one string
// may be (MAX_ARG_STRLEN).
const DOUBLINGS: Container['env'] = [
  { name: 'A0', value: 'x'.repeat(63) },
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
          message: `Pod bomb cannot be used: container main: env E6 makes its arguments and environment more than ${MAX_EXEC_TOTAL} bytes, the most berth passes to one container (Linux takes 2 MiB for both together)`,
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

  it("counts the container's environment in bytes, and a probe's command as expanded ($$(B0) is the 5 bytes $(B0)); httpGet and the like are not exec", () => {
    // B0=… to B7=…: 125,004 bytes each with its NUL, 1,000,032 together.
    const env = Array.from({ length: 8 }, (_, i) => ({ name: `B${i}`, value: 'é'.repeat(62_500) }));
    const probe = (command: string[]) => ({ readinessProbe: { exec: { command } } });
    // 1,000,032 + 6 + 48,538 = 1,048,576: just at the bound; one byte more crosses.
    const at = pod('at', { env, ...probe(['$$(B0)', 'a'.repeat(48_537)]) });
    const over = pod('over', { env, ...probe(['$$(B0)', 'a'.repeat(48_538)]) });
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

// Each string on its own: Linux refuses one argument or `NAME=value` of more than MAX_ARG_STRLEN
// bytes with its NUL (E2BIG), whatever the total. As written, it was let through and runc failed at
// every start; now the pod is unusable at load, naming the container and the field.
describe('one argument or environment string is bounded by MAX_ARG_STRLEN', () => {
  const LIMIT = MAX_EXPANDED - 1; // bytes without the NUL
  const message = (field: string, bytes: number) =>
    `container main: ${field} is ${bytes} bytes, more than ${LIMIT}, the most Linux passes in one argument or environment string (MAX_ARG_STRLEN, ${MAX_EXPANDED} with its NUL; an env string is NAME=value)`;
  const unusable = (doc: LoadedDoc) =>
    (desiredState([doc], host).unusable ?? []).map(
      (u) => `${u.diagnostic.file}:${u.diagnostic.line} ${u.diagnostic.code} ${u.diagnostic.message}`,
    );

  it('a command, args element or env value as written, in bytes: at the bound used, one byte more refused', () => {
    expect(unusable(podDoc('at', { command: ['x'.repeat(LIMIT)], args: ['é'.repeat(65_535)] }))).toEqual([]);
    expect(unusable(podDoc('cmd', { command: ['x'.repeat(LIMIT + 1)] }, 4))).toEqual([
      `/m/cmd.yaml:4 ERR_EXEC_TOO_LARGE Pod cmd cannot be used: ${message('command[0]', LIMIT + 1)}`,
    ]);
    expect(unusable(podDoc('args', { args: ['a', 'é'.repeat(65_536)] }))).toEqual([
      `/m/args.yaml:1 ERR_EXEC_TOO_LARGE Pod args cannot be used: ${message('args[1]', 131_072)}`,
    ]);
    // E=… is 2 bytes more than its value.
    expect(unusable(podDoc('env-at', { env: [{ name: 'E', value: 'v'.repeat(LIMIT - 2) }] }))).toEqual([]);
    expect(unusable(podDoc('env', { env: [{ name: 'E', value: 'v'.repeat(LIMIT - 1) }] }))).toEqual([
      `/m/env.yaml:1 ERR_EXEC_TOO_LARGE Pod env cannot be used: ${message('env E', LIMIT + 1)}`,
    ]);
  });

  it('an exec hook or probe argument too', () => {
    const c = { livenessProbe: { exec: { command: ['sh', 'z'.repeat(LIMIT + 1)] } } } as Partial<Container>;
    expect(unusable(podDoc('probe', c))).toEqual([
      `/m/probe.yaml:1 ERR_EXEC_TOO_LARGE Pod probe cannot be used: ${message('livenessProbe.exec.command[1]', LIMIT + 1)}`,
    ]);
  });
});
