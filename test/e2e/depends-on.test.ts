// `berth.dev/depends-on` conditions as root with real runc, conmon and overlayfs, under `berth apply`:
// `setup:completed` starts its dependent only after the setup pod exited 0 (one apply waits for it),
// `db:started` and `db:ready` of a pod without probes (ready = running) start theirs once db runs,
// a setup that failed for good leaves its dependent waiting with the reason in `plan` and `ps`; after
// a reboot the dependents wait for db again (the wait in `plan`), and a finished setup is not rerun;
// after another, a daemon started at boot does the same.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PodView } from '../../src/reconcile/pod-views.js';
import { runBerth, spawnBerth } from '../helpers/cli.js';
import { type E2eHost, setUpE2eHost, tearDownE2eHost } from '../helpers/e2e-host.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { simulateReboot } from '../helpers/reboot.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'unshare'], {
  root: true,
});

const LOOP = "trap 'exit 0' TERM; while true; do sleep 1; done";

interface ContainerJson {
  name: string;
  state: string;
  exitCode: number | null;
  startedAt: string | null;
  finishedAt: string | null;
}

function manifests(image: string): Record<string, string> {
  const pod = (name: string, o: { on?: string; policy?: string; script: string }) =>
    `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n` +
    (o.on ? `  annotations:\n    berth.dev/depends-on: "${o.on}"\n` : '') +
    `spec:\n  terminationGracePeriodSeconds: 1\n${o.policy ? `  restartPolicy: ${o.policy}\n` : ''}` +
    `  containers:\n    - name: main\n      image: ${image}\n      imagePullPolicy: IfNotPresent\n` +
    `      command: ["/bin/sh", "-c", ${JSON.stringify(o.script)}]\n` +
    '      volumeMounts: [{name: data, mountPath: /data}]\n' +
    '  volumes:\n    - {name: data, persistentVolumeClaim: {claimName: deps-data}}\n';
  return {
    // A setup that takes a moment and leaves a file its dependent cannot run without.
    'setup.yaml': pod('setup', {
      policy: 'OnFailure',
      script: 'echo ran >> /data/setup-runs; sleep 1; echo ok > /data/setup-done',
    }),
    'db.yaml': pod('db', { script: `echo up >> /data/db-boots; ${LOOP}` }),
    'api.yaml': pod('api', { on: 'db:started', script: LOOP }),
    'web.yaml': pod('web', {
      on: 'setup:completed,db',
      script: `test -f /data/setup-done || exit 9; ${LOOP}`,
    }),
    // A setup that fails for good: its dependent never starts, and says why.
    'bad.yaml': pod('bad', { policy: 'Never', script: 'exit 3' }),
    'late.yaml': pod('late', { on: 'bad:completed', script: LOOP }),
  };
}

