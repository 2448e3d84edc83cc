// `berth.dev/depends-on: db` where db has a readiness probe, as root with real runc, conmon and
// overlayfs, under `berth apply` (which runs no probes): the gate reads <state>/health.json as a
// running daemon's prober writes it. No file: the wait says probes need the daemon; a failing
// readiness probe: the wait says why (in `plan` and `ps`, ps as the prober finds it when asked); a
// result of the container db replaced: not probed yet; ready for the very container that runs: the
// dependent starts. Skipped until the readinessProbe field is honoured (src/manifest/tiers.ts, the
// probes work of issue 14).
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealthFile } from '../../src/health/health-file.js';
import { POD_FIELD_TIERS } from '../../src/manifest/tiers.js';
import type { PodView } from '../../src/reconcile/pod-views.js';
import { runBerth } from '../helpers/cli.js';
import { type E2eHost, setUpE2eHost, tearDownE2eHost } from '../helpers/e2e-host.js';
import { missingPrereqs } from '../helpers/prereqs.js';

const skip =
  missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'unshare'], { root: true }) ||
  POD_FIELD_TIERS['container.readinessProbe']?.tier !== 'honoured';

const LOOP = "trap 'exit 0' TERM; while true; do sleep 1; done";

function manifests(image: string): Record<string, string> {
  const head = (name: string, on = '') =>
    `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n` +
    (on ? `  annotations:\n    berth.dev/depends-on: ${on}\n` : '') +
    `spec:\n  terminationGracePeriodSeconds: 1\n  containers:\n    - name: main\n      image: ${image}\n` +
    `      imagePullPolicy: IfNotPresent\n      command: ["/bin/sh", "-c", ${JSON.stringify(LOOP)}]\n`;
  return {
    'db.yaml': `${head('db')}      readinessProbe:\n        httpGet: {port: 8080, path: /ready}\n        periodSeconds: 1\n`,
    'web.yaml': head('web', 'db'),
  };
}

describe.skipIf(skip)('depends-on: ready, by the prober', () => {
  let e2e: E2eHost | undefined;
  let dir: string;
  let root: string;
  let state: string;
  const berth = (...args: string[]) => runBerth(['--root', root, '--state', state, ...args]);
  const ps = async () => JSON.parse((await berth('ps', '-o', 'json')).stdout) as PodView[];
  const idOf = async (name: string) =>
    (
      JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout) as Array<{ name: string; id: string }>
    ).find((c) => c.name === name)?.id;
  /** health.json as the daemon writes it: whole, replaced at once. */
  const writeHealth = async (h: HealthFile) => {
    const tmp = join(state, '.health.json.tmp');
    await writeFile(tmp, JSON.stringify(h));
    await rename(tmp, join(state, 'health.json'));
  };
  const waits = async () =>
    (await berth('plan', dir)).stdout.split('\n').filter((l) => l.startsWith('wait') || l.startsWith('run'));
  const at = new Date().toISOString();

  beforeAll(async () => {
    e2e = await setUpE2eHost('depends-ready', { repo: 'deps' });
    ({ root, state, dir } = e2e);
    const { image } = e2e;
    for (const [file, text] of Object.entries(manifests(image))) await writeFile(join(dir, file), text);
  }, 180_000);
  afterAll(async () => {
    const { left, leaked } = await tearDownE2eHost(e2e, { berth });
    expect(left).toEqual([]);
    expect(leaked).toEqual([]);
  });

  it('the gate opens only when the prober says the very container that runs is ready', async () => {
    const apply = await berth('apply', dir);
    expect([apply.code, apply.stderr]).toEqual([0, '']);
    const no = 'web: waiting for db to be ready: probes run only under the daemon (berth daemon)';
    expect((await ps()).map((p) => [p.name, p.phase, p.waiting])).toEqual([
      ['db', 'Running', null],
      ['web', 'Pending', no],
    ]);
    const id = (await idOf('db_main')) as string;
    expect(id).toMatch(/^[a-f0-9]{32}$/);
    const probe = { probe: 'readiness' as const, ok: false, message: 'HTTP 503', at };
    await writeHealth({
      pid: process.pid,
      containers: { db_main: { id, started: true, ready: false, lastProbe: probe } },
    });
    const failing = 'web: waiting for db to be ready: not ready: readiness probe failed: HTTP 503';
    expect(await waits()).toEqual([`wait         ${failing}`]);
    expect((await berth('apply', dir)).code).toBe(0);
    expect((await ps()).find((p) => p.name === 'web')?.waiting).toBe(failing);
    expect((await berth('ps')).stdout.split('\n').filter((l) => l.startsWith('web:'))).toEqual([failing]);
    // The probe fails another way since the pass, ready unchanged (a daemon would not look again):
    // ps tells the wait as the prober finds it now, not as the pass did.
    await writeHealth({
      pid: process.pid,
      containers: {
        db_main: { id, started: true, ready: false, lastProbe: { ...probe, message: 'HTTP 500' } },
      },
    });
    expect((await ps()).find((p) => p.name === 'web')?.waiting).toBe(
      'web: waiting for db to be ready: not ready: readiness probe failed: HTTP 500',
    );
    // Ready, but of a container db no longer runs: it counts for nothing.
    await writeHealth({
      pid: process.pid,
      containers: { db_main: { id: 'f'.repeat(32), started: true, ready: true } },
    });
    expect(await waits()).toEqual(['wait         web: waiting for db to be ready: not probed yet']);
    await writeHealth({ pid: process.pid, containers: { db_main: { id, started: true, ready: true } } });
    expect(await waits()).toEqual(['run          web/main: new container']);
    const apply2 = await berth('apply', dir);
    expect([apply2.code, apply2.stderr]).toEqual([0, '']);
    expect((await ps()).map((p) => [p.name, p.phase, p.waiting])).toEqual([
      ['db', 'Running', null],
      ['web', 'Running', null],
    ]);
    // db unready again: web keeps running, and the next plan has nothing to do for it.
    await writeHealth({
      pid: process.pid,
      containers: { db_main: { id, started: true, ready: false, lastProbe: probe } },
    });
    expect(await waits()).toEqual([]);
  }, 120_000);
});
