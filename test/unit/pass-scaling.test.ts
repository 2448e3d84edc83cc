// A pass over many pods costs each pod a bounded number of looks at the pods and containers, not
// one look at every other pod: a lookup by name that scanned desired.pods (or every observed
// container) inside a loop over pods or actions made plan, execute and status pods × actions.
// Counted, not timed: every read of an element of the pass's pod, container and file lists is
// counted through a Proxy on the arrays, for 2,000 and 4,000 pods; twice the pods must cost about
// twice the reads (a square: four times), and a few reads per pod at most.
import { describe, expect, it } from 'vitest';
import { DEPENDS_ON } from '../../src/manifest/dependencies.js';
import type { LoadedDoc } from '../../src/manifest/kinds.js';
import { type DesiredState, desiredState } from '../../src/reconcile/desired.js';
import { createExecutor } from '../../src/reconcile/execute.js';
import {
  ANNOTATION,
  type ObservedContainer,
  type ObservedState,
  OWNER_MANIFESTS,
  plan,
} from '../../src/reconcile/plan.js';
import { desiredSpecHash } from '../../src/reconcile/spec-hash.js';
import { buildStatus } from '../../src/reconcile/status.js';
import { createTasks } from '../../src/reconcile/tasks.js';

const host = { volumes: '/r/volumes', pods: '/r/pods', netns: '/s/netns' };
const NOW = Date.parse('2026-12-04T04:00:00Z');
const DIGEST = 'sha256:aaa';
const IMAGE = 'docker.io/library/busybox:1';

/** `list` with every read of one of its elements counted in `reads.n`. */
function counted<T>(list: T[], reads: { n: number }): T[] {
  return new Proxy(list, {
    get(target, key, receiver) {
      if (typeof key === 'string' && /^\d+$/.test(key)) reads.n++;
      return Reflect.get(target, key, receiver);
    },
  });
}

const name = (i: number) => `p${String(i).padStart(5, '0')}`;

/** n pods, each in a file of its own, each depending on the one before; the even ones run. */
function pass(n: number) {
  const docs: LoadedDoc[] = Array.from({ length: n }, (_, i) => ({
    doc: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: name(i), ...(i > 0 ? { annotations: { [DEPENDS_ON]: name(i - 1) } } : {}) },
      spec: {
        hostNetwork: true,
        containers: [{ name: 'main', image: 'busybox:1', command: ['sleep', '1d'] }],
      },
    },
    file: `/m/${name(i)}.yaml`,
    line: 1,
  }));
  const built = desiredState(docs, host);
  const containers: ObservedContainer[] = built.pods
    .filter((_, i) => i % 2 === 0)
    .map((p) => ({
      id: `${p.name}-id`,
      name: `${p.name}_main`,
      state: 'running',
      exitCode: null,
      startedAt: '2026-12-04T03:00:00Z',
      finishedAt: null,
      annotations: {
        [ANNOTATION.owner]: OWNER_MANIFESTS,
        [ANNOTATION.pod]: p.name,
        [ANNOTATION.container]: 'main',
        [ANNOTATION.source]: p.file,
        [ANNOTATION.hash]: desiredSpecHash(
          p.containers[0] as DesiredState['pods'][0]['containers'][0],
          DIGEST,
        ),
      },
    }));
  const reads = { n: 0 };
  const desired: DesiredState = { ...built, pods: counted(built.pods, reads) };
  const observed: ObservedState = {
    images: new Map([[IMAGE, DIGEST]]),
    containers: counted(containers, reads),
    sandboxes: new Map(),
  };
  return { built, desired, observed, reads, files: built.pods.map((p) => p.file) };
}

/** Reads of the pass's lists by plan, by execute's start and by status, for n pods. */
async function readsOf(n: number) {
  const { built, desired, observed, reads, files } = pass(n);
  const actions = plan({ desired, observed, frozen: new Map(), now: NOW, folder: '/m' });
  // The odd pods start, each once the even one before it is ready (running, no probes).
  expect(actions.filter((a) => a.kind === 'run')).toHaveLength(n / 2);
  const planned = reads.n;
  // What start does for each pod before its task runs (the images its runs need, what it does
  // first), given the pods afresh (no index of plan's to reuse); berth stopping, no action of a task runs.
  const tasks = createTasks();
  const executor = createExecutor(
    { rt: {} as never, host, pull: async () => undefined, signal: AbortSignal.abort() },
    tasks,
  );
  reads.n = 0;
  expect(executor.start(actions, { ...built, pods: counted([...built.pods], reads) })).toHaveLength(n / 2);
  await tasks.idle();
  const started = reads.n;
  // Half the pods kept as they run, every file applied from its last good content.
  reads.n = 0;
  const frozen = new Map(
    desired.pods.filter((_, i) => i % 2 === 0).map((p) => [p.name, 'defined more than once']),
  );
  const status = buildStatus(
    '/m',
    desired,
    frozen,
    [],
    {},
    counted(files, reads),
    counted(files.slice(0, n / 2), reads),
  );
  expect(Object.keys(status.pods)).toHaveLength(n);
  return { planned, started, status: reads.n };
}

describe('a pass over thousands of pods', () => {
  it('plan, execute and status read each pod a bounded number of times (2,000 vs 4,000 pods)', async () => {
    const small = await readsOf(2000);
    const large = await readsOf(4000);
    for (const step of ['planned', 'started', 'status'] as const) {
      expect(large[step], step).toBeLessThanOrEqual(30 * 4000);
      expect(large[step], step).toBeLessThanOrEqual(2.5 * small[step]);
    }
  }, 60_000);
});
