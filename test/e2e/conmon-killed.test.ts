// A container's conmon killed (SIGKILL) while `berth apply` waits for that container, as root with
// real runc, conmon and overlayfs. conmon writes the exit file an apply wakes on; killed, it never
// does. Regression: an apply waiting for `setup:completed` (a dependency running to completion) then
// waited for ever, holding the reconcile lock, so every later apply of that state blocked too. Now
// the wait watches the process left to tell of the end (conmon, else the container's own), and the
// apply ends with the container lost (no exit code; a Lost event), its lock released; the pods are
// removed as any others, leaving no mount, conmon or process behind.
import { readFileSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endChild, spawnBerth } from '../helpers/cli.js';
import { type E2eHost, setUpE2eHost, tearDownE2eHost } from '../helpers/e2e-host.js';
import { conmonsOf, findLeaks } from '../helpers/leaks.js';
import { until } from '../helpers/poll.js';
import { missingPrereqs } from '../helpers/prereqs.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'unshare'], {
  root: true,
});

/** How long the apply may take once the container is gone (it took forever before the fix). */
const APPLY_BOUND_MS = 60_000;

/** Host pids of processes whose command line is exactly `argv` (the test's unique marker). */
async function processesRunning(argv: string[]): Promise<number[]> {
  const want = `${argv.join('\0')}\0`;
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    if ((await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '')) === want) out.push(Number(name));
  }
  return out;
}

const parentOf = (pid: number) =>
  Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);

describe.skipIf(skip)('a conmon killed while berth apply waits', () => {
  let e2e: E2eHost | undefined;
  let root = '';
  let state = '';
  let dir = '';
  const berth = (...args: string[]) => (e2e as E2eHost).berth(...args);

  beforeAll(async () => {
    e2e = await setUpE2eHost('conmon-killed', { repo: 'killed' });
    ({ root, state, dir } = e2e);
  }, 180_000);
  afterAll(async () => {
    const { left, leaked } = await tearDownE2eHost(e2e);
    expect(left).toEqual([]);
    expect(leaked).toEqual([]);
  });

  /** A pod of restartPolicy Never whose containers are `containers` (YAML list items, indented). */
  const podYaml = (name: string, o: { on?: string; init?: string; containers: string }) =>
    `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n` +
    (o.on ? `  annotations:\n    berth.dev/depends-on: "${o.on}"\n` : '') +
    `spec:\n  terminationGracePeriodSeconds: 1\n  restartPolicy: Never\n` +
    (o.init ? `  initContainers:\n${o.init}` : '') +
    `  containers:\n${o.containers}`;
  const container = (name: string, argv: string[]) =>
    `    - name: ${name}\n      image: ${(e2e as E2eHost).image}\n      command: ${JSON.stringify(argv)}\n`;
  /** A marker no other process has: `sleep` with a number of seconds of its own. */
  const marker = () => ['sleep', String(900_000 + Math.floor(Math.random() * 99_999))];

  /**
   * `berth apply` started, the container running `argv` found, its conmon SIGKILLed, then (a moment
   * later, so that the apply has likely looked again while it still ran) the container itself; the
   * apply's exit code once it ended, or a failure when it did not within APPLY_BOUND_MS.
   */
  async function applyKillingConmon(
    argv: string[],
  ): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const apply = spawnBerth(['--root', root, '--state', state, 'apply', dir]);
    let stdout = '';
    let stderr = '';
    apply.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    apply.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<number | null>((r) => apply.once('exit', (code) => r(code)));
    try {
      let pid = 0;
      await until('the container runs', async () => {
        pid = (await processesRunning(argv))[0] ?? 0;
        return pid > 0;
      });
      const conmon = parentOf(pid);
      expect([...conmonsOf(root).keys()]).toContain(conmon);
      process.kill(conmon, 'SIGKILL'); // first, so that nobody records the exit
      await new Promise((r) => setTimeout(r, 1500));
      process.kill(pid, 'SIGKILL');
      const bound = new Promise<'hung'>((r) => setTimeout(r, APPLY_BOUND_MS, 'hung').unref());
      const code = await Promise.race([exited, bound]);
      expect(code, `apply did not end within ${APPLY_BOUND_MS / 1000} s of the kill: ${stderr}`).not.toBe(
        'hung',
      );
      return { code: code as number | null, stdout, stderr };
    } finally {
      await endChild(apply, 'SIGKILL'); // only when it hung: the lock goes with it
    }
  }

  /** Both pods' files removed and applied: nothing of them is left running or mounted. */
  async function removeAll(files: string[], argv: string[]): Promise<void> {
    for (const f of files) await rm(join(dir, f));
    const removed = await berth('apply', dir);
    expect([removed.code, removed.stderr]).toEqual([0, '']);
    expect(JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout)).toEqual([]);
    expect(await processesRunning(argv)).toEqual([]);
    // No mount, netns, conmon, runc container, cgroup or pod directory left.
    const h = e2e as E2eHost;
    expect(findLeaks({ work: h.work, root, state, pods: [], seenIds: h.seenIds })).toEqual([]);
  }

  it('an apply waiting for a completion whose conmon was killed ends, lost; its lock is released', async () => {
    const argv = marker();
    await writeFile(join(dir, 'setup.yaml'), podYaml('setup', { containers: container('main', argv) }));
    await writeFile(
      join(dir, 'web.yaml'),
      podYaml('web', { on: 'setup:completed', containers: container('main', ['sleep', '1']) }),
    );
    const r = await applyKillingConmon(argv);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('wait'))).toEqual([
      'wait         web: waiting for setup to have completed: lost with no exit code (the host went down, or its monitor was killed), restart policy Never: it will not complete',
    ]);
    const lost = (
      await berth('events', '--until', '0s', '--output', 'json', '--filter', 'reason=Lost')
    ).stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { object: string });
    expect(lost.map((e) => e.object)).toEqual(['setup/main']);
    // The lock is free: another apply runs at once, and finds the same.
    const again = await berth('apply', dir);
    expect([again.code, again.stderr]).toEqual([0, '']);
    await removeAll(['setup.yaml', 'web.yaml'], argv);
  }, 180_000);

  it('an init container whose conmon was killed fails its pod, saying so, instead of "exited null"', async () => {
    const argv = marker();
    await writeFile(
      join(dir, 'prep.yaml'),
      podYaml('prep', { init: container('init', argv), containers: container('main', ['sleep', '1']) }),
    );
    const r = await applyKillingConmon(argv);
    expect([r.code, r.stderr]).toEqual([
      1,
      'failed run          prep/init: init container: ERR_INIT_FAILED: init container prep_init ended with no exit code (its conmon was killed)\n',
    ]);
    await removeAll(['prep.yaml'], argv);
  }, 180_000);
});
