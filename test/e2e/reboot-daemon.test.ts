// A reboot under `berth daemon` (issue 10), as root with real runc, conmon and overlayfs: pods with
// a memory emptyDir and an init container, a disk emptyDir and an init container, a named volume,
// and a `restartPolicy: Never` job that finished. The daemon dies with the power, then the reboot
// (every conmon and container of the root killed by PID, everything under --root and --state
// unmounted, --state wiped, --root kept); a new daemon → every pod runs again, each init container
// ran again (its pod's sandbox was set up again), the named volume's data is intact, and the job
// that had finished did not run a second time; the store verifies and nothing is left of the old
// boot (bundles, mounts, netns files of nothing).
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PodView } from '../../src/reconcile/pod-views.js';
import { runBerth, spawnBerth } from '../helpers/cli.js';
import { fsckStore } from '../helpers/fsck.js';
import { buildImage, createLayout, type Layout, populateBusybox, pushImage } from '../helpers/images.js';
import { conmonsOf, findLeaks, mountsUnder } from '../helpers/leaks.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { simulateReboot } from '../helpers/reboot.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'unshare'], {
  root: true,
});

const LOOP = "trap 'exit 0' TERM; while true; do sleep 1; done";

function podsText(image: string): Record<string, string> {
  const head = (name: string, extra = '') =>
    `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  terminationGracePeriodSeconds: 1\n${extra}`;
  const c = (name: string, script: string, mounts: string) =>
    `    - name: ${name}\n      image: ${image}\n      imagePullPolicy: IfNotPresent\n` +
    `      command: ["/bin/sh", "-c", ${JSON.stringify(script)}]\n      volumeMounts: ${mounts}\n`;
  const log = '{name: log, persistentVolumeClaim: {claimName: reboot-log}}';
  const withInit = (name: string, emptyDir: string) =>
    head(name) +
    `  initContainers:\n${c('init', `date +%s%N > /work/ready; echo init >> /log/${name}-inits`, '[{name: work, mountPath: /work}, {name: log, mountPath: /log}]')}` +
    `  containers:\n${c('main', `cat /work/ready && ${LOOP}`, '[{name: work, mountPath: /work}]')}` +
    `  volumes:\n    - {name: work, emptyDir: ${emptyDir}}\n    - ${log}\n`;
  return {
    'memory.yaml': withInit('memory', '{medium: Memory}'),
    'disk.yaml': withInit('disk', '{}'),
    'store.yaml':
      head('store') +
      `  containers:\n${c('main', `echo up >> /data/boots; ${LOOP}`, '[{name: data, mountPath: /data}]')}` +
      '  volumes:\n    - {name: data, persistentVolumeClaim: {claimName: reboot-data}}\n',
    'job.yaml':
      head('job', '  restartPolicy: Never\n') +
      `  containers:\n${c('main', 'echo ran >> /log/job-runs', '[{name: log, mountPath: /log}]')}` +
      `  volumes:\n    - ${log}\n`,
  };
}

describe.skipIf(skip)('reboot under the daemon', () => {
  let registry: TestRegistry;
  let layout: Layout;
  let work: string;
  let root: string;
  let state: string;
  let dir: string;
  let daemon: ReturnType<typeof spawnBerth> | undefined;
  const berth = (...args: string[]) => runBerth(['--root', root, '--state', state, ...args]);
  const startDaemon = () => {
    daemon = spawnBerth(['--root', root, '--state', state, 'daemon', '--manifests', dir, '--resync', '2']);
  };
  const stopDaemon = async (signal: NodeJS.Signals) => {
    const d = daemon;
    daemon = undefined;
    if (!d || d.exitCode !== null || d.signalCode !== null) return;
    const gone = new Promise((r) => d.once('exit', r));
    d.kill(signal);
    await gone;
  };
  /** Every pod as its manifest says (the job Succeeded, the others Running), within a bound. */
  const waitAllUp = async (): Promise<PodView[]> => {
    let pods: PodView[] = [];
    const want = { memory: 'Running', disk: 'Running', store: 'Running', job: 'Succeeded' };
    for (let i = 0; i < 300; i++) {
      pods = JSON.parse((await berth('ps', '-o', 'json')).stdout || '[]') as PodView[];
      const phases = Object.fromEntries(pods.map((p) => [p.name, p.phase]));
      if (Object.entries(want).every(([n, ph]) => phases[n] === ph)) return pods;
      await new Promise((r) => setTimeout(r, 200));
    }
    return pods;
  };
  const volumeFile = (volume: string, file: string) =>
    readFile(join(root, 'volumes', volume, file), 'utf8').catch(() => '');

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-reboot-daemon-'));
    root = join(work, 'root');
    state = join(work, 'state');
    dir = join(work, 'manifests');
    await mkdir(dir);
    registry = await startRegistry();
    layout = await createLayout();
    await buildImage(layout, 'busybox', [populateBusybox], { cmd: '/bin/sh' });
    const image = `${registry.host}/reboot/busybox:1`;
    await pushImage(layout, 'busybox', image);
    for (const [file, text] of Object.entries(podsText(image))) await writeFile(join(dir, file), text);
  }, 120_000);

  afterAll(async () => {
    await stopDaemon('SIGTERM');
    if (work) {
      await rm(dir, { recursive: true, force: true }).then(() => mkdir(dir));
      await berth('apply', dir);
      const left = JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout || '[]') as Array<{
        name: string;
      }>;
      for (const c of left) await berth('container', 'rm', '--force', c.name);
      for (const [pid] of conmonsOf(root)) process.kill(pid, 'SIGKILL');
      for (const m of mountsUnder(work).reverse()) execFileSync('umount', ['-l', m]);
      await removeTempRoot(work);
    }
    await registry?.stop();
    await layout?.cleanup();
  }, 60_000);

  it('after a reboot every pod runs again, init containers ran again, volumes kept, a finished Never job not rerun', async () => {
    startDaemon();
    const before = await waitAllUp();
    expect(before.map((p) => [p.name, p.phase]).sort()).toEqual([
      ['disk', 'Running'],
      ['job', 'Succeeded'],
      ['memory', 'Running'],
      ['store', 'Running'],
    ]);
    expect(await volumeFile('reboot-data', 'boots')).toBe('up\n');

    await stopDaemon('SIGKILL'); // the power goes
    await simulateReboot(root, state);
    expect(mountsUnder(state)).toEqual([]);
    startDaemon();
    const after = await waitAllUp();
    // One object, so a failure shows every outcome at once.
    expect({
      phases: Object.fromEntries(after.map((p) => [p.name, p.phase])),
      boots: await volumeFile('reboot-data', 'boots'), // kept, and one start more
      memoryInits: await volumeFile('reboot-log', 'memory-inits'),
      diskInits: await volumeFile('reboot-log', 'disk-inits'),
      jobRuns: await volumeFile('reboot-log', 'job-runs'),
      store: await fsckStore(root),
      // Cgroups are left out: a real reboot empties them, a simulated one may not.
      leaks: findLeaks({ work, root, state, pods: ['memory', 'disk', 'store', 'job'], seenIds: new Set() }),
    }).toEqual({
      phases: { disk: 'Running', job: 'Succeeded', memory: 'Running', store: 'Running' },
      boots: 'up\nup\n',
      memoryInits: 'init\ninit\n',
      diskInits: 'init\ninit\n',
      jobRuns: 'ran\n',
      store: [],
      leaks: [],
    });
  }, 150_000);
});
