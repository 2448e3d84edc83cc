// The planner's dependency gate (`berth.dev/depends-on` with conditions), pure: made-up observed
// containers and health files (<state>/health.json as the daemon's prober writes it), whole plans.
import { describe, expect, it } from 'vitest';
import type { HealthFile } from '../../src/health/health-file.js';
import type { LoadedDoc } from '../../src/manifest/kinds.js';
import { type DesiredState, desiredState } from '../../src/reconcile/desired.js';
import {
  type Action,
  ANNOTATION,
  type ObservedContainer,
  type ObservedState,
  OWNER_MANIFESTS,
  plan,
} from '../../src/reconcile/plan.js';
import type { ObservedSandbox } from '../../src/reconcile/sandbox.js';
import { canonicalSpec, specHash } from '../../src/reconcile/spec-hash.js';

const host = { volumes: '/r/volumes', pods: '/r/pods', netns: '/s/netns' };
const IMG = 'registry.lan/app:1';
const DIGEST = 'sha256:aaa';
const NOW = Date.parse('2026-11-30T12:00:00Z');
const READINESS = { httpGet: { port: 80, path: '/ready' }, periodSeconds: 1 };
const STARTUP = { tcpSocket: { port: 80 }, periodSeconds: 1, failureThreshold: 30 };

type Spec = Record<string, unknown>;
function pod(name: string, o: { on?: string; policy?: string; main?: Spec; sidecar?: Spec } = {}): LoadedDoc {
  return {
    file: `/m/${name}.yaml`,
    line: 1,
    doc: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, ...(o.on ? { annotations: { 'berth.dev/depends-on': o.on } } : {}) },
      spec: {
        ...(o.policy ? { restartPolicy: o.policy } : {}),
        ...(o.sidecar
          ? { initContainers: [{ name: 'proxy', image: IMG, restartPolicy: 'Always', ...o.sidecar }] }
          : {}),
        containers: [{ name: 'main', image: IMG, ...o.main }],
      },
    } as LoadedDoc['doc'],
  };
}

/** A container as berth made it from `desired` (spec hash and all), running unless said otherwise. */
function made(d: DesiredState, podName: string, over: Partial<ObservedContainer> = {}, container = 'main') {
  const p = d.pods.find((x) => x.name === podName);
  const c = [...(p?.initContainers ?? []), ...(p?.containers ?? [])].find((x) => x.name === container);
  const spec = canonicalSpec(c as NonNullable<typeof c>, DIGEST);
  return {
    id: `${podName}-${container}-1`,
    name: `${podName}_${container}`,
    state: 'running',
    exitCode: null,
    startedAt: '2026-11-30T11:00:00Z',
    finishedAt: null,
    annotations: {
      [ANNOTATION.owner]: OWNER_MANIFESTS,
      [ANNOTATION.pod]: podName,
      [ANNOTATION.container]: container,
      [ANNOTATION.source]: `/m/${podName}.yaml`,
      [ANNOTATION.hash]: specHash(spec),
      [ANNOTATION.spec]: JSON.stringify(spec),
    },
    ...over,
  } satisfies ObservedContainer;
}

const exited = (code: number | null, at = '2026-11-30T11:30:00Z'): Partial<ObservedContainer> => ({
  state: 'exited',
  exitCode: code,
  finishedAt: at,
  ...(code === null ? { reason: 'lost' as const } : {}),
});

function setUp(...names: string[]): Map<string, ObservedSandbox> {
  return new Map(
    names.map((n) => [
      n,
      { netns: true, network: { state: 'ready' as const, ports: [] }, volumes: {}, source: `/m/${n}.yaml` },
    ]),
  );
}

/** health.json as the daemon writes it, for `db_main` (container id `db-main-1` unless said). */
function health(entry: Partial<HealthFile['containers'][string]>, name = 'db_main'): HealthFile {
  return { pid: 4242, containers: { [name]: { id: 'db-main-1', started: true, ready: false, ...entry } } };
}

