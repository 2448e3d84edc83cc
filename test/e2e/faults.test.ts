// kill -9 of berth at seeded random points, as root with a real registry, runc, conmon and
// overlayfs: during apply (create, recreate, remove, pod setup and teardown), pull (download,
// unpack, naming) and image prune. Each kill is followed by the normal command, after which the
// store verifies (helpers/fsck.ts), nothing leaked on the host (helpers/leaks.ts: mounts, netns,
// cgroups, conmon, runc, bundles), every pod runs as its manifest says, and no running container of
// an unchanged pod was restarted. A point is a delay drawn from the measured length of the work,
// or a moment seen on disk (a bundle appears, a snapshot temp dir appears, …) plus a few ms.
// The seed is printed; `BERTH_FAULT_SEED=<seed> npx vitest run test/e2e/faults.test.ts` replays
// the same points (timing still varies a little: a point is "about here", not one instruction).
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PodView } from '../../src/reconcile/pod-views.js';
import { describeKillAt, type KillAt, runBounded, runKilled } from '../helpers/fault-kill.js';
import { type FolderState, type PodName, writeFolder } from '../helpers/fault-pods.js';
import { applyPoints, pullPoints, storeWatch, sweepPoints } from '../helpers/fault-points.js';
import { fsckStore } from '../helpers/fsck.js';
import {
  buildImage,
  createLayout,
  type Layout,
  populateBusybox,
  populateRandom,
  pushImage,
} from '../helpers/images.js';
import { cgroupsOf, conmonsOf, containerIdsOnDisk, findLeaks, mountsUnder } from '../helpers/leaks.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { prng } from '../helpers/random.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'unshare', 'tar'], {
  root: true,
});
const SEED = Number(process.env.BERTH_FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31));
const APPLY_POINTS = 20;
const PULL_ROUNDS = 15; // a killed pull each round; a killed prune or image rm in two rounds of three
const COMMAND_MS = 90_000; // a normal command that takes longer is a hang (a finding)

interface Container {
  id: string;
  name: string;
  state: string;
  startedAt: string | null;
}

