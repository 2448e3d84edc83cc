// `berth container create` flags and per-container files, in effect inside the container: -e, -w,
// --cap-add, --network host, the default network's loopback up, /etc/hosts and /etc/resolv.conf
// written for it, and a private /dev, /dev/shm and /dev/pts.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import { buildImage, createLayout, type Layout, populateBusybox, pushImage } from '../helpers/images.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'unshare'], {
  root: true,
});

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
    const left = JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout || '[]') as Array<{
      name: string;
    }>;
    for (const c of left) await berth('container', 'rm', '--force', c.name);
    await registry?.stop();
    await layout?.cleanup();
    await rm(work, { recursive: true, force: true });
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