const failed503 = {
  lastProbe: { probe: 'readiness' as const, ok: false, message: 'HTTP 503', at: '2026-11-30T11:59:59Z' },
};

function planOf(docs: LoadedDoc[], build: (d: DesiredState) => Omit<ObservedState, 'images'>): Action[] {
  const desired = desiredState(docs, host);
  return plan({
    folder: '/m',
    desired,
    observed: { images: new Map([[IMG, DIGEST]]), ...build(desired) },
    frozen: new Map(),
    now: NOW,
  });
}
const summary = (actions: Action[]) => actions.map((a) => `${a.kind} ${a.reason}`);
const web = (on: string) => pod('web', { on });

describe('depends-on: ready', () => {
  const db = pod('db', { main: { readinessProbe: READINESS } });
  const gate = (h: HealthFile | undefined) =>
    summary(
      planOf([db, web('db')], (d) => ({
        containers: [made(d, 'db')],
        sandboxes: setUp('db', 'web'),
        ...(h ? { health: h } : {}),
      })),
    );

  it('a dependency with a readiness probe and no daemon to probe it: the wait says so', () => {
    expect(gate(undefined)).toEqual([
      'wait web: waiting for db to be ready: probes run only under the daemon (berth daemon)',
    ]);
  });

  it('not probed yet: no result for it, or only for the container it replaced', () => {
    expect(gate({ pid: 1, containers: {} })).toEqual([
      'wait web: waiting for db to be ready: not probed yet',
    ]);
    expect(gate(health({ id: 'db-main-0', ready: true }))).toEqual([
      'wait web: waiting for db to be ready: not probed yet',
    ]);
  });

  it('entries of the wrong shape in the health file count as no result, without a crash', () => {
    const odd = { pid: 1, containers: { db_main: null, web_main: 7 } } as unknown as HealthFile;
    expect(gate(odd)).toEqual(['wait web: waiting for db to be ready: not probed yet']);
  });

  it('its readiness probe fails: the wait says why', () => {
    expect(gate(health(failed503))).toEqual([
      'wait web: waiting for db to be ready: not ready: readiness probe failed: HTTP 503',
    ]);
  });

  it('the prober says ready for the very container that runs: the dependent starts', () => {
    expect(gate(health({ ready: true }))).toEqual(['run web/main: new container']);
  });

  it('without probes, ready is running; a dependency not running keeps the dependent waiting', () => {
    const docs = [pod('db'), web('db')];
    expect(
      summary(planOf(docs, (d) => ({ containers: [made(d, 'db')], sandboxes: setUp('db', 'web') }))),
    ).toEqual(['run web/main: new container']);
    expect(
      summary(
        planOf(docs, (d) => ({
          containers: [made(d, 'db', exited(1, '2026-11-30T11:59:55Z'))],
          sandboxes: setUp('db', 'web'),
        })),
      ),
    ).toEqual([
      'wait db/main: exited 1, restart policy Always, back-off 10 s',
      'wait web: waiting for db to be ready: not running',
    ]);
  });

  it('a native sidecar counts: each container not ready is named', () => {
    const docs = [
      pod('db', { main: { readinessProbe: READINESS }, sidecar: { readinessProbe: READINESS } }),
      web('db'),
    ];
    const h: HealthFile = {
      pid: 1,
      containers: {
        db_proxy: { id: 'db-proxy-1', started: true, ready: false },
        db_main: { id: 'db-main-1', started: true, ready: true },
      },
    };
    const observed = (d: DesiredState) => ({
      containers: [made(d, 'db', {}, 'proxy'), made(d, 'db')],
      sandboxes: setUp('db', 'web'),
      health: h,
    });
    expect(summary(planOf(docs, observed))).toEqual([
      'wait web: waiting for db to be ready: proxy: not ready',
    ]);
    (h.containers.db_proxy as { ready: boolean }).ready = true;
    expect(summary(planOf(docs, observed))).toEqual(['run web/main: new container']);
  });

  it('a dependency that becomes unready does not stop what runs; a restart of the dependent waits again', () => {
    const docs = [db, web('db')];
    const observed = (over: Partial<ObservedContainer>) => (d: DesiredState) => ({
      containers: [made(d, 'db'), made(d, 'web', over)],
      sandboxes: setUp('db', 'web'),
      health: health(failed503),
    });
    expect(planOf(docs, observed({}))).toEqual([]);
    const restart = planOf(docs, observed(exited(2, '2026-11-30T11:00:00Z')));
    expect(summary(restart)).toEqual([
      'wait web: waiting for db to be ready: not ready: readiness probe failed: HTTP 503',
    ]);
    expect(restart[0]).not.toHaveProperty('awaitsExit');
  });

  it('after a reboot (sandboxes gone, every container lost), the dependent is not set up before db is ready', () => {
    const docs = [db, web('db')];
    const lost = (d: DesiredState) => ({
      containers: [made(d, 'db', exited(null)), made(d, 'web', exited(null))],
      sandboxes: setUp(),
      health: { pid: 99, containers: {} },
    });
    expect(summary(planOf(docs, lost))).toEqual([
      'remove db: sandbox gone (host rebooted?): set up again, init containers run again',
      'setup-pod db: sandbox gone (host rebooted?): set up again, init containers run again',
      'run db/main: new container',
      'wait web: waiting for db to be ready: not running',
    ]);
  });
});