describe.skipIf(skip)('depends-on conditions', () => {
  let e2e: E2eHost | undefined;
  let dir: string;
  let root: string;
  let state: string;
  const berth = (...args: string[]) => runBerth(['--root', root, '--state', state, ...args]);
  const ps = async () => JSON.parse((await berth('ps', '-o', 'json')).stdout) as PodView[];
  const containers = async () =>
    new Map(
      (JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout) as ContainerJson[]).map((c) => [
        c.name,
        c,
      ]),
    );
  const ms = (t: string | null | undefined) => Date.parse(t ?? '');

  beforeAll(async () => {
    e2e = await setUpE2eHost('depends-on', { repo: 'deps' });
    ({ root, state, dir } = e2e);
    const { image } = e2e;
    for (const [file, text] of Object.entries(manifests(image))) await writeFile(join(dir, file), text);
  }, 180_000);
  afterAll(async () => {
    const { left, leaked } = await tearDownE2eHost(e2e, { berth });
    expect(left).toEqual([]);
    expect(leaked).toEqual([]);
  });

  it('one apply: setup completes before web starts, db runs before api and web; a failed setup holds its dependent', async () => {
    const plan = await berth('plan', dir);
    expect(plan.stdout.split('\n').filter((l) => l.startsWith('wait'))).toEqual([
      'wait         api: waiting for db to have started: not running',
      'wait         late: waiting for bad to have completed: not run yet',
      'wait         web: waiting for setup to have completed: not run yet and db to be ready: not running',
    ]);
    const apply = await berth('apply', dir);
    expect([apply.code, apply.stderr]).toEqual([0, '']);
    expect((await ps()).map((p) => [p.name, p.phase, p.waiting])).toEqual([
      ['api', 'Running', null],
      ['bad', 'Failed', null],
      ['db', 'Running', null],
      [
        'late',
        'Pending',
        'late: waiting for bad to have completed: exited 3, restart policy Never: it will not complete',
      ],
      ['setup', 'Succeeded', null],
      ['web', 'Running', null],
    ]);
    const c = await containers();
    expect([...c.keys()].sort()).toEqual(['api_main', 'bad_main', 'db_main', 'setup_main', 'web_main']);
    expect(c.get('setup_main')?.exitCode).toBe(0);
    // Each dependent started after what it waited for: setup's exit, db's start.
    expect(ms(c.get('web_main')?.startedAt)).toBeGreaterThanOrEqual(ms(c.get('setup_main')?.finishedAt));
    expect(ms(c.get('web_main')?.startedAt)).toBeGreaterThanOrEqual(ms(c.get('db_main')?.startedAt));
    expect(ms(c.get('api_main')?.startedAt)).toBeGreaterThanOrEqual(ms(c.get('db_main')?.startedAt));
    const text = (await berth('ps')).stdout;
    expect(text.split('\n').filter((l) => l.startsWith('late:'))).toEqual([
      'late: waiting for bad to have completed: exited 3, restart policy Never: it will not complete',
    ]);
  }, 120_000);

  it('after a reboot the dependents wait for db again; the finished setup is not rerun', async () => {
    await simulateReboot(root, state);
    const plan = await berth('plan', dir);
    const again = 'sandbox gone (host rebooted?): set up again, init containers run again';
    expect(plan.stdout.split('\n').filter((l) => / (api|db|web)[:/]/.test(l))).toEqual([
      'wait         api: waiting for db to have started: not running',
      `remove       db: ${again}`,
      `setup-pod    db: ${again}`,
      'run          db/main: new container',
      'wait         web: waiting for db to be ready: not running',
    ]);
    const apply = await berth('apply', dir);
    expect([apply.code, apply.stderr]).toEqual([0, '']);
    expect((await ps()).map((p) => [p.name, p.phase])).toEqual([
      ['api', 'Running'],
      ['bad', 'Failed'],
      ['db', 'Running'],
      ['late', 'Pending'],
      ['setup', 'Succeeded'],
      ['web', 'Running'],
    ]);
    const c = await containers();
    expect(ms(c.get('web_main')?.startedAt)).toBeGreaterThanOrEqual(ms(c.get('db_main')?.startedAt));
    expect(ms(c.get('api_main')?.startedAt)).toBeGreaterThanOrEqual(ms(c.get('db_main')?.startedAt));
    const volume = join(root, 'volumes', 'deps-data');
    expect(await readFile(join(volume, 'setup-runs'), 'utf8')).toBe('ran\n');
    expect(await readFile(join(volume, 'db-boots'), 'utf8')).toBe('up\nup\n');
  }, 120_000);

  it('after another reboot, a daemon started at boot starts the dependents after db again', async () => {
    await simulateReboot(root, state);
    const daemon = spawnBerth([
      '--root',
      root,
      '--state',
      state,
      'daemon',
      '--manifests',
      dir,
      '--resync',
      '600',
    ]);
    const exited = new Promise((r) => daemon.once('exit', r));
    try {
      const want = JSON.stringify([
        ['api', 'Running'],
        ['bad', 'Failed'],
        ['db', 'Running'],
        ['late', 'Pending'],
        ['setup', 'Succeeded'],
        ['web', 'Running'],
      ]);
      let phases = '';
      for (let i = 0; i < 300 && phases !== want; i++) {
        phases = JSON.stringify((await ps()).map((p) => [p.name, p.phase]));
        if (phases !== want) await new Promise((r) => setTimeout(r, 100));
      }
      expect(phases).toBe(want);
      // Running as Kubernetes means it: started, or to be restarted (after a reboot, before its turn).
      let c = await containers();
      const started = (name: string) => c.get(name)?.state === 'running' && c.get(name)?.startedAt;
      for (let i = 0; i < 300 && !['db_main', 'api_main', 'web_main'].every(started); i++) {
        await new Promise((r) => setTimeout(r, 100));
        c = await containers();
      }
      expect(ms(c.get('web_main')?.startedAt)).toBeGreaterThanOrEqual(ms(c.get('db_main')?.startedAt));
      expect(ms(c.get('api_main')?.startedAt)).toBeGreaterThanOrEqual(ms(c.get('db_main')?.startedAt));
      const volume = join(root, 'volumes', 'deps-data');
      expect(await readFile(join(volume, 'setup-runs'), 'utf8')).toBe('ran\n');
      expect(await readFile(join(volume, 'db-boots'), 'utf8')).toBe('up\nup\nup\n');
    } finally {
      daemon.kill('SIGTERM');
      await exited;
    }
  }, 120_000);
});