describe.skipIf(skip)('faults: kill -9 of berth anywhere, then the normal command', () => {
  let registry: TestRegistry;
  let layout: Layout;
  let work: string;
  let root: string;
  let state: string;
  let dir: string;
  let small: string;
  let big: string;
  const seenIds = new Set<string>();
  const folder: FolderState = { present: new Set(), version: 0 };
  const random = prng(SEED); // the same seed gives the same kill points
  const between = (lo: number, hi: number) => Math.floor(lo + random() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const global = (...args: string[]) => ['--root', root, '--state', state, ...args];
  const berth = (...args: string[]) => runBounded(global(...args), COMMAND_MS);
  /** Findings, each once, with the point that first showed it; each test reports its own. */
  const findings = new Map<string, string>();
  let reported = 0;
  let killedPoints = 0;
  const note = (point: string, problems: string[]) => {
    for (const p of problems) if (!findings.has(p)) findings.set(p, point);
  };
  const report = () => {
    const mine = [...findings].slice(reported).map(([problem, point]) => `${point}: ${problem}`);
    reported = findings.size;
    return mine;
  };

  const containers = async (): Promise<Container[]> =>
    JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout || '[]');
  const podsOnDisk = () => [...folder.present].map(String);
  const watchIds = () => {
    for (const id of containerIdsOnDisk(root, state)) seenIds.add(id);
  };
  const leaks = () => findLeaks({ work, root, state, pods: podsOnDisk(), seenIds });

  /** Every pod of the folder running, each container of it; `plan` has nothing left to do. */
  const checkPods = async (): Promise<string[]> => {
    const problems: string[] = [];
    const ps = await berth('ps', '-o', 'json');
    const pods = JSON.parse(ps.stdout || '[]') as PodView[];
    for (const name of folder.present) {
      const view = pods.find((p) => p.name === name);
      const notRunning = view?.containers
        .filter((c) => !c.init && c.state !== 'running')
        .map((c) => `${c.name} ${c.state} ${c.lastError ?? ''}`.trim());
      if (view?.phase !== 'Running')
        problems.push(`pod ${name}: ${view?.phase ?? 'missing'} (${notRunning?.join(', ')})`);
    }
    for (const p of pods)
      if (!folder.present.has(p.name as PodName)) problems.push(`pod ${p.name} still there`);
    for (const name of folder.present) {
      const netns = join(state, 'netns', `pod-${name}`);
      if (mountsUnder(netns).length !== 1)
        problems.push(`pod ${name}: ${netns} is not one mounted namespace`);
    }
    const memory = join(root, 'pods/prepared/volumes/work');
    if (folder.present.has('prepared') && mountsUnder(memory).length !== 1)
      problems.push(`pod prepared: its medium: Memory emptyDir ${memory} is not a tmpfs mount`);
    const plan = await berth('plan', dir);
    if (plan.code !== 0)
      problems.push(
        `plan after the pass: exit ${plan.code}: ${(plan.stdout + plan.stderr).trim().split('\n')[0]}`,
      );
    return problems;
  };

  beforeAll(async () => {
    console.log(`fault suite: BERTH_FAULT_SEED=${SEED}`);
    work = await mkdtemp(join(tmpdir(), 'berth-faults-'));
    root = join(work, 'root');
    state = join(work, 'state');
    dir = join(work, 'manifests');
    await mkdir(dir);
    registry = await startRegistry();
    layout = await createLayout();
    await buildImage(layout, 'busybox', [populateBusybox], { cmd: '/bin/sh' });
    // Shares busybox's layer (prune must keep it: pods stand on it), then many small files and a
    // few large ones, so unpack and download each take a while.
    await buildImage(
      layout,
      'big',
      [populateRandom(400, 16 * 1024, 'many'), populateRandom(4, 3 * 1024 * 1024, 'large')],
      {
        from: 'busybox',
      },
    );
    small = `${registry.host}/faults/busybox:1`;
    big = `${registry.host}/faults/big:1`;
    await pushImage(layout, 'busybox', small);
    await pushImage(layout, 'big', big);
  }, 180_000);

  afterAll(async () => {
    if (work) {
      // Everything goes, by hand if berth cannot: only what this test root holds.
      await rm(dir, { recursive: true, force: true }).then(() => mkdir(dir));
      await berth('apply', dir).catch(() => undefined);
      for (const c of (await containers().catch(() => [])).reverse())
        await berth('container', 'rm', '--force', c.name);
      for (const [pid] of conmonsOf(root)) process.kill(pid, 'SIGKILL');
      for (const id of containerIdsOnDisk(root, state)) {
        try {
          execFileSync('runc', ['--root', join(state, 'runc'), 'delete', '--force', id], { stdio: 'ignore' });
        } catch {
          // gone already
        }
      }
      for (const m of mountsUnder(work).reverse()) execFileSync('umount', ['-l', m]);
      for (const id of seenIds) for (const c of cgroupsOf(id)) await rmdir(c).catch(() => undefined);
      await removeTempRoot(work);
    }
    await registry?.stop();
    await layout?.cleanup();
    console.log(`fault suite: BERTH_FAULT_SEED=${SEED}, ${killedPoints} points killed berth mid-work`);
  }, 120_000);

  it('apply killed during create, recreate, remove and pod setup/teardown: the next apply repairs it all', async () => {
    folder.present = new Set(['steady', 'edit', 'prepared']);
    folder.version = 1;
    await writeFolder(dir, small, folder);
    const first = await berth('apply', dir);
    expect([first.code, first.stderr]).toEqual([0, '']);
    // How long an apply takes for each kind of change (measured as we go; the first guess is
    // half the first apply's): delays are drawn from it, so most kills land inside the work.
    const spans = new Map<string, number>();
    note('first apply', [...(await checkPods()), ...leaks()]);

    for (let n = 1; n <= APPLY_POINTS; n++) {
      const before = await containers();
      const change = pick(['edit', 'extra', 'prepared', 'edit+extra'] as const);
      const changed = new Set<string>();
      if (change.includes('edit')) {
        folder.version++;
        changed.add('edit');
      }
      for (const p of ['extra', 'prepared'] as const) {
        if (!change.includes(p)) continue;
        if (folder.present.has(p)) folder.present.delete(p);
        else folder.present.add(p);
        changed.add(p);
      }
      await writeFolder(dir, small, folder);
      const known = new Set(containerIdsOnDisk(root, state));
      const points = applyPoints(
        {
          root,
          state,
          known,
          adds: change.includes('edit') || [...changed].some((p) => folder.present.has(p as PodName)),
          removes: change.includes('edit') || [...changed].some((p) => !folder.present.has(p as PodName)),
          ...(changed.has('prepared') ? { sandboxPod: 'prepared' } : {}),
        },
        between,
      );
      const delay: KillAt = { kind: 'delay', ms: between(0, spans.get(change) ?? first.ms / 2) };
      const at = random() < 0.4 ? delay : pick(points);
      const point = `#${n} apply (${change}) killed ${describeKillAt(at)}`;
      const killed = await runKilled(global('apply', dir), at);
      watchIds();
      if (killed.killed) killedPoints++;
      const pass = await berth('apply', dir);
      watchIds();
      if (pass.code !== 0 || pass.timedOut)
        note(point, [
          `the next apply: exit ${pass.code}${pass.timedOut ? ' (hung)' : ''}: ${pass.stderr.trim().split('\n')[0]}`,
        ]);
      if (!killed.killed) spans.set(change, Math.round(killed.ms * 0.9)); // it took that long: kill sooner
      const after = await containers();
      for (const c of before) {
        if (changed.has(c.name.split('_')[0] as string) || c.state !== 'running') continue;
        const now = after.find((a) => a.name === c.name);
        if (now?.id !== c.id || now?.startedAt !== c.startedAt)
          note(point, [`${c.name} restarted though its pod did not change`]);
      }
      note(point, [...(await checkPods()), ...(await fsckStore(root)), ...leaks()]);
      console.log(
        `${point}: ${killed.killed ? `killed at ${killed.ms} ms` : `finished first (${killed.ms} ms)`}`,
      );
    }
    expect(report(), `BERTH_FAULT_SEED=${SEED}`).toEqual([]);
  }, 360_000); // about 60 s idle; a loaded run (load 17, both cores busy) once took past 150 s

  it('image rm killed while it deletes a snapshot: the next pull unpacks that layer again, whole', async () => {
    // Regression: snapshots were deleted in place (rm -r), so a kill left a half-deleted tree under
    // the published name, and the next pull either took it as unpacked or could not publish over it.
    for (let i = 1; i <= 4; i++) {
      expect((await berth('image', 'pull', big)).code).toBe(0);
      const point = `image rm attempt ${i} killed when a snapshot is being removed`;
      const killed = await runKilled(global('image', 'rm', big), {
        kind: 'when',
        what: 'a snapshot shrinks',
        holds: storeWatch(root).shrinking(),
        extraMs: 0,
      });
      if (killed.killed) killedPoints++;
      if (killed.heldAfterMs !== undefined) note(point, ['a published snapshot was seen half-deleted']);
      await berth('image', 'rm', '--keep-content', big);
      const pull = await berth('image', 'pull', big);
      note(point, [
        ...(pull.code === 0 ? [] : [`the next pull: exit ${pull.code}`]),
        ...(await fsckStore(root, { noDeadTemps: true })),
      ]);
      expect((await berth('image', 'rm', big)).code).toBe(0);
    }
    expect(report(), `BERTH_FAULT_SEED=${SEED}`).toEqual([]);
  }, 60_000);

  it('pull and prune killed while downloading, unpacking, naming and sweeping: the next one leaves a store that verifies', async () => {
    const steadyBefore = (await containers()).filter((c) => c.name.startsWith('steady_'));
    const first = await berth('image', 'pull', big);
    expect([first.code, first.stderr]).toEqual([0, '']);
    let pullSpan = first.ms;
    let gcSpan = 150;
    for (let n = 1; n <= PULL_ROUNDS; n++) {
      // Round by round: a garbage collection killed in `image prune`, then in `image rm`, then none.
      const sweep = (['prune', 'rm', 'none'] as const)[n % 3] as 'prune' | 'rm' | 'none';
      if (sweep === 'none') {
        const rmImage = await berth('image', 'rm', big);
        expect(rmImage.code).toBe(0);
      } else {
        if (sweep === 'prune') expect((await berth('image', 'rm', '--keep-content', big)).code).toBe(0);
        const at: KillAt =
          random() < 0.4 ? { kind: 'delay', ms: between(40, gcSpan) } : pick(sweepPoints(root, between));
        const point = `#${n} image ${sweep} killed ${describeKillAt(at)}`;
        const killed = await runKilled(global('image', ...(sweep === 'rm' ? ['rm', big] : ['prune'])), at);
        if (killed.killed) killedPoints++;
        else gcSpan = Math.max(45, Math.round(killed.ms * 0.9));
        console.log(
          `${point}: ${killed.killed ? `killed at ${killed.ms} ms` : `finished first (${killed.ms} ms)`}`,
        );
        await berth('image', 'rm', '--keep-content', big); // if the killed rm did not get that far
        // Half the time the next command is a pull, not a GC: it must not build on a half-removed snapshot.
        if (random() < 0.5) {
          const prune = await berth('image', 'prune');
          if (prune.code !== 0) note(point, [`the next prune: exit ${prune.code}: ${prune.stderr.trim()}`]);
          note(point, [...(await fsckStore(root, { noDeadTemps: true })), ...leaks()]);
        } else {
          const pull = await berth('image', 'pull', big);
          if (pull.code !== 0) note(point, [`the next pull: exit ${pull.code}: ${pull.stderr.trim()}`]);
          note(point, [...(await fsckStore(root, { noDeadTemps: true })), ...leaks()]);
          expect((await berth('image', 'rm', big)).code).toBe(0);
        }
      }
      const at: KillAt =
        random() < 0.4 ? { kind: 'delay', ms: between(0, pullSpan) } : pick(pullPoints(root, between));
      const point = `#${n} pull killed ${describeKillAt(at)}`;
      const killed = await runKilled(global('image', 'pull', big), at);
      if (killed.killed) killedPoints++;
      console.log(
        `${point}: ${killed.killed ? `killed at ${killed.ms} ms` : `finished first (${killed.ms} ms)`}`,
      );
      const pull = await berth('image', 'pull', big);
      if (pull.code !== 0) note(point, [`the next pull: exit ${pull.code}: ${pull.stderr.trim()}`]);
      if (!killed.killed) pullSpan = Math.round(killed.ms * 0.9);
      note(point, [...(await fsckStore(root, { noDeadTemps: true })), ...leaks()]);
    }
    // The pods stood on busybox's snapshot (big shares it) through every prune.
    const steadyAfter = (await containers()).filter((c) => c.name.startsWith('steady_'));
    expect(steadyAfter).toEqual(steadyBefore);
    note('after the pull rounds', await checkPods());
    expect(report(), `BERTH_FAULT_SEED=${SEED}`).toEqual([]);
  }, 150_000);

  it('after every crash, removing every pod leaves nothing behind', async () => {
    folder.present = new Set();
    await writeFolder(dir, small, folder);
    for (const f of await readdir(dir)) await rm(join(dir, f));
    const pass = await berth('apply', dir);
    watchIds();
    expect([pass.code, pass.stderr]).toEqual([0, '']);
    note('removing every pod', [...(await checkPods()), ...leaks()]);
    expect(killedPoints).toBeGreaterThanOrEqual(30);
    expect(report(), `BERTH_FAULT_SEED=${SEED}`).toEqual([]);
  }, 60_000);
});