describe('depends-on: started', () => {
  const db = pod('db', { main: { startupProbe: STARTUP, readinessProbe: READINESS } });
  const gate = (h: HealthFile | undefined, on = 'db:started') =>
    summary(
      planOf([db, web(on)], (d) => ({
        containers: [made(d, 'db')],
        sandboxes: setUp('db', 'web'),
        ...(h ? { health: h } : {}),
      })),
    );

  it('started but not ready is enough for started, not for ready', () => {
    const h = health({ started: true, ready: false, ...failed503 });
    expect(gate(h)).toEqual(['run web/main: new container']);
    expect(gate(h, 'db')).toEqual([
      'wait web: waiting for db to be ready: not ready: readiness probe failed: HTTP 503',
    ]);
  });

  it('its startup probe has not passed yet: the wait says why', () => {
    const h = health({
      started: false,
      lastProbe: { probe: 'startup', ok: false, message: 'connection refused', at: '2026-11-30T11:59:59Z' },
    });
    expect(gate(h)).toEqual([
      'wait web: waiting for db to have started: not started: startup probe failed: connection refused',
    ]);
    expect(gate(undefined)).toEqual([
      'wait web: waiting for db to have started: probes run only under the daemon (berth daemon)',
    ]);
  });

  it('with only a readiness probe, started is running (ready or not)', () => {
    const docs = [pod('db', { main: { readinessProbe: READINESS } }), web('db:started')];
    expect(
      summary(planOf(docs, (d) => ({ containers: [made(d, 'db')], sandboxes: setUp('db', 'web') }))),
    ).toEqual(['run web/main: new container']);
  });
});

