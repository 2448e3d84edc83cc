// activeDeadlineSeconds in the planner and in what ps shows: a timer until it is due; past it, the
// running containers stop (app first, sidecars last) and the pod is Failed (DeadlineExceeded) with
// nothing restarted, whatever the restart policy; a start recorded for another manifest counts
// for nothing. Whole plans asserted.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LoadedDoc, PodManifest } from '../../src/manifest/kinds.js';
import { readActiveRecordSync, recordFirstStart } from '../../src/reconcile/active-record.js';
import { type DesiredState, desiredState } from '../../src/reconcile/desired.js';
import { ANNOTATION, type ObservedContainer, OWNER_MANIFESTS, plan } from '../../src/reconcile/plan.js';
import { podViews } from '../../src/reconcile/pod-views.js';
import type { ActiveRecord, ObservedSandbox } from '../../src/reconcile/sandbox.js';
import { canonicalSpec, specHash } from '../../src/reconcile/spec-hash.js';
import { buildStatus } from '../../src/reconcile/status.js';

const host = { volumes: '/r/volumes', pods: '/r/pods', netns: '/s/netns' };
const IMG = 'registry.lan/app:1';
const DIGEST = 'sha256:aaa';
const NOW = Date.parse('2026-11-22T12:00:00Z');

function job(spec: Partial<PodManifest['spec']> = {}): LoadedDoc {
  return {
    file: '/m/job.yaml',
    line: 1,
    doc: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'job' },
      spec: {
        activeDeadlineSeconds: 60,
        terminationGracePeriodSeconds: 7,
        initContainers: [{ name: 'side', image: IMG, restartPolicy: 'Always' }],
        containers: [{ name: 'main', image: IMG }],
        ...spec,
      },
    },
  };
}

function running(
  d: DesiredState,
  container: string,
  over: Partial<ObservedContainer> = {},
): ObservedContainer {
  const p = d.pods[0];
  const c = [...(p?.initContainers ?? []), ...(p?.containers ?? [])].find((x) => x.name === container);
  const spec = canonicalSpec(c as NonNullable<typeof c>, DIGEST);
  return {
    id: `${container}-id`,
    name: `job_${container}`,
    state: 'running',
    exitCode: null,
    startedAt: '2026-11-22T11:59:00Z',
    finishedAt: null,
    annotations: {
      [ANNOTATION.owner]: OWNER_MANIFESTS,
      [ANNOTATION.pod]: 'job',
      [ANNOTATION.container]: container,
      [ANNOTATION.source]: '/m/job.yaml',
      [ANNOTATION.hash]: specHash(spec),
      [ANNOTATION.spec]: JSON.stringify(spec),
    },
    ...over,
  };
}

const sandbox = (active?: ActiveRecord): Map<string, ObservedSandbox> =>
  new Map([
    [
      'job',
      {
        netns: true,
        network: { state: 'ready' as const, ports: [] },
        volumes: {},
        source: '/m/job.yaml',
        ...(active ? { active } : {}),
      },
    ],
  ]);

const planAt = (desired: DesiredState, containers: ObservedContainer[], active: ActiveRecord | undefined) =>
  plan({
    folder: '/m',
    desired,
    observed: { images: new Map([[IMG, DIGEST]]), containers, sandboxes: sandbox(active) },
    frozen: new Map(),
    now: NOW,
  });

