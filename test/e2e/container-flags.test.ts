// `berth container create` flags and per-container files, in effect inside the container: -e, -w,
// --cap-add, --network host, the default network's loopback up, /etc/hosts and /etc/resolv.conf
// written for it, and a private /dev, /dev/shm and /dev/pts. Then a container on disk: its overlay
// rootfs (own upper/ and work/), its directory and --state as the README lists them, `container logs
// -f` and `--timestamps`, and `image prune` keeping the snapshots a container stands on.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, runBerth, spawnBerth } from '../helpers/cli.js';
import { buildImage, createLayout, type Layout, populateBusybox, pushImage } from '../helpers/images.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'unshare'], {
  root: true,
});

/** The file's teardown: every container left removed by force, the registry and files gone; what was left. */
async function removeEverything(
  berth: (...args: string[]) => Promise<CliResult>,
  registry: TestRegistry | undefined,
  layout: Layout | undefined,
  work: string,
): Promise<Array<{ name: string }>> {
  const left = JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout || '[]') as Array<{
    name: string;
  }>;
  for (const c of left) await berth('container', 'rm', '--force', c.name);
  await registry?.stop();
  await layout?.cleanup();
  await removeTempRoot(work);
  return left;
}

describe.skipIf(skip)('container flags, in effect', () => {
  let registry: TestRegistry;
  let layout: Layout;
  let work: string;
  let image: string;
  let n = 0;
  const berth = (...args: string[]) =>
    runBerth(['--root', join(work, 'root'), '--state', join(work, 'state'), ...args]);
  /** create + start + wait for the exit; the container's stdout, after checking it exited 0. */
  const probe = async (flags: string[], script: string) => {
    const name = `f${++n}`;
    const created = await berth('container', 'create', ...flags, image, name, '--', '/bin/sh', '-c', script);
    expect([created.code, created.stderr]).toEqual([0, '']);
    expect((await berth('container', 'start', name)).code).toBe(0);
    let state: { state: string; exitCode: number | null } | undefined;
    for (let i = 0; i < 200 && state?.state !== 'exited'; i++) {
      const all = JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout) as Array<{
        name: string;
        state: string;
        exitCode: number | null;
      }>;
      state = all.find((c) => c.name === name);
      if (state?.state !== 'exited') await new Promise((r) => setTimeout(r, 50));
    }
    const out = (await berth('container', 'logs', name)).stdout;
    expect([name, state?.state, state?.exitCode]).toEqual([name, 'exited', 0]);
    expect((await berth('container', 'rm', name)).code).toBe(0);
    return out;
  };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-flags-'));
    registry = await startRegistry();
    layout = await createLayout();
    await buildImage(layout, 'busybox', [populateBusybox], { cmd: '/bin/sh' });
    image = `${registry.host}/test/busybox:1`;
    await pushImage(layout, 'busybox', image);
    expect((await berth('image', 'pull', image)).code).toBe(0);
  }, 180_000);
  afterAll(async () => {
    const left = await removeEverything(berth, registry, layout, work);
    expect(left).toEqual([]);
  });

  it('-e, -w and --cap-add; no-new-privileges by default', async () => {
    const bounding = BigInt(`0x${/^CapBnd:\s+(\S+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]}`);
    const sysTime = 1n << 25n;
    const eff = ((0xa80425fbn | sysTime) & bounding).toString(16).padStart(16, '0');
    const out = await probe(
      ['-e', 'GREETING=hello there', '-e', 'HOME=/elsewhere', '-w', '/etc', '--cap-add', 'SYS_TIME'],
      'echo "$GREETING"; echo "$HOME"; pwd; grep -E "^(CapEff|NoNewPrivs):" /proc/self/status',
    );
    // no-new-privileges is a default, not only a manifest's allowPrivilegeEscalation: false.
    expect(out).toBe(`hello there\n/elsewhere\n/etc\nCapEff:\t${eff}\nNoNewPrivs:\t1\n`);
  });

  it("--network host shares the host's; the default has its own with loopback up", async () => {
    const host = await probe(['--network', 'host'], 'readlink /proc/self/ns/net');
    expect(host).toBe(`${readlinkSync('/proc/self/ns/net')}\n`);
    const own = await probe([], 'readlink /proc/self/ns/net; ip -o link show | cut -d" " -f2,3');
    const [ns, ...links] = own.trim().split('\n');
    expect(ns).not.toBe(readlinkSync('/proc/self/ns/net'));
    expect(links).toEqual(['lo: <LOOPBACK,UP,LOWER_UP>']);
  });

  it('its own /etc/hostname, /etc/hosts and /etc/resolv.conf; a private /dev, /dev/shm, /dev/pts', async () => {
    const marker = `berth-probe-${randomBytes(4).toString('hex')}`;
    const name = `f${n + 1}`;
    const out = await probe(
      [],
      'cat /etc/hostname /etc/hosts; echo ---; cat /etc/resolv.conf; echo ---; ' +
        `awk '$2 == "/dev" || $2 == "/dev/shm" || $2 == "/dev/pts" { print $2, $3 }' /proc/mounts; ` +
        `touch /dev/shm/${marker} && echo shm written`,
    );
    expect(out).toBe(
      `${name}\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t${name}\n---\n` +
        `${readFileSync('/etc/resolv.conf', 'utf8')}---\n/dev tmpfs\n/dev/pts devpts\n/dev/shm tmpfs\nshm written\n`,
    );
    expect(existsSync(join('/dev/shm', marker))).toBe(false); // not the host's
  });
});

