// A daemon's scoped pass (reconcile/observe-scope.ts, observe-merge.ts): which pods a pass reads
// again, and the last observation with that part put in. Pure; each test asserts the whole result.
import { describe, expect, it } from 'vitest';
import type { DesiredState } from '../../src/reconcile/desired.js';
import { countPods, mergeObservation, type PartialObservation } from '../../src/reconcile/observe-merge.js';
import { podsToObserve, type ScopeInput } from '../../src/reconcile/observe-scope.js';
import type { ObservedContainer, ObservedState } from '../../src/reconcile/plan-types.js';
import type { ObservedSandbox } from '../../src/reconcile/sandbox.js';

const container = (
  id: string,
  pod: string | undefined,
  state: ObservedContainer['state'] = 'running',
): ObservedContainer => ({
  id,
  name: `${pod ?? 'loose'}_main`,
  state,
  exitCode: state === 'exited' ? 1 : null,
  startedAt: '2026-12-01T00:00:00Z',
  finishedAt: null,
  annotations: pod
    ? { 'berth.dev/owner': 'manifests', 'berth.dev/pod': pod, 'berth.dev/source': `/m/${pod}.yaml` }
    : {},
  reason: null,
  oomKilled: false,
});

const sandbox = (pod: string, netns = true): ObservedSandbox => ({
  netns,
  volumes: {},
  source: `/m/${pod}.yaml`,
});

function observed(containers: ObservedContainer[], pods: string[]): ObservedState {
  return {
    images: new Map([['busybox', 'sha256:1']]),
    containers,
    sandboxes: new Map(pods.map((p) => [p, sandbox(p)])),
    badRecords: [],
  };
}

const desired = (pods: Array<[string, string]>, unusable: Array<[string, string]> = []) =>
  ({
    pods: pods.map(([name, file]) => ({ name, file })),
    images: [],
    unusable: unusable.map(([name, file]) => ({
      kind: 'Pod',
      name,
      diagnostic: { file, line: 1, col: 1, code: 'ERR', message: '' },
    })),
  }) as unknown as DesiredState;

describe('podsToObserve', () => {
  const last = observed(
    [container('a1', 'web'), container('b1', 'db'), container('c1', undefined)],
    ['web', 'db'],
  );
  const none: ScopeInput['finished'] = { done: [], failed: [] };
  const base = {
    files: new Set<string>(),
    pods: new Set<string>(),
    desired: desired([
      ['web', '/m/web.yaml'],
      ['db', '/m/db.yaml'],
      ['new', '/m/new.yaml'],
    ]),
    loaded: { duplicates: [] },
    last,
    inFlight: [],
    finished: none,
  };

  it('a file dropped: the pods it defines now, and no other', () => {
    expect(podsToObserve({ ...base, files: new Set(['/m/new.yaml']) })).toEqual(new Set(['new']));
  });

  it('a file removed: the pods it made, by their sandboxes and containers', () => {
    const gone = observed([container('x1', 'old')], []);
    gone.sandboxes.set('half', { netns: false, volumes: {}, source: '/m/old.yaml' });
    expect(podsToObserve({ ...base, last: gone, files: new Set(['/m/old.yaml']) })).toEqual(
      new Set(['old', 'half']),
    );
  });

  it('a file renamed (its pod now in another file): the pod, by its new file and by what its old one made', () => {
    const moved = { ...base, desired: desired([['web', '/m/web2.yaml']]) };
    expect(podsToObserve({ ...moved, files: new Set(['/m/web.yaml']) })).toEqual(new Set(['web']));
    expect(podsToObserve({ ...moved, files: new Set(['/m/web2.yaml']) })).toEqual(new Set(['web']));
  });

  it('pods named by a trigger, pods of tasks in progress or reported, duplicates and unusable pods of the file', () => {
    expect(
      podsToObserve({
        ...base,
        desired: desired([['web', '/m/web.yaml']], [['bad', '/m/bad.yaml']]),
        files: new Set(['/m/bad.yaml']),
        pods: new Set(['ended']),
        loaded: { duplicates: ['Pod/twice', 'Pod/team/twice', 'ConfigMap/cfg'] },
        inFlight: ['pod/busy', 'image/busybox:latest'],
        finished: {
          done: [
            { kind: 'setup-pod', pod: 'made', reason: '' },
            { kind: 'pull', image: 'busybox', for: ['web/main'], reason: '' },
          ],
          failed: [
            {
              action: {
                kind: 'run',
                pod: 'broke',
                container: 'main',
                restarts: 0,
                backoffMs: 0,
                waitForExit: false,
                reason: '',
              },
            },
          ],
        },
      }),
    ).toEqual(new Set(['ended', 'bad', 'twice', 'team.twice', 'busy', 'made', 'broke']));
  });

  it('nothing named: no pod (images, bad records and health are read whole anyway)', () => {
    expect(podsToObserve(base)).toEqual(new Set());
  });
});

describe('mergeObservation', () => {
  const last = observed(
    [container('a1', 'web'), container('b1', 'db'), container('c1', undefined), container('d1', 'api')],
    ['web', 'db', 'api'],
  );
  const part = (p: Partial<PartialObservation>): PartialObservation => ({
    scope: new Set(),
    containerIds: ['a1', 'b1', 'c1', 'd1'],
    containers: [],
    sandboxNames: ['web', 'db', 'api'],
    sandboxes: new Map(),
    images: new Map([['busybox', 'sha256:2']]),
    badRecords: [{ id: 'e'.repeat(32), pod: 'zzz' }],
    ...p,
  });

  it('a pod read again replaces its old self in place; the rest is reused; a new pod comes last', () => {
    const webExited = container('a1', 'web', 'exited');
    const merged = mergeObservation(
      last,
      part({
        scope: new Set(['web', 'new']),
        containerIds: ['a1', 'b1', 'c1', 'd1', 'n1'],
        containers: [webExited, container('c1', undefined, 'exited'), container('n1', 'new')],
        sandboxNames: ['web', 'db', 'api', 'new'],
        sandboxes: new Map([
          ['web', sandbox('web', false)],
          ['new', sandbox('new')],
        ]),
      }),
    );
    expect(merged).toEqual({
      images: new Map([['busybox', 'sha256:2']]),
      containers: [
        webExited,
        container('b1', 'db'),
        container('c1', undefined, 'exited'),
        container('d1', 'api'),
        container('n1', 'new'),
      ],
      sandboxes: new Map([
        ['web', sandbox('web', false)],
        ['db', sandbox('db')],
        ['api', sandbox('api')],
        ['new', sandbox('new')],
      ]),
      badRecords: [{ id: 'e'.repeat(32), pod: 'zzz' }],
    });
    expect(countPods(merged)).toBe(4);
  });

  it('what is no longer listed goes, in scope or not; an in-scope one not read again is never reused', () => {
    const merged = mergeObservation(
      last,
      part({
        scope: new Set(['web']),
        containerIds: ['a1', 'c1'], // b1 (db) removed by hand, d1 too; a1 (web) listed but its record gone
        containers: [],
        sandboxNames: ['web', 'api'],
        sandboxes: new Map(),
      }),
    );
    expect(merged.containers).toEqual([]);
    expect([...merged.sandboxes.keys()]).toEqual(['api']);
  });
});
