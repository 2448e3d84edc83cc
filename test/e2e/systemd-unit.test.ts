// contrib/systemd/berth.service under a real systemd. This host's PID 1 is not systemd, so the
// test boots one: the host's own systemd as PID 1 of a throwaway container (systemd-nspawn
// --volatile=yes: a tmpfs root with the host's /usr read-only; --private-network: its own network
// namespace, so nothing berth does to networking reaches the host). The unit file goes in byte for
// byte and is enabled as `systemctl enable` would (the multi-user.target.wants link); a drop-in
// only shortens its timers (watchdog 3 s instead of 60 s). berth is this checkout, reached through a
// launcher at /usr/local/bin/berth, the unit's ExecStart. The image comes from an OCI archive
// (an Image with `source: file:///`), as on an air-gapped node.
//
// What it pins: Type=notify (the unit is active only once berth said READY=1, with berth's STATUS=
// line), the containers outlive `systemctl restart berth` (KillMode=process) and the next berth adopts
// them, a hung daemon is killed by the watchdog and restarted while its containers run on, and
// `systemctl stop` ends berth cleanly within TimeoutStopSec, leaving /run/berth (the containers'
// runtime state) in place, and after a reboot (the container powered off and booted again with the
// same /var/lib/berth: /run empty, every process gone) berth starts at boot and runs the pod again
// from its store. At the end the pod is removed (its manifest deleted) before the last poweroff, and
// no cgroup of any container berth ran there is left on the host (helpers/leaks.ts): this machine
// shares the host's cgroup hierarchies, so a container still running at its poweroff would leave
// one, empty, that no reboot clears.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  chmod,
  copyFile,
  mkdir,
  mkdtemp,
  readdir,
  realpath,
  rm,
  rmdir,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cli.js';