describe.skipIf(skip)('a container on disk, its logs, and what prune keeps', () => {
  let registry: TestRegistry;
  let layout: Layout;
  let work: string;
  let image: string;
  const root = () => join(work, 'root');
  const state = () => join(work, 'state');
  const berth = (...args: string[]) => runBerth(['--root', root(), '--state', state(), ...args]);
  const ok = async (...args: string[]) => {
    const res = await berth(...args);
    expect([res.code, res.stderr]).toEqual([0, '']);
    return res.stdout;
  };
  const record = async (name: string) => {
    const all = JSON.parse(await ok('container', 'ls', '-o', 'json')) as Array<{
      name: string;
      id: string;
      state: string;
      exitCode: number | null;
    }>;
    return all.find((c) => c.name === name);
  };
  const until = async <T>(probe: () => Promise<T | undefined>, what: string): Promise<T> => {
    for (let i = 0; i < 400; i++) {
      const v = await probe();
      if (v !== undefined) return v;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`never happened: ${what}`);
  };
  const snapshots = async () =>
    (await readdir(join(root(), 'snapshots'))).filter((d) => /^[a-f0-9]{64}$/.test(d)).sort();

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-disk-'));
    registry = await startRegistry();
    layout = await createLayout();
    await buildImage(layout, 'busybox', [populateBusybox], { cmd: '/bin/sh' });
    image = `${registry.host}/test/busybox:1`;
    await pushImage(layout, 'busybox', image);
    await ok('image', 'pull', image);
  }, 180_000);
  afterAll(async () => {
    const left = await removeEverything(berth, registry, layout, work);
    expect(left).toEqual([]);
  });

  it('rootfs is an overlay with its own upper/ and work/; containers/<id>/ and --state hold what the README lists', async () => {
    await ok(
      'container',
      'create',
      image,
      'disk1',
      '--',
      '/bin/sh',
      '-c',
      'echo new > /made-here; exec sleep 600',
    );
    await ok('container', 'start', 'disk1');
    const id = (await record('disk1'))?.id as string;
    const dir = join(root(), 'containers', id);
    await until(
      async () => (existsSync(join(dir, 'upper/made-here')) ? true : undefined),
      'the write in upper/',
    );
    const mount = JSON.parse(
      execFileSync('findmnt', [
        '-J',
        '-n',
        '-o',
        'FSTYPE,OPTIONS',
        '--mountpoint',
        join(dir, 'rootfs'),
      ]).toString(),
    ) as { filesystems: Array<{ fstype: string; options: string }> };
    expect(mount.filesystems.map((f) => f.fstype)).toEqual(['overlay']);
    const options = mount.filesystems[0]?.options.split(',') ?? [];
    // Named from the lower links' directory, where the mount runs (lower-links.ts): short under any --root.
    expect(options.filter((o) => /^(upperdir|workdir)=/.test(o))).toEqual([
      'upperdir=../upper',
      'workdir=../work',
    ]);
    // The lowers are the image's snapshots, named through short links in the container's own directory.
    const lowers = snapshots();
    expect(readlinkSync(join(dir, 'lower/0'))).toBe(
      join(root(), 'snapshots', (await lowers)[0] as string, 'fs'),
    );
    expect(await readFile(join(dir, 'upper/made-here'), 'utf8')).toBe('new\n');
    expect(await readFile(join(dir, 'rootfs/made-here'), 'utf8')).toBe('new\n');
    expect(existsSync(join(root(), 'snapshots', (await lowers)[0] as string, 'fs/made-here'))).toBe(false);
    expect(await readdir(join(dir, 'lower'))).toEqual(['0']);
    // conmon names its log's next file container.log.tmp; berth holds links to it and the live one.
    expect((await readdir(dir)).sort()).toEqual([
      'attach',
      'config.json',
      'conmon.pid',
      'container.json',
      'container.log',
      'container.log.hold.1',
      'container.log.hold.2',
      'container.log.tmp',
      'ctl',
      'hostname',
      'hosts',
      'lower',
      'persist',
      'pidfile',
      'resolv.conf',
      'rootfs',
      'upper',
      'winsz',
      'work',
    ]);
    expect((await readdir(state())).sort()).toEqual([
      'compile-cache',
      'exits',
      'locks',
      'netns',
      'overlay-probe',
      'runc',
      'sockets',
    ]);
    expect(await readdir(join(state(), 'netns'))).toEqual([id]);
    expect(await readdir(join(state(), 'runc'))).toEqual([id]);
    await ok('container', 'rm', '--force', 'disk1');
    expect(await readdir(join(root(), 'containers'))).toEqual([]);
    expect([await readdir(join(state(), 'netns')), await readdir(join(state(), 'runc'))]).toEqual([[], []]);
  });

  it('container logs -f follows until the container exits; --timestamps prefixes each line with its CRI time', async () => {
    const gate = await mkdtemp(join(work, 'gate-'));
    await ok(
      'container',
      'create',
      '-v',
      `${gate}:/gate`,
      image,
      'logs1',
      '--',
      '/bin/sh',
      '-c',
      'echo one; echo warn >&2; while [ ! -e /gate/go ]; do sleep 0.05; done; echo two',
    );
    await ok('container', 'start', 'logs1');
    const follow = spawnBerth(['--root', root(), '--state', state(), 'container', 'logs', '-f', 'logs1']);
    let out = '';
    let err = '';
    follow.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    follow.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const closed = new Promise<number | null>((r) => follow.once('close', r));
    await until(async () => (out === 'one\n' ? true : undefined), 'the first line, followed');
    expect((await record('logs1'))?.state).toBe('running'); // -f printed it while the container runs
    await writeFile(join(gate, 'go'), '');
    expect(await closed).toBe(0); // ends by itself once the container exited
    expect([out, err]).toEqual(['one\ntwo\n', 'warn\n']);
    const id = (await record('logs1'))?.id as string;
    const cri = (await readFile(join(root(), 'containers', id, 'container.log'), 'utf8'))
      .trimEnd()
      .split('\n')
      .map((l) => l.split(' '));
    const stamped = await berth('container', 'logs', '--timestamps', 'logs1');
    const expected = (stream: string) =>
      cri
        .filter((f) => f[1] === stream)
        .map((f) => `${f[0]} ${f.slice(3).join(' ')}\n`)
        .join('');
    expect(stamped.stdout).toBe(expected('stdout'));
    expect(stamped.stderr).toBe(expected('stderr'));
    expect(stamped.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+[+-Z][\d:]* one\n\S+ two\n$/);
    await ok('container', 'rm', 'logs1');
  });

  it('image prune keeps the snapshots a container stands on, even with its image gone', async () => {
    await ok('image', 'pull', image);
    const before = await snapshots();
    expect(before.length).toBeGreaterThan(0);
    await ok('container', 'create', image, 'pinned', '--', '/bin/sh', '-c', 'cat /etc/hostname');
    await ok('image', 'rm', image);
    await ok('image', 'prune');
    expect(await snapshots()).toEqual(before);
    await ok('container', 'start', 'pinned');
    await until(
      async () => ((await record('pinned'))?.state === 'exited' ? true : undefined),
      'pinned exited',
    );
    expect([(await record('pinned'))?.exitCode, await ok('container', 'logs', 'pinned')]).toEqual([
      0,
      'pinned\n',
    ]);
    await ok('container', 'rm', 'pinned');
    await ok('image', 'prune');
    expect(await snapshots()).toEqual([]);
  });
});
