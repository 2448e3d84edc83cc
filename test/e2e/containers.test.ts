// Containers end to end, as root, with real runc, conmon and overlayfs over a busybox image from a
// loopback registry: output and exit codes, stop with grace and SIGKILL, limits, read-only rootfs,
// capabilities, users, volumes, containers outliving the CLI, and bad input that leaves nothing.
// After every test, no mount, netns, runc state or monitor of ours is left.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import {
  chmod,
  lchown,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cgroupVersion } from '../helpers/cgroups.js';
import { CLI, runBerth, withTestConfig } from '../helpers/cli.js';
import { buildImage, createLayout, type Layout, populateBusybox, pushImage } from '../helpers/images.js';
import { createLocalUser } from '../helpers/local-user.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'unshare', 'findmnt'], {
  root: true,
});

describe.skipIf(skip)('containers', () => {
  let registry: TestRegistry;
  let layout: Layout;
  let work: string;
  let image: string;
  let root: string;
  let state: string;
  let n = 0;
  const berth = (...args: string[]) => runBerth(['--root', root, '--state', state, ...args]);
  const ok = async (...args: string[]) => {
    const res = await berth(...args);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    return res.stdout;
  };
  const status = async (name: string) => {
    const all = JSON.parse(await ok('container', 'ls', '-o', 'json')) as Array<Record<string, unknown>>;
    return all.find((c) => c.name === name);
  };
  const waitFor = async (name: string, want: string) => {
    for (let i = 0; i < 200; i++) {
      const s = await status(name);
      if (s?.state === want) return s;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${name} never became ${want}`);
  };
  /** create + start, returning the name. */
  const run = async (flags: string[], command: string) => {
    const name = `c${++n}`;
    await ok('container', 'create', ...flags, image, name, '--', '/bin/sh', '-c', command);
    await ok('container', 'start', name);
    return name;
  };
  /** The container's stdout (its stderr is the CLI's stderr, left out). */
  const logs = async (name: string) => {
    const res = await berth('container', 'logs', name);
    expect(res.code).toBe(0);
    return res.stdout;
  };
  const leftovers = () => {
    const mounts = execFileSync('findmnt', ['-rn', '-o', 'TARGET']).toString().split('\n');
    return mounts.filter((m) => m.startsWith(root) || m.startsWith(state));
  };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-e2e-'));
    registry = await startRegistry();
    layout = await createLayout();
    await buildImage(layout, 'busybox', [populateBusybox], { cmd: '/bin/sh' });
    image = `${registry.host}/test/busybox:1`;
    await pushImage(layout, 'busybox', image);
    const seed = async (rootfs: string) => {
      await mkdir(join(rootfs, 'data'), { recursive: true });
      await writeFile(join(rootfs, 'data/seed'), 'from the image\n');
    };
    await buildImage(layout, 'withvol', [seed], { from: 'busybox', volumes: ['/data'] });
    await pushImage(layout, 'withvol', `${registry.host}/test/withvol:1`);
    // A VOLUME whose last component is a symlink (`/conf -> /srv/real`): runc mounts at the target.
    const linked = async (rootfs: string) => {
      await mkdir(join(rootfs, 'srv/real'), { recursive: true });
      await writeFile(join(rootfs, 'srv/real/app.conf'), 'through the link\n');
      await symlink('/srv/real', join(rootfs, 'conf'));
    };
    await buildImage(layout, 'linkvol', [linked], { from: 'busybox', volumes: ['/conf'] });
    await pushImage(layout, 'linkvol', `${registry.host}/test/linkvol:1`);
  }, 180_000);
  afterAll(async () => {
    await registry?.stop();
    await layout?.cleanup();
    await removeTempRoot(work);
  });

  let testRoot: string;
  const setupStore = async () => {
    testRoot = await mkdtemp(join(work, 't-'));
    root = join(testRoot, 'root');
    state = join(testRoot, 'state');
    await ok('image', 'pull', image);
  };
  afterEach(async () => {
    // Remove whatever the test left running, then check the host is as it was.
    const all = JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout || '[]') as Array<{
      name: string;
    }>;
    for (const c of all.reverse()) await berth('container', 'rm', '--force', c.name); // joiners first
    expect(leftovers()).toEqual([]);
    expect(await readdir(join(state, 'netns')).catch(() => [])).toEqual([]);
    expect(
      execFileSync('runc', ['--root', join(state, 'runc'), 'list', '-q'])
        .toString()
        .trim(),
    ).toBe('');
  });

  it('runs a command: its output in the log, its exit code and times in ls', async () => {
    await setupStore();
    const name = await run([], 'echo out; echo err >&2; exit 3');
    const s = await waitFor(name, 'exited');
    expect(s).toMatchObject({ name, image, state: 'exited', exitCode: 3, pid: null, oomKilled: false });
    expect(typeof s.startedAt).toBe('string');
    expect(typeof s.finishedAt).toBe('string');
    const res = await berth('container', 'logs', name);
    expect(res.stdout).toBe('out\n');
    expect(res.stderr).toBe('err\n');
    // The log file is in the CRI format.
    const id = s.id as string;
    const raw = await readFile(join(root, 'containers', id, 'container.log'), 'utf8');
    expect(raw).toMatch(/^\S+ stdout F out\n/m);
    // After a reboot --state (tmpfs) has lost runc's state and the exit file; a pid in conmon.pid that
    // now belongs to another process must not make the container look running.
    await rm(join(state, 'exits', id), { force: true });
    await rm(join(state, 'runc', id), { recursive: true, force: true });
    await writeFile(join(root, 'containers', id, 'conmon.pid'), String(process.pid));
    // The exit code conmon also kept under --root says how it ended; without it, it is `lost`.
    expect(await status(name)).toMatchObject({ state: 'exited', pid: null, exitCode: 3, reason: null });
    await rm(join(root, 'containers', id, 'persist', 'exit'));
    expect(await status(name)).toMatchObject({ state: 'exited', pid: null, exitCode: null, reason: 'lost' });
  });

  it('rotates the log by size: the file stays under 10 MiB and keeps the newest lines', async () => {
    await setupStore();
    const line = 'x'.repeat(100);
    const name = await run([], `yes ${line} | head -n 150000; echo the last line`);
    const s = await waitFor(name, 'exited');
    const file = join(root, 'containers', s.id as string, 'container.log');
    const { size } = await stat(file);
    expect(size).toBeLessThanOrEqual(10 * 2 ** 20);
    expect(size).toBeGreaterThan(0);
    expect((await logs(name)).endsWith(`${line}\nthe last line\n`)).toBe(true);
  });

  it('stop sends the stop signal, waits the grace period, then kills', async () => {
    await setupStore();
    // As PID 1 the shell gets no default signal action: it must handle TERM to stop politely.
    const polite = await run([], 'trap "echo bye; exit 7" TERM; while true; do sleep 0.1; done');
    await waitFor(polite, 'running');
    const stopped = JSON.parse(await ok('container', 'stop', polite, '--time', '30', '-o', 'json'));
    expect(stopped).toMatchObject({ state: 'exited', exitCode: 7 });
    expect(await logs(polite)).toBe('bye\n');
    const stubborn = await run([], 'trap "echo ignoring TERM" TERM; while true; do sleep 0.1; done');
    await waitFor(stubborn, 'running');
    const killed = JSON.parse(await ok('container', 'stop', stubborn, '--time', '1', '-o', 'json'));
    expect(killed).toMatchObject({ state: 'exited', exitCode: 137 });
    expect(await logs(stubborn)).toBe('ignoring TERM\n');
  });

  it('keeps running when the CLI exits; the next process finds and controls it', async () => {
    await setupStore();
    const name = await run([], 'while true; do sleep 0.1; done');
    const s = await waitFor(name, 'running'); // another process than the one that started it
    expect(typeof s.pid).toBe('number');
    expect(
      execFileSync('ps', ['-o', 'comm=', '-p', String(s.pid)])
        .toString()
        .trim(),
    ).toBe('sh');
    const exec = await berth(
      'container',
      'exec',
      name,
      '--',
      '/bin/sh',
      '-c',
      'echo inside $HOSTNAME; exit 5',
    );
    expect(exec.stdout).toBe(`inside ${name}\n`);
    expect(exec.code).toBe(5);
    // The command's stderr is the command's; a command the container lacks is one berth line, 127.
    const err = await berth('container', 'exec', name, '--', '/bin/sh', '-c', 'echo oops >&2; exit 3');
    expect([err.code, err.stderr]).toEqual([3, 'oops\n']);
    const none = await berth('container', 'exec', name, '--', 'nosuch');
    expect([none.code, none.stdout, none.stderr]).toEqual([
      127,
      '',
      `berth: ERR_COMMAND_NOT_FOUND: "nosuch" is not an executable in ${name}\n`,
    ]);
    const rm = await berth('container', 'rm', name);
    expect(rm.stderr).toMatch(/^berth: ERR_CONTAINER_RUNNING: container "c\d+" is running \(stop it first/);
    expect(rm.code).toBe(4);
    await ok('container', 'rm', '--force', name);
    expect(await status(name)).toBeUndefined();
  });

  it('applies the memory, pids and cpu limits (cgroup v1 or v2), and reports an OOM kill as such', async () => {
    await setupStore();
    // Read inside the container, from whichever hierarchy the host has: v2's unified files when
    // /sys/fs/cgroup is cgroup2 (a stock Debian 12), the v1 controllers' otherwise (hybrid, legacy).
    const name = await run(
      ['--memory', '16Mi', '--pids', '50', '--cpus', '0.5'],
      'if [ -e /sys/fs/cgroup/cgroup.controllers ]; then echo v2; cd /sys/fs/cgroup; cat memory.max pids.max cpu.max; ' +
        'else echo v1; cd /sys/fs/cgroup; cat memory/memory.limit_in_bytes pids/pids.max cpu/cpu.cfs_quota_us cpu/cpu.cfs_period_us; fi; ' +
        'x=$(head -c 64000000 /dev/zero | tr "\\0" a); echo survived',
    );
    const s = await waitFor(name, 'exited');
    expect(s).toMatchObject({ exitCode: 137, oomKilled: true });
    const v2 = cgroupVersion() === 2;
    expect(await logs(name)).toBe(
      v2 ? `v2\n${16 * 2 ** 20}\n50\n50000 100000\n` : `v1\n${16 * 2 ** 20}\n50\n50000\n100000\n`,
    );
  });

  it('secure by default: default capabilities, read-only when asked, users from the image', async () => {
    await setupStore();
    // Docker's 14 (0xa80425fb), as far as the host's bounding set has them.
    const bounding = BigInt(
      `0x${/^CapBnd:\s+(\S+)$/m.exec(await readFile('/proc/self/status', 'utf8'))?.[1]}`,
    );
    const capEff = (mask: bigint) => `CapEff:\t${(mask & bounding).toString(16).padStart(16, '0')}\n`;
    const caps = await run([], 'grep CapEff /proc/self/status');
    await waitFor(caps, 'exited');
    expect(await logs(caps)).toBe(capEff(0xa80425fbn));
    const dropped = await run(
      ['--cap-drop', 'NET_RAW', '--cap-drop', 'CAP_MKNOD'],
      'grep CapEff /proc/self/status',
    );
    await waitFor(dropped, 'exited');
    expect(await logs(dropped)).toBe(capEff(0xa80425fbn & ~((1n << 13n) | (1n << 27n))));
    // A read-only rootfs refuses a write to /; /tmp is part of the rootfs here (no --tmpfs), so it is
    // refused too; with --tmpfs /tmp, only /tmp is writable.
    const ro = await run(['--read-only'], 'touch /x || echo refused; touch /tmp/y || echo tmp refused');
    await waitFor(ro, 'exited');
    expect(await logs(ro)).toBe('refused\ntmp refused\n');
    const roTmp = await run(
      ['--read-only', '--tmpfs', '/tmp'],
      'touch /x || echo refused; touch /tmp/y && echo tmp written; grep " /tmp " /proc/mounts | cut -d" " -f3',
    );
    await waitFor(roTmp, 'exited');
    expect(await logs(roTmp)).toBe('refused\ntmp written\ntmpfs\n');
    const user = await run(['--user', 'nobody'], 'id -u; id -g; echo $HOME');
    await waitFor(user, 'exited');
    expect(await logs(user)).toBe('65534\n65534\n/nonexistent\n');
    const filtered = await run([], 'grep "^Seccomp:" /proc/self/status');
    await waitFor(filtered, 'exited');
    expect(await logs(filtered)).toBe('Seccomp:\t2\n'); // containers-common's profile
    // Its filter lists x32 only where the kernel runs x32 calls: asked of the kernel itself here
    // (an x32 getpid is ENOSYS on a kernel without them), not of the config berth reads.
    const x32Runs =
      execFileSync('python3', [
        '-c',
        'import ctypes; c = ctypes.CDLL(None); c.syscall.restype = ctypes.c_long; print(c.syscall(ctypes.c_long(0x40000027)) > 0)',
      ]).toString() === 'True\n';
    const filteredId = (await status(filtered))?.id as string;
    const spec = JSON.parse(await readFile(join(root, 'containers', filteredId, 'config.json'), 'utf8'));
    const arches = spec.linux.seccomp.architectures as string[];
    if (process.arch === 'x64') {
      expect(arches[0]).toBe('SCMP_ARCH_X86_64');
      expect(arches.includes('SCMP_ARCH_X32')).toBe(x32Runs);
    }
    const privileged = await run(
      ['--privileged'],
      'grep "^Seccomp:" /proc/self/status; grep CapEff /proc/self/status',
    );
    await waitFor(privileged, 'exited');
    // Every capability the host has (its bounding set), no seccomp filter.
    const bound = /^CapBnd:\s+(\S+)$/m.exec(await readFile('/proc/self/status', 'utf8'))?.[1];
    expect(await logs(privileged)).toBe(`Seccomp:\t0\nCapEff:\t${bound}\n`);
    const net = await run([], 'cat /proc/net/dev | grep -c ":"; cat /etc/hostname');
    await waitFor(net, 'exited');
    expect(await logs(net)).toBe(`1\n${net}\n`); // only lo, in a netns of its own
  });

  it('keeps named volume data across containers; binds host paths read-only when asked', async () => {
    await setupStore();
    const host = join(testRoot, 'host-dir');
    await mkdir(host);
    await writeFile(join(host, 'in'), 'from the host\n');
    const first = await run(
      ['-v', 'data:/data', '-v', `${host}:/host:ro`],
      'echo kept > /data/f; cat /host/in; touch /host/x || echo ro',
    );
    await waitFor(first, 'exited');
    expect(await logs(first)).toBe('from the host\nro\n');
    await ok('container', 'rm', first);
    const second = await run(['-v', 'data:/data'], 'cat /data/f');
    await waitFor(second, 'exited');
    expect(await logs(second)).toBe('kept\n');
    await ok('container', 'rm', second);
    expect(await readFile(join(root, 'volumes/data/f'), 'utf8')).toBe('kept\n');
  });

  it("-v through another user's link in a sticky directory is refused as a pod's hostPath is", async () => {
    await setupStore();
    const shared = join(testRoot, 'tmp'); // a /tmp of the test's own
    await mkdir(shared);
    await chmod(shared, 0o1777);
    const secret = join(testRoot, 'etc'); // where the user would have root bind
    await mkdir(secret);
    await writeFile(join(secret, 'shadow'), 'root only\n');
    const user = createLocalUser();
    try {
      const link = join(shared, 'app');
      await symlink(secret, link);
      await lchown(link, user.uid, user.gid);
      const res = await berth('container', 'create', '-v', `${link}:/x`, image, 'planted', '--', '/bin/true');
      expect([res.code, res.stderr]).toEqual([
        5,
        `berth: ERR_HOSTPATH_UNSAFE: container planted: mount source ${link}: ${link} is a symlink of uid ${user.uid} in ${shared}, a sticky directory every user can write: not followed (as the kernel refuses it under fs.protected_symlinks=1: give a path outside it, or remove the link)\n`,
      ]);
      expect(JSON.parse(await ok('container', 'ls', '-o', 'json'))).toEqual([]);
    } finally {
      user.remove();
    }
  });

  it("joins another container's network namespace, which stays until the last user goes", async () => {
    await setupStore();
    const owner = await run([], 'readlink /proc/self/ns/net; sleep 100');
    const joiner = await run(
      ['--network', `container:${owner}`],
      'readlink /proc/self/ns/net; cat /proc/net/dev | grep -c ":"',
    );
    await waitFor(joiner, 'exited');
    for (let i = 0; i < 100 && (await logs(owner)) === ''; i++) await new Promise((r) => setTimeout(r, 50));
    const ns = (await logs(owner)).trim();
    expect(ns).toMatch(/^net:\[\d+\]$/);
    expect(await logs(joiner)).toBe(`${ns}\n1\n`);
    const refused = await berth('container', 'rm', '--force', owner);
    expect(refused.stderr).toBe(
      `berth: ERR_NETNS_IN_USE: container "${owner}" holds the network namespace of "${joiner}" (remove those first)\n`,
    );
    await ok('container', 'rm', joiner);
    await ok('container', 'rm', '--force', owner);
  });

  it("seeds the image's Volumes from the image, and removes them with the container", async () => {
    await setupStore();
    const withVol = `${registry.host}/test/withvol:1`;
    await ok('image', 'pull', withVol);
    const name = `c${++n}`;
    await ok(
      'container',
      'create',
      withVol,
      name,
      '--',
      '/bin/sh',
      '-c',
      'cat /data/seed; echo more > /data/new; grep -c " /data " /proc/mounts',
    );
    await ok('container', 'start', name);
    await waitFor(name, 'exited');
    expect(await logs(name)).toBe('from the image\n1\n');
    const id = (await status(name))?.id as string;
    expect(await readFile(join(root, 'containers', id, 'volumes/0/new'), 'utf8')).toBe('more\n');
    await ok('container', 'rm', name);
    expect(await readdir(join(root, 'containers'))).toEqual([]);
    // Through a symlink: the target's files are in the volume, not hidden behind an empty one.
    const linkVol = `${registry.host}/test/linkvol:1`;
    await ok('image', 'pull', linkVol);
    const linkName = `c${++n}`;
    await ok('container', 'create', linkVol, linkName, '--', '/bin/cat', '/conf/app.conf');
    await ok('container', 'start', linkName);
    await waitFor(linkName, 'exited');
    expect(await logs(linkName)).toBe('through the link\n');
    await ok('container', 'rm', linkName);
  });

  it("runs on native snapshots (hosts without overlayfs) with berth's own seccomp filter; kill", async () => {
    await setupStore();
    const config = join(testRoot, 'native.yaml');
    await writeFile(config, 'unpack: { snapshotter: native }\ncontainers: { seccompProfile: builtin }\n');
    const native = (...args: string[]) =>
      runBerth(['--root', root, '--state', state, '--config', config, ...args]);
    expect((await native('image', 'pull', image)).code).toBe(0);
    const name = `c${++n}`;
    expect(
      (
        await native(
          'container',
          'create',
          image,
          name,
          '--',
          '/bin/sh',
          '-c',
          // adjtimex only reads the clock here, which the kernel lets any process do: the
          // fallback filter refuses it all the same (clocks), as it says.
          'echo native; grep "^Seccomp:" /proc/self/status; echo intruder:x:9: >> /etc/group; ' +
            'adjtimex >/dev/null 2>&1 && echo clock read || echo clock refused; sleep 100',
        )
      ).code,
    ).toBe(0);
    expect(leftovers().filter((m) => m.startsWith(root))).toEqual([]); // a copy, not a mount
    expect((await native('container', 'start', name)).code).toBe(0);
    for (let i = 0; i < 100 && !(await logs(name)).includes('clock'); i++)
      await new Promise((r) => setTimeout(r, 50));
    expect((await native('container', 'kill', name, '--signal', 'KILL')).code).toBe(0);
    expect(await waitFor(name, 'exited')).toMatchObject({ exitCode: 137 });
    expect(await logs(name)).toBe('native\nSeccomp:\t2\nclock refused\n');
    // A copy: the container's write to an image file landed in its rootfs, never in the snapshot.
    const id = (await status(name))?.id as string;
    const snapshots = (await readdir(join(root, 'snapshots/native'))).filter((d) => !d.startsWith('.'));
    expect(snapshots).toHaveLength(1);
    const group = 'root:x:0:\nnogroup:x:65534:\n';
    expect(
      await readFile(join(root, 'snapshots/native', snapshots[0] as string, 'fs/etc/group'), 'utf8'),
    ).toBe(group);
    expect(await readFile(join(root, 'containers', id, 'rootfs/etc/group'), 'utf8')).toBe(
      `${group}intruder:x:9:\n`,
    );
  });

  it('writes LAST USED when a container is started, not only when one is created', async () => {
    await setupStore();
    const lastUsed = async () =>
      (
        JSON.parse(await ok('image', 'ls', '-o', 'json')) as Array<{
          name: string;
          lastUsedAt: string | null;
        }>
      ).find((i) => i.name === image)?.lastUsedAt;
    const name = `c${++n}`;
    await ok('container', 'create', image, name, '--', '/bin/sh', '-c', 'sleep 100');
    const created = await lastUsed();
    expect(created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    // Back-date the record (as if created long ago), so the start's write is not within the minute.
    const indexFile = join(root, 'content/index.json');
    const index = await readFile(indexFile, 'utf8');
    await writeFile(indexFile, index.replaceAll(created as string, '2020-01-01T00:00:00.000Z'));
    expect(await lastUsed()).toBe('2020-01-01T00:00:00.000Z');
    const before = Date.now();
    await ok('container', 'start', name);
    const started = Date.parse((await lastUsed()) as string);
    expect(started).toBeGreaterThanOrEqual(before);
    expect(started).toBeLessThanOrEqual(Date.now());
  });

  it('rm --force kills at once with SIGKILL, as docker rm -f: a TERM trap never runs', async () => {
    await setupStore();
    const out = await mkdtemp(join(work, 'out-'));
    // The trap would run at once: the loop runs builtins only, so sh looks at its signals between them.
    const name = await run(
      ['-v', `${out}:/out`],
      `trap 'echo term > /out/got' TERM; echo up > /out/up; while :; do :; done`,
    );
    for (let i = 0; i < 200 && !existsSync(join(out, 'up')); i++) await new Promise((r) => setTimeout(r, 25));
    expect(existsSync(join(out, 'up'))).toBe(true);
    await ok('container', 'rm', '--force', name);
    expect(await readdir(out)).toEqual(['up']);
    expect(await status(name)).toBeUndefined();
  });

  it.skipIf(missingPrereqs(['strace', 'python3']))(
    "rm runs runc and umount through a spawn helper: their parent is python3, not berth's Node",
    async () => {
      await setupStore();
      const name = await run([], 'sleep 60');
      const trace = join(work, `rm-${name}.strace`);
      const argv = withTestConfig(['--root', root, '--state', state, 'container', 'rm', '--force', name]);
      const sys = 'trace=execve,clone,clone3,vfork,fork';
      execFileSync('strace', ['-f', '-qq', '-e', sys, '-o', trace, process.execPath, CLI, ...argv]);
      // Each pid's program (its last execve tried; a thread's is its creator's), and its creator.
      const parent = new Map<string, string>();
      const exec = new Map<string, string>();
      for (const line of readFileSync(trace, 'utf8').split('\n')) {
        const made = /^(\d+)\s.*\b(?:clone3?|v?fork)\b.*= (\d+)$/.exec(line);
        if (made) parent.set(made[2] as string, made[1] as string);
        const ran = /^(\d+)\s+execve\("([^"]+)"/.exec(line);
        if (ran && !line.includes('ENOENT')) exec.set(ran[1] as string, basename(ran[2] as string));
      }
      const program = (pid: string | undefined): string | undefined =>
        pid === undefined ? undefined : (exec.get(pid) ?? program(parent.get(pid)));
      const tools = [...exec].filter(([, prog]) => prog === 'runc' || prog === 'umount');
      expect(tools.length).toBeGreaterThanOrEqual(2);
      expect(new Set(tools.map(([pid]) => program(parent.get(pid))?.replace(/[\d.]+$/, '')))).toEqual(
        new Set(['python']),
      );
      expect(await status(name)).toBeUndefined();
    },
  );

  it('bad input is one line and leaves nothing behind', async () => {
    await setupStore();
    await ok('container', 'create', image, 'taken', '--', '/bin/true');
    const cases: Array<[string[], RegExp, number]> = [
      [
        ['nosuch/image:1', 'a'],
        /^berth: ERR_IMAGE_NOT_FOUND: image "nosuch\/image:1" is not in the store/,
        3,
      ],
      [
        [image, 'b', '--', '/bin/nope'],
        /^berth: ERR_COMMAND_NOT_FOUND: "\/bin\/nope" is not an executable/,
        2,
      ],
      [
        ['--user', 'ghost', image, 'c'],
        new RegExp(
          `^berth: ERR_UNKNOWN_USER: container "c": user "ghost" is not in /etc/passwd of image "${image.replaceAll('.', '\\.')}"\n$`,
        ),
        2,
      ],
      [
        ['-v', '/no/such/dir:/x', image, 'd'],
        /^berth: ERR_CONTAINER_INVALID: mount source \/no\/such\/dir does not/,
        2,
      ],
      [['--memory', 'lots', image, 'e'], /^berth: ERR_BAD_QUANTITY: memory "lots" is not a quantity/, 2],
      [[image, 'taken'], /^berth: ERR_NAME_TAKEN: a container named "taken" exists/, 4],
      // runc refuses it: the named volume this create made goes with the rest.
      [['-v', 'brandnew:/proc/sys', image, 'f'], /^berth: ERR_CREATE_FAILED: creating container f: /, 1],
    ];
    for (const [args, line, code] of cases) {
      const res = await berth('container', 'create', ...args);
      expect(res.stderr).toMatch(line);
      expect(res.stderr.trim().split('\n')).toHaveLength(1);
      expect(res.code).toBe(code);
    }
    const names = (JSON.parse(await ok('container', 'ls', '-o', 'json')) as Array<{ name: string }>).map(
      (c) => c.name,
    );
    expect(names).toEqual(['taken']);
    const kept = await readdir(join(root, 'containers'));
    expect(kept).toHaveLength(1);
    expect(leftovers().filter((m) => !m.includes(kept[0] as string))).toEqual([]);
    expect(await readdir(join(state, 'netns'))).toHaveLength(1);
    expect(await readdir(join(root, 'volumes')).catch(() => [])).toEqual([]);
  });

  it('one name, one container: creates of the same name at once leave exactly one', async () => {
    await setupStore();
    const tries = await Promise.all(
      Array.from({ length: 4 }, () => berth('container', 'create', image, 'twin', '--', '/bin/true')),
    );
    expect(tries.filter((t) => t.code === 0)).toHaveLength(1);
    for (const t of tries.filter((t) => t.code !== 0)) {
      expect(t.stderr).toMatch(/^berth: ERR_NAME_TAKEN: a container named "twin" exists/);
      expect(t.code).toBe(4);
    }
    expect(await readdir(join(root, 'containers'))).toHaveLength(1);
    expect(await readdir(join(state, 'netns'))).toHaveLength(1);
  });
});