import { buildImage, createLayout, type Layout, populateBusybox } from '../helpers/images.js';
import { cgroupsOf, containerIdsOnDisk, ownCgroupDirs } from '../helpers/leaks.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const run = promisify(execFile);
const skip = missingPrereqs(['systemd-nspawn', 'nsenter', 'runc', 'conmon', 'skopeo', 'umoci'], {
  root: true,
});
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const UNIT = join(REPO, 'contrib', 'systemd', 'berth.service');
const IMAGE = '127.0.0.1:1/edge/app:1'; // nothing listens there: only the archive provides it

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(skip)('berth.service under a real systemd (systemd-nspawn)', () => {
  let work: string;
  let layout: Layout | undefined;
  let nspawn: ChildProcess | undefined;
  let bootLog = '';
  let init = 0;
  const machine = `berth-sd-${randomBytes(4).toString('hex')}`;
  /** Every container the machine's berth made (its --root is on the host): their cgroups must go. */
  const seenIds = new Set<string>();
  const noteIds = () => {
    if (!work) return;
    for (const id of containerIdsOnDisk(join(work, 'var-lib-berth'), join(work, 'no-state'))) seenIds.add(id);
  };

  /** A command in the booted container, as root, with a clean environment. */
  const inside = async (cmd: string[], timeout = 30_000) =>
    (
      await run(
        'nsenter',
        ['-t', String(init), '-a', 'env', '-i', 'PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...cmd],
        { timeout, maxBuffer: 16 << 20 },
      )
    ).stdout;
  const show = async (...props: string[]) => {
    const out = await inside(['systemctl', 'show', 'berth', ...props.flatMap((p) => ['-p', p])]);
    return Object.fromEntries(
      out
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
  };
  const until = async <T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000): Promise<T> => {
    const end = Date.now() + ms;
    for (;;) {
      const v = await probe().catch(() => undefined);
      if (v !== undefined) return v;
      if (Date.now() > end) throw new Error(`never: ${what}\n${bootLog.slice(-4000)}`);
      await sleep(200);
    }
  };
  /** berth in the container, on the unit's --root and --state. */
  const berth = (...args: string[]) =>
    inside(['berth', '--root', '/var/lib/berth', '--state', '/run/berth', ...args]);
  /** The pod's container as `berth ps` shows it. */
  const app = async () => {
    const pods = JSON.parse(await berth('ps', '--output', 'json')) as Array<{
      name: string;
      containers: Array<{ name: string; state: string; pid: number | null; restarts: number }>;
    }>;
    return pods.find((p) => p.name === 'app')?.containers.find((c) => c.name === 'main');
  };
  const alive = async (pid: number) =>
    (await inside(['sh', '-c', `kill -0 ${pid} && echo yes || echo no`])).trim();

  /** What the launcher needs bound in (beforeAll). */
  let bootArgs: string[] = [];
  /** Boots the container (again, for a reboot): the same disk, a fresh /run, no process left. */
  const boot = async () => {
    const args = [
      '--quiet',
      '--register=no',
      '--keep-unit',
      '--volatile=yes',
      '--private-network',
      '--system-call-filter=@keyring', // runc gives each container a session keyring
      '--capability=all',
      `--machine=${machine}`,
      '--directory=/',
      ...bootArgs,
      '--bind-ro=/etc/alternatives', // Debian's alternatives links (iptables-save → xtables-nft-multi)
      `--bind-ro=${work}`,
      `--bind-ro=${join(work, 'units')}:/etc/systemd/system`,
      `--bind-ro=${join(work, 'manifests')}:/etc/berth/manifests`,
      `--bind-ro=${join(work, 'berth')}:/usr/local/bin/berth`,
      // --root on a disk that outlives the container, as a host's /var/lib does a reboot
      `--bind=${join(work, 'var-lib-berth')}:/var/lib/berth`,
      '--boot',
      'systemd.firstboot=off',
    ];
    nspawn = spawn('systemd-nspawn', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    for (const s of [nspawn.stdout, nspawn.stderr]) s?.on('data', (d: Buffer) => (bootLog += d.toString()));
    const leader = nspawn.pid as number;
    init = await until('the container boots systemd', async () => {
      for (const p of await readdir('/proc')) {
        if (!/^\d+$/.test(p)) continue;
        try {
          const status = readFileSync(`/proc/${p}/status`, 'utf8');
          if (new RegExp(`^PPid:\\s+${leader}$`, 'm').test(status) && /^Name:\s+systemd$/m.test(status))
            return Number(p);
        } catch {
          // gone
        }
      }
      return undefined;
    });
  };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-systemd-'));
    layout = await createLayout();
    await buildImage(layout, 'busybox', [populateBusybox], { cmd: '/bin/sh' });
    const archive = join(work, 'app.tar');
    await run('skopeo', [
      'copy',
      '-q',
      `oci:${join(layout.dir, 'oci')}:busybox`,
      `oci-archive:${archive}:${IMAGE}`,
    ]);
    const manifests = join(work, 'manifests');
    await mkdir(manifests);
    await writeFile(
      join(manifests, 'app.yaml'),
      `apiVersion: berth.dev/v1alpha1\nkind: Image\nmetadata: {name: app}\nspec:\n  ref: ${IMAGE}\n  source: file://${archive}\n---\n` +
        `apiVersion: v1\nkind: Pod\nmetadata: {name: app}\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n` +
        `    - name: main\n      image: ${IMAGE}\n      command: ["/bin/sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]\n`,
    );
    // /etc/systemd/system as `systemctl enable berth` leaves it, plus the test's drop-in, plus a unit
    // that makes the cgroup v1 controllers writable (nspawn mounts them read-only; a host's are not).
    const units = join(work, 'units');
    await mkdir(join(units, 'multi-user.target.wants'), { recursive: true });
    await mkdir(join(units, 'berth.service.d'));
    await copyFile(UNIT, join(units, 'berth.service'));
    await symlink('../berth.service', join(units, 'multi-user.target.wants', 'berth.service'));
    await writeFile(
      join(units, 'berth.service.d', 'test.conf'),
      '[Service]\nWatchdogSec=3s\nTimeoutAbortSec=2s\nRestartSec=200ms\n',
    );
    await writeFile(
      join(units, 'cgroups-rw.service'),
      '[Unit]\nBefore=berth.service\n[Service]\nType=oneshot\n' +
        'ExecStart=/bin/sh -c \'for d in /sys/fs/cgroup/*/; do mount -o remount,rw,bind "$d" || true; done\'\n' +
        '[Install]\nWantedBy=multi-user.target\n',
    );
    await symlink('../cgroups-rw.service', join(units, 'multi-user.target.wants', 'cgroups-rw.service'));
    const launcher = join(work, 'berth');
    await writeFile(launcher, `#!/bin/sh\nexec ${process.execPath} ${CLI} "$@"\n`);
    await chmod(launcher, 0o755);
    // What the launcher needs: node, this checkout, and its node_modules wherever they really are.
    const binds = new Set([
      dirname(dirname(process.execPath)),
      REPO,
      await realpath(join(REPO, 'node_modules')),
    ]);
    bootArgs = [...binds].filter((d) => !d.startsWith('/usr/')).map((d) => `--bind-ro=${d}`);
    await mkdir(join(work, 'var-lib-berth'));
    await boot();
  }, 180_000);

  afterEach(() => noteIds());

  afterAll(async () => {
    if (nspawn && nspawn.exitCode === null) {
      const exited = new Promise((r) => nspawn?.once('exit', r));
      nspawn.kill('SIGTERM'); // nspawn asks the container's systemd to halt
      const done = await Promise.race([exited.then(() => true), sleep(30_000).then(() => false)]);
      if (!done) {
        nspawn.kill('SIGKILL');
        await exited;
      }
    }
    // What a failed run left: the cgroups of its containers, and the `berth` its runc made under this
    // process's own cgroup (the machine's cgroup namespace root; never the host's shared `/berth`).
    noteIds();
    for (const id of seenIds) for (const c of cgroupsOf(id)) await rmdir(c).catch(() => undefined);
    for (const d of ownCgroupDirs())
      if (d.own !== '/') await rmdir(join(d.mount, d.own, 'berth')).catch(() => undefined);
    // nspawn's per-machine directory on the host (left empty when PID 1 there is not systemd)
    await rm(join('/run/systemd/nspawn/propagate', machine), { recursive: true, force: true });
    await layout?.cleanup();
    if (work) await removeTempRoot(work);
  }, 60_000);

  it('is active only once berth has said READY=1, with its STATUS= line, and runs the pod', async () => {
    const s = await until('berth.service is active', async () => {
      const v = await show('ActiveState', 'SubState', 'Type', 'StatusText', 'MainPID', 'NRestarts');
      return v.ActiveState === 'active' ? v : undefined;
    });
    expect(s.Type).toBe('notify');
    expect(s.SubState).toBe('running');
    expect(s.NRestarts).toBe('0');
    // READY=1 comes once the first passes converged: the pod is running by then.
    expect(s.StatusText).toBe('1 pod running');
    const c = await app();
    expect(c?.state).toBe('running');
    // --root as berth makes it (0711: a hostUsers: false pod's IDs reach their rootfs), --state too.
    expect(await inside(['stat', '-c', '%a', '/var/lib/berth', '/run/berth'])).toBe('711\n711\n');
  }, 120_000);

  it('keeps the containers running across `systemctl restart berth`, and the next berth adopts them', async () => {
    const before = await app();
    const pid = before?.pid as number;
    expect(pid).toBeGreaterThan(0);
    const { MainPID: old } = await show('MainPID');
    await inside(['systemctl', 'restart', 'berth']);
    const s = await show('ActiveState', 'MainPID', 'StatusText');
    expect(s.ActiveState).toBe('active');
    expect(s.MainPID).not.toBe(old);
    expect(s.StatusText).toBe('1 pod running');
    expect(await alive(pid)).toBe('yes');
    const after = await app();
    expect({ state: after?.state, pid: after?.pid, restarts: after?.restarts }).toEqual({
      state: 'running',
      pid,
      restarts: 0,
    });
  }, 120_000);

  it('a hung berth is killed by the watchdog and restarted; its containers run on', async () => {
    const pid = (await app())?.pid as number;
    const { MainPID: hung } = await show('MainPID');
    await inside(['kill', '-STOP', hung as string]); // no more pings from its loop
    const s = await until(
      'systemd restarts berth',
      async () => {
        const v = await show('ActiveState', 'MainPID', 'NRestarts');
        return v.ActiveState === 'active' && v.MainPID !== hung && v.NRestarts === '1' ? v : undefined;
      },
      60_000,
    );
    expect(s.NRestarts).toBe('1');
    const journal = await inside(['journalctl', '-u', 'berth', '--no-pager', '-o', 'cat']);
    expect(journal).toMatch(/berth\.service: Watchdog timeout \(limit 3s\)!/);
    expect(await alive(pid)).toBe('yes');
    expect((await app())?.pid).toBe(pid);
  }, 120_000);

  it('`systemctl stop berth` ends it cleanly within TimeoutStopSec and leaves /run/berth and the containers', async () => {
    const pid = (await app())?.pid as number;
    await inside(['systemctl', 'stop', 'berth'], 120_000);
    const s = await show('ActiveState', 'Result', 'ExecMainStatus', 'ExecMainCode');
    // Result=success: berth exited 0 on SIGTERM, not killed at the timeout (Result=timeout).
    expect({ state: s.ActiveState, result: s.Result, status: s.ExecMainStatus }).toEqual({
      state: 'inactive',
      result: 'success',
      status: '0',
    });
    expect((await inside(['sh', '-c', 'test -d /run/berth && echo kept'])).trim()).toBe('kept');
    expect(await alive(pid)).toBe('yes');
  }, 150_000);

  it('after a reboot (powered off, booted again: /run empty, every process gone) berth starts at boot and runs the pod again', async () => {
    const before = [...seenIds]; // the pod's container, killed at the poweroff
    const exited = new Promise((r) => nspawn?.once('exit', r));
    await inside(['systemctl', 'poweroff']).catch(() => undefined); // the connection may drop as it halts
    await exited;
    await boot();
    const s = await until('berth.service is active after the reboot', async () => {
      const v = await show('ActiveState', 'StatusText', 'NRestarts');
      return v.ActiveState === 'active' ? v : undefined;
    });
    expect({ status: s.StatusText, restarts: s.NRestarts }).toEqual({
      status: '1 pod running',
      restarts: '0',
    });
    const c = await app();
    expect(c?.state).toBe('running');
    expect(await alive(c?.pid as number)).toBe('yes');
    // The store on disk survived (nothing imported or pulled again); the pod's sandbox and container
    // were made anew, as the plan says.
    const journal = await inside(['journalctl', '-u', 'berth', '--no-pager', '-o', 'cat']);
    const actions = journal
      .split('\n')
      .filter((l) => /^\d{4}-\d\d-\d\dT\S+Z /.test(l) && !l.includes(' watching '))
      .map((l) => l.slice(l.indexOf(' ') + 1));
    expect(actions).toEqual([
      'remove       app: sandbox gone (host rebooted?): set up again, init containers run again',
      'setup-pod    app: sandbox gone (host rebooted?): set up again, init containers run again',
      'run          app/main: new container',
    ]);
    // Its cgroups outlived the poweroff here (the host's hierarchies are shared); the removal at boot
    // took them, as it does what runc's lost state no longer names.
    expect(before.flatMap(cgroupsOf)).toEqual([]);
  }, 180_000);

  it('with its pod removed (the manifest deleted), powered off for good, it leaves no cgroup of its containers on the host', async () => {
    // This machine shares the host's cgroup hierarchies (nspawn stays in the root cgroup of each v1
    // controller here, with no systemd on the host to give it a scope of its own): a container killed
    // at its poweroff keeps its cgroups, which a real reboot would clear, so the pod goes first.
    await rm(join(work, 'manifests', 'app.yaml'));
    await until('the daemon removes the pod and its container', async () => {
      const out = await berth('container', 'ls', '--output', 'json');
      return (JSON.parse(out) as unknown[]).length === 0 ? true : undefined;
    });
    expect(seenIds.size).toBe(2); // the pod's container before the reboot and after it
    const exited = new Promise((r) => nspawn?.once('exit', r));
    await inside(['systemctl', 'poweroff']).catch(() => undefined);
    await exited;
    nspawn = undefined;
    expect([...seenIds].flatMap(cgroupsOf)).toEqual([]);
  }, 120_000);
});
