// shareProcessNamespace end to end, as root, with real runc, conmon and catatonit: the pod's
// containers (init ones too) share one PID namespace whose PID 1 is the pod's holder (catatonit -P), not an app;
// a container sees the other's processes, its root through /proc/<pid>/root, and can signal it;
// an orphan that exits is reaped (no zombie left); the holder killed -9 breaks the sandbox and the
// next apply makes it again with the pod running; teardown leaves no holder and no mount; a pod
// without the field keeps a PID namespace of its own (its process is PID 1).
import { readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isOwnerAlive } from '../../src/lib/process.js';
import type { PodView } from '../../src/reconcile/pod-views.js';
import { runBerth } from '../helpers/cli.js';
import { type E2eHost, setUpE2eHost, tearDownE2eHost } from '../helpers/e2e-host.js';
import { missingPrereqs } from '../helpers/prereqs.js';

const skip = missingPrereqs(
  ['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'unshare', 'catatonit'],
  {
    root: true,
  },
);

/** Polls `check` until it returns a value (not undefined), at most `ms`. */
async function waitFor<T>(what: string, check: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await delay(50);
  }
}

describe.skipIf(skip)('shareProcessNamespace', () => {
  let host: E2eHost | undefined;
  let work: string;
  let dir: string;
  let root: string;
  let state: string;
  let image: string;
  const berth = (...args: string[]) => runBerth(['--root', root, '--state', state, ...args]);
  const ps = async () => JSON.parse((await berth('ps', '-o', 'json')).stdout) as PodView[];
  /** `ps -o pid,stat,args` inside a container: one [pid, stat, args] per process, but ps itself. */
  const processes = async (container: string) => {
    const r = await berth('container', 'exec', container, '--', 'ps', '-o', 'pid,stat,args');
    expect(r.code, r.stderr).toBe(0);
    return r.stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/))
      .map(([pid, stat, ...args]) => [Number(pid), stat, args.join(' ')] as [number, string, string])
      .filter(([, , args]) => args !== 'ps -o pid,stat,args');
  };
  const holder = () =>
    JSON.parse(readFileSync(join(root, 'pods', 'shared', 'pidns.json'), 'utf8')) as { owner: string };
  const shared = (image: string) =>
    `apiVersion: v1\nkind: Pod\nmetadata: {name: shared}\nspec:\n  shareProcessNamespace: true\n` +
    `  terminationGracePeriodSeconds: 1\n` +
    `  initContainers:\n    - name: init\n      image: ${image}\n` +
    `      command: [sh, -c, 'tr "\\\\0" " " < /proc/1/cmdline; echo']\n` +
    `  containers:\n` +
    `    - name: a\n      image: ${image}\n      command: [sleep, "1000"]\n` +
    `    - name: b\n      image: ${image}\n` +
    `      command: [sh, -c, 'echo b-was-here > /tmp/mark; (sleep 0.3 &); sleep 2500 & exec sleep 2000']\n`;

  beforeAll(async () => {
    host = await setUpE2eHost('pidns');
    ({ work, root, state, dir, image } = host);
  }, 180_000);
  afterAll(async () => {
    const { leaked } = await tearDownE2eHost(host);
    expect(leaked).toEqual([]);
  });

  it('containers share one PID namespace: PID 1 is the holder, an orphan is reaped, /proc/<pid>/root is reachable', async () => {
    await writeFile(join(dir, 'shared.yaml'), shared(image));
    const apply = await berth('apply', dir);
    expect(apply.code, apply.stderr).toBe(0);
    const hostPid = Number.parseInt(holder().owner, 10);
    expect(readFileSync(`/proc/${hostPid}/cmdline`, 'utf8')).toBe('catatonit\0-P\0');
    // The orphan (sleep 0.3, its parent subshell gone) is reparented to PID 1, which reaps it: in the
    // end the namespace holds exactly the holder and the two apps, no zombie.
    const seen = await waitFor('the orphan to be reaped', async () => {
      const list = await processes('shared_a');
      return list.length === 4 ? list : undefined;
    });
    expect(seen.map(([pid, stat, args]) => [pid === 1 ? 1 : 'other', stat.startsWith('Z'), args])).toEqual([
      [1, false, 'catatonit -P'],
      ['other', false, 'sleep 1000'],
      ['other', false, 'sleep 2000'],
      ['other', false, 'sleep 2500'],
    ]);
    // The same list from the other container: one namespace.
    expect(await processes('shared_b')).toEqual(seen);
    const bPid = seen.find(([, , args]) => args === 'sleep 2000')?.[0] as number;
    const mark = await berth('container', 'exec', 'shared_a', '--', 'cat', `/proc/${bPid}/root/tmp/mark`);
    expect([mark.code, mark.stdout]).toEqual([0, 'b-was-here\n']);
    // The init container ran in it too: its PID 1 was the holder.
    expect((await berth('logs', 'shared/init')).stdout).toBe('catatonit -P \n');
  });

  it("a container signals another's process; what it leaves goes when it is removed", async () => {
    const bPid = (await processes('shared_a')).find(([, , args]) => args === 'sleep 2000')?.[0] as number;
    const kill = await berth('container', 'exec', 'shared_a', '--', 'kill', '-KILL', String(bPid));
    expect(kill.code, kill.stderr).toBe(0);
    const b = await waitFor('b to have exited', async () => {
      const c = (await ps()).find((p) => p.name === 'shared')?.containers.find((x) => x.name === 'b');
      return c?.state === 'exited' ? c : undefined;
    });
    expect(b.exitCode).toBe(137);
    // b's background child outlived its main process (reparented to the holder); b removed takes
    // it with it (runc kills what is left in the cgroup of a container without its own PID namespace).
    const left = (await processes('shared_a')).map(([, , args]) => args);
    expect(left).toEqual(['catatonit -P', 'sleep 1000', 'sleep 2500']);
    const rmB = await berth('container', 'rm', '--force', 'shared_b');
    expect(rmB.code, rmB.stderr).toBe(0);
    expect((await processes('shared_a')).map(([, , args]) => args)).toEqual(['catatonit -P', 'sleep 1000']);
  });

  it('the holder killed -9 breaks the sandbox: the next apply makes it again and the pod runs', async () => {
    const old = holder().owner;
    const oldPid = Number.parseInt(old, 10);
    process.kill(oldPid, 'SIGKILL'); // the test started it (through berth apply); verified by token below
    await waitFor('the old holder to be gone', async () => (isOwnerAlive(old) ? undefined : true));
    const apply = await berth('apply', dir);
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stdout).toMatch(/shared: incomplete sandbox, set up again|shared: sandbox gone/);
    expect(holder().owner).not.toBe(old);
    expect(isOwnerAlive(holder().owner)).toBe(true);
    const pod = (await ps()).find((p) => p.name === 'shared');
    expect(pod?.containers.map((c) => [c.name, c.state])).toEqual([
      ['init', 'exited'],
      ['a', 'running'],
      ['b', 'running'],
    ]);
    const list = await processes('shared_b');
    expect(list.find(([pid]) => pid === 1)?.[2]).toBe('catatonit -P');
  });

  it('a pod without the field keeps its own PID namespace; teardown leaves no holder', async () => {
    await writeFile(
      join(dir, 'alone.yaml'),
      `apiVersion: v1\nkind: Pod\nmetadata: {name: alone}\nspec:\n  terminationGracePeriodSeconds: 1\n` +
        `  containers:\n    - name: main\n      image: ${image}\n      command: [sleep, "3000"]\n`,
    );
    const owner = holder().owner;
    await rm(join(dir, 'shared.yaml'));
    const apply = await berth('apply', dir);
    expect(apply.code, apply.stderr).toBe(0);
    expect((await processes('alone_main')).map(([pid, , args]) => [pid, args])).toEqual([[1, 'sleep 3000']]);
    expect(isOwnerAlive(owner)).toBe(false);
    expect((await ps()).map((p) => p.name)).toEqual(['alone']);
  });

  it('hostPID with shareProcessNamespace is one error (Kubernetes rejects it)', async () => {
    const bad = join(work, 'bad');
    await mkdir(bad);
    await writeFile(
      join(bad, 'p.yaml'),
      `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostPID: true\n  shareProcessNamespace: true\n` +
        `  containers:\n    - name: main\n      image: ${image}\n`,
    );
    const r = await berth('validate', bad);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `${join(bad, 'p.yaml')}:6:26: ERR_MANIFEST_INVALID: shareProcessNamespace and hostPID cannot both be true (Kubernetes rejects it): the pod would share the host PID namespace`,
    );
  });
});