describe('activeDeadlineSeconds', () => {
  const desired = desiredState([job()], host);
  const manifest = desired.pods[0]?.activeDeadline?.manifest as string;
  const both = [running(desired, 'side'), running(desired, 'main')];

  it('before it is due: nothing to do but a timer at the deadline, which ps does not show as a wait', () => {
    const actions = planAt(desired, both, { since: NOW - 20_000, manifest });
    expect(actions).toEqual([
      { kind: 'wait', pod: 'job', reason: 'job: active deadline in 40 s', until: NOW + 40_000, timer: true },
    ]);
    const status = buildStatus('/m', desired, new Map(), actions, {});
    expect(status.pods.job).toEqual({
      file: '/m/job.yaml',
      containers: ['main'],
      initContainers: ['side'],
      sidecars: ['side'],
    });
  });

  it('past it: the app container stops, then the sidecar, with the grace period; the pod is Failed', () => {
    const actions = planAt(desired, both, { since: NOW - 60_000, manifest });
    const reason = 'job: DeadlineExceeded: active for 60 s (activeDeadlineSeconds)';
    expect(actions).toEqual([
      { kind: 'stop', pod: 'job', container: 'main', id: 'main-id', graceSeconds: 7, reason, turn: 0 },
      { kind: 'stop', pod: 'job', container: 'side', id: 'side-id', graceSeconds: 7, reason, turn: 1 },
      {
        kind: 'wait',
        pod: 'job',
        reason: `${reason}; not started again until its manifest changes`,
        failed: 'DeadlineExceeded',
      },
    ]);
    const status = buildStatus('/m', desired, new Map(), actions, {});
    expect(status.pods.job?.failed).toBe('DeadlineExceeded');
    const views = podViews([], status);
    expect([views[0]?.phase, views[0]?.reason]).toEqual(['Failed', 'DeadlineExceeded']);
  });

  it('once stopped, nothing restarts, even under restartPolicy Always after a clean exit', () => {
    const exited = { state: 'exited' as const, exitCode: 0, finishedAt: '2026-11-22T11:59:30Z' };
    const actions = planAt(desired, [running(desired, 'side', exited), running(desired, 'main', exited)], {
      since: NOW - 3_600_000,
      manifest,
    });
    expect(actions.map((a) => a.kind)).toEqual(['wait']);
  });

  it('a start recorded for another manifest does not count; none recorded: no deadline yet', () => {
    for (const active of [{ since: NOW - 3_600_000, manifest: 'other' }, undefined])
      expect(planAt(desired, both, active)).toEqual([]);
    const changed = desiredState([job({ activeDeadlineSeconds: 61 })], host);
    expect(changed.pods[0]?.activeDeadline?.manifest).not.toBe(manifest);
  });

  it('a start in this boot is measured on the boot clock: the wall clock jumping by years (NTP on a node that booted at 1970) neither expires nor stretches the deadline', async () => {
    const home = await mkdtemp(join(tmpdir(), 'berth-active-'));
    try {
      const pod = { ...(desired.pods[0] as DesiredState['pods'][0]), home };
      const booted = Date.parse('1970-01-01T00:00:40Z');
      const stamp = { boot: 'b00710aa', uptimeMs: 40_000 };
      await recordFirstStart(pod, booted, stamp);
      // 30 s later by the boot clock, NTP has set the wall clock to NOW.
      const later = { boot: 'b00710aa', uptimeMs: 70_000 };
      expect(readActiveRecordSync(home, undefined, { now: NOW, stamp: later })).toEqual({
        since: NOW - 30_000,
        manifest,
      });
      // After a reboot only the wall clock is left.
      expect(
        readActiveRecordSync(home, undefined, { now: NOW, stamp: { boot: 'c0ffee00', uptimeMs: 5_000 } }),
      ).toEqual({ since: booted, manifest });
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it('the record: written once per manifest; a broken or hostile one is no record (the clock starts again)', async () => {
    const home = await mkdtemp(join(tmpdir(), 'berth-active-'));
    try {
      const pod = { ...(desired.pods[0] as DesiredState['pods'][0]), home };
      const stamp = { boot: 'b00710aa', uptimeMs: 40_000 };
      await recordFirstStart(pod, NOW, stamp);
      await recordFirstStart(pod, NOW + 5000); // the same manifest: the first start stays
      expect(readActiveRecordSync(home, undefined, { now: NOW, stamp })).toEqual({ since: NOW, manifest });
      for (const text of [
        '{',
        '{"since":"1","manifest":"x"}',
        '{"since":1e999,"manifest":"x"}',
        'null',
        '[]',
      ]) {
        await writeFile(join(home, 'active.json'), text);
        expect(readActiveRecordSync(home)).toBeUndefined();
      }
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