describe('depends-on: completed', () => {
  const gate = (policy: string, setup: (d: DesiredState) => ObservedContainer[]) =>
    planOf([pod('setup', { policy }), web('setup:completed')], (d) => ({
      containers: setup(d),
      sandboxes: setUp('setup', 'web'),
    }));

  it('not run yet, then running (an apply waits for its exit), then exited 0: the dependent starts', () => {
    expect(summary(gate('OnFailure', () => []))).toEqual([
      'run setup/main: new container',
      'wait web: waiting for setup to have completed: not run yet',
    ]);
    const running = gate('OnFailure', (d) => [made(d, 'setup')]);
    expect(running).toEqual([
      {
        kind: 'wait',
        pod: 'web',
        reason: 'web: waiting for setup to have completed: running',
        awaitsExit: true,
        // What holds it, for ps to tell as it stands when asked (dependency-views.ts).
        held: { images: [], dependsOn: [{ pod: 'setup', condition: 'completed' }] },
      },
    ]);
    expect(summary(gate('OnFailure', (d) => [made(d, 'setup', exited(0))]))).toEqual([
      'run web/main: new container',
    ]);
  });

  it('a failed exit: restarted (OnFailure) it may still complete; under Never it never will', () => {
    expect(summary(gate('OnFailure', (d) => [made(d, 'setup', exited(3, '2026-11-30T11:59:58Z'))]))).toEqual([
      'wait setup/main: exited 3, restart policy OnFailure, back-off 10 s',
      'wait web: waiting for setup to have completed: exited 3',
    ]);
    const never = gate('Never', (d) => [made(d, 'setup', exited(3))]);
    expect(never).toEqual([
      {
        kind: 'wait',
        pod: 'web',
        reason:
          'web: waiting for setup to have completed: exited 3, restart policy Never: it will not complete',
        held: { images: [], dependsOn: [{ pod: 'setup', condition: 'completed' }] },
      },
    ]);
  });

  it("a failed exit under the container's own restartPolicy Never, in an OnFailure pod: it will not complete", () => {
    const docs = [
      pod('setup', { policy: 'OnFailure', main: { restartPolicy: 'Never' } }),
      web('setup:completed'),
    ];
    const plan = planOf(docs, (d) => ({
      containers: [made(d, 'setup', exited(3))],
      sandboxes: setUp('setup', 'web'),
    }));
    expect(plan.map((a) => (a as { reason?: string }).reason)).toContain(
      'web: waiting for setup to have completed: exited 3, restart policy Never: it will not complete',
    );
  });

  it('completed stays completed after a reboot: the dependent starts without running setup again', () => {
    const docs = [pod('setup', { policy: 'Never' }), web('setup:completed')];
    expect(
      summary(
        planOf(docs, (d) => ({
          containers: [made(d, 'setup', exited(0)), made(d, 'web', exited(null))],
          sandboxes: setUp(),
        })),
      ),
    ).toEqual([
      'remove web: sandbox gone (host rebooted?): set up again, init containers run again',
      'setup-pod web: sandbox gone (host rebooted?): set up again, init containers run again',
      'run web/main: new container',
    ]);
  });
});

describe('depends-on: several', () => {
  it('every unmet dependency is in the one wait, in the order written', () => {
    const docs = [
      pod('db'),
      pod('setup', { policy: 'Never' }),
      pod('cache', { main: { startupProbe: STARTUP } }),
      web('db,setup:completed,cache:started'),
    ];
    const actions = planOf(docs, (d) => ({
      containers: [made(d, 'setup'), made(d, 'cache')],
      sandboxes: setUp('db', 'setup', 'cache', 'web'),
      health: { pid: 1, containers: { cache_main: { id: 'cache-main-1', started: false, ready: false } } },
    }));
    expect(summary(actions)).toEqual([
      'run db/main: new container',
      'wait web: waiting for db to be ready: not running and setup to have completed: running and cache to have started: not started',
    ]);
  });

  it('a pod whose file is broken and has no last good content (not desired): the prober, else running, counts', () => {
    const desired = desiredState([web('db')], host);
    const dbDesired = desiredState([pod('db', { main: { readinessProbe: READINESS } })], host);
    const observed = (h?: HealthFile): ObservedState => ({
      images: new Map([[IMG, DIGEST]]),
      containers: [made(dbDesired, 'db')],
      sandboxes: setUp('db', 'web'),
      ...(h ? { health: h } : {}),
    });
    const frozen = new Map([['db', 'its file has errors']]);
    const planned = (h?: HealthFile) =>
      summary(plan({ folder: '/other', desired, observed: observed(h), frozen, now: NOW }));
    const kept = 'wait db: kept as it runs (its file has errors)';
    expect(planned(health(failed503))).toEqual([kept, 'wait web: waiting for db to be ready: not ready']);
    expect(planned(health({ ready: true }))).toEqual([kept, 'run web/main: new container']);
    expect(planned()).toEqual([kept, 'run web/main: new container']);
  });
});
