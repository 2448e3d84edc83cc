// Confinement end to end, as root, with real runc, conmon and overlayfs: a manifest or an image
// tries to reach the host and fails. subPath `..` is refused by validate at its line; a container
// plants `ln -s / conf` in an emptyDir, a named volume and a hostPath, and another container of the
// pod mounting subPath `conf` is refused while subPaths inside are mounted (missing ones created
// inside); an image whose /etc/passwd is a FIFO or a character device fails create at once and
// leaves nothing; a device outside the allow list cannot be opened even after mknod; a StopSignal
// runc cannot send is mapped or refused; a working directory through /proc/self/fd is refused.
import { execFile, execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import { buildImage, createLayout, type Layout, populateBusybox, pushImage } from '../helpers/images.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const run = promisify(execFile);
const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'unshare', 'findmnt'], {
  root: true,
});

describe.skipIf(skip)('confinement', () => {
  let registry: TestRegistry;
  let layout: Layout;
  let work: string;
  let root: string;
  let state: string;
  let busybox: string;
  const berth = (...args: string[]) => runBerth(['--root', root, '--state', state, ...args]);
  const imageRef = (tag: string) => `${registry.host}/confine/${tag}:1`;
  /** An image from busybox plus one layer, with `umoci config` flags. */
  const derived = async (tag: string, layer: (rootfs: string) => Promise<void>, config: string[] = []) => {
    await buildImage(layout, tag, [layer], { from: 'busybox' });
    if (config.length > 0) {
      await run('umoci', ['config', '--image', `${join(layout.dir, 'oci')}:${tag}`, ...config]);
    }
    await pushImage(layout, tag, imageRef(tag));
  };
  const leftovers = () =>
    execFileSync('findmnt', ['-rn', '-o', 'TARGET'])
      .toString()
      .split('\n')
      .filter((m) => m.startsWith(work));
  const containers = async () =>
    JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout || '[]') as Array<{
      name: string;
      state: string;
      exitCode: number | null;
    }>;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-confine-'));
    root = join(work, 'root');
    state = join(work, 'state');
    registry = await startRegistry();
    layout = await createLayout();
    await buildImage(layout, 'busybox', [populateBusybox], { cmd: '/bin/sh' });
    busybox = imageRef('busybox');
    await pushImage(layout, 'busybox', busybox);
    await derived('fifo-passwd', async (rootfs) => {
      await rm(join(rootfs, 'etc/passwd'));
      execFileSync('mkfifo', [join(rootfs, 'etc/passwd')]);
    });
    await derived('zero-group', async (rootfs) => {
      await rm(join(rootfs, 'etc/group'));
      execFileSync('mknod', [join(rootfs, 'etc/group'), 'c', '1', '5']); // /dev/zero
    });
    await derived('rt-stop', async () => undefined, ['--config.stopsignal', 'SIGRTMIN+3']);
    await derived('bad-stop', async () => undefined, ['--config.stopsignal', 'SIGFOO']);
    await derived('proc-workdir', (rootfs) => symlink('/proc/self/fd/7', join(rootfs, 'work')), [
      '--config.workingdir',
      '/work',
    ]);
    await derived('proc-resolv', async (rootfs) => {
      await rm(join(rootfs, 'etc/resolv.conf'), { force: true });
      await mkdir(join(rootfs, 'etc'), { recursive: true });
      await symlink('/proc/self/fd/0', join(rootfs, 'etc/resolv.conf'));
    });
    await derived(
      'special-volume',
      async (rootfs) => {
        await mkdir(join(rootfs, 'data'));
        await writeFile(join(rootfs, 'data/f'), 'seed\n');
        execFileSync('mkfifo', [join(rootfs, 'data/pipe')]);
        execFileSync('mknod', [join(rootfs, 'data/disk'), 'b', '8', '0']);
      },
      ['--config.volume', '/data'],
    );
    const tags = [
      'busybox',
      'fifo-passwd',
      'zero-group',
      'rt-stop',
      'bad-stop',
      'proc-workdir',
      'proc-resolv',
      'special-volume',
    ];
    for (const tag of tags) {
      const res = await berth('image', 'pull', imageRef(tag));
      expect(res.stderr).toBe('');
    }
  }, 300_000);
  afterEach(async () => {
    for (const c of (await containers()).reverse()) await berth('container', 'rm', '--force', c.name);
    expect(leftovers()).toEqual([]);
    expect(await readdir(join(root, 'containers')).catch(() => [])).toEqual([]);
  });
  afterAll(async () => {
    const leaked = leftovers();
    for (const m of [...leaked].reverse()) execFileSync('umount', ['-l', m]);
    await registry?.stop();
    await layout?.cleanup();
    await removeTempRoot(work);
    expect(leaked).toEqual([]);
  });

  it('validate refuses subPath ../../../../etc and workingDir /proc/self/fd/7 at their line and column', async () => {
    const dir = await mkdtemp(join(work, 'm-'));
    await writeFile(
      join(dir, 'bad.yaml'),
      [
        'apiVersion: v1',
        'kind: Pod',
        'metadata: {name: bad}',
        'spec:',
        '  containers:',
        '    - name: main',
        `      image: ${busybox}`,
        '      workingDir: /proc/self/fd/7',
        '      volumeMounts:',
        '        - name: data',
        '          mountPath: /data',
        '          subPath: ../../../../etc',
        '  volumes:',
        '    - name: data',
        '      emptyDir: {}',
        '',
      ].join('\n'),
    );
    const res = await berth('validate', dir);
    expect([res.code, res.stdout]).toEqual([
      2,
      '1 file(s), 0 pod(s), 0 image(s); 2 problem(s) in 1 file(s)\n',
    ]);
    const file = join(dir, 'bad.yaml');
    expect(res.stderr).toBe(
      `${file}:8:19: ERR_MANIFEST_SCHEMA: spec.containers.0.workingDir must not be /proc or under it (a host file descriptor could leak through /proc/self/fd)\n` +
        `${file}:12:20: ERR_MANIFEST_SCHEMA: spec.containers.0.volumeMounts.0.subPath must be a relative path inside the volume: no leading /, no "..", "." or empty component\n`,
    );
  });

  it('a symlink planted in an emptyDir, a named volume or a hostPath never takes a subPath out', async () => {
    const dir = await mkdtemp(join(work, 'm-'));
    const hostDir = join(work, 'host-volume');
    await mkdir(hostDir);
    const volumes = {
      ed: '{name: v, emptyDir: {}}',
      nv: '{name: v, persistentVolumeClaim: {claimName: confine-nv}}',
      hp: `{name: v, hostPath: {path: ${hostDir}}}`,
    };
    // Per pod: an init container plants `conf -> /` and a file in `ok/`; then a container mounts
    // subPaths inside (`ok`, and `new/deep`, which does not exist yet), and one mounts `conf`.
    const pod = (name: string, volume: string, outside: string) =>
      [
        'apiVersion: v1',
        'kind: Pod',
        `metadata: {name: ${name}}`,
        'spec:',
        '  restartPolicy: Never',
        '  terminationGracePeriodSeconds: 1',
        '  initContainers:',
        '    - name: plant',
        `      image: ${busybox}`,
        `      command: ["/bin/sh", "-c", "ln -s / /v/conf; mkdir -p /v/ok; echo inside-${name} > /v/ok/f"]`,
        '      volumeMounts: [{name: v, mountPath: /v}]',
        '  containers:',
        '    - name: confined',
        `      image: ${busybox}`,
        '      command: ["/bin/sh", "-c", "cat /ok/f; touch /new/made"]',
        '      volumeMounts:',
        '        - {name: v, mountPath: /ok, subPath: ok}',
        '        - {name: v, mountPath: /new, subPath: new/deep}',
        '    - name: escape',
        `      image: ${busybox}`,
        '      command: ["/bin/ls", "/conf"]',
        `      volumeMounts: [{name: v, mountPath: /conf, subPath: "${outside}"}]`,
        `  volumes: [${volume}]`,
        '',
      ].join('\n');
    await writeFile(join(dir, 'ed.yaml'), pod('ed', volumes.ed, 'conf'));
    await writeFile(join(dir, 'nv.yaml'), pod('nv', volumes.nv, 'conf'));
    await writeFile(join(dir, 'hp.yaml'), pod('hp', volumes.hp, 'conf'));
    await writeFile(join(dir, 'mid.yaml'), pod('mid', volumes.ed, 'conf/etc'));
    const vol = (p: string) =>
      p === 'nv'
        ? join(root, 'volumes/confine-nv')
        : p === 'hp'
          ? hostDir
          : join(root, `pods/${p}/volumes/v`);
    try {
      const res = await berth('apply', dir);
      expect(res.code).toBe(1);
      expect(res.stderr.split('\n').sort()).toEqual(
        [
          '',
          `failed run          ed/escape: new container: ERR_SUBPATH_UNSAFE: subPath "conf" of ${vol('ed')} is a symbolic link`,
          `failed run          hp/escape: new container: ERR_SUBPATH_UNSAFE: subPath "conf" of ${vol('hp')} is a symbolic link`,
          `failed run          mid/escape: new container: ERR_SUBPATH_UNSAFE: subPath "conf/etc" of ${vol('mid')} goes through a symbolic link or a file (never followed out of the volume)`,
          `failed run          nv/escape: new container: ERR_SUBPATH_UNSAFE: subPath "conf" of ${vol('nv')} is a symbolic link`,
        ].sort(),
      );
      expect((await containers()).map((c) => c.name).sort()).toEqual([
        'ed_confined',
        'ed_plant',
        'hp_confined',
        'hp_plant',
        'mid_confined',
        'mid_plant',
        'nv_confined',
        'nv_plant',
      ]);
      for (const p of ['ed', 'nv', 'hp', 'mid']) {
        for (let i = 0; i < 200 && !(await stat(join(vol(p), 'new/deep/made')).catch(() => undefined)); i++) {
          await new Promise((r) => setTimeout(r, 50));
        }
        expect((await berth('container', 'logs', `${p}_confined`)).stdout).toBe(`inside-${p}\n`);
        expect((await stat(join(vol(p), 'new/deep/made'))).isFile()).toBe(true);
      }
    } finally {
      for (const f of await readdir(dir)) await rm(join(dir, f));
      await berth('apply', dir);
    }
    expect(await containers()).toEqual([]);
    // The named volume and the host directory keep what the containers wrote.
    expect(await readFile(join(root, 'volumes/confine-nv/ok/f'), 'utf8')).toBe('inside-nv\n');
    expect(await readFile(join(hostDir, 'ok/f'), 'utf8')).toBe('inside-hp\n');
  });

  it('removing a container whose create crashed with a subPath staged never deletes through the mount', async () => {
    expect((await berth('container', 'create', busybox, 'crashed', '--', '/bin/true')).code).toBe(0);
    const [c] = (await containers()) as Array<{ id?: string }>;
    // What a kill -9 between staging and unmounting leaves: a volume bound into the bundle.
    const volume = await mkdtemp(join(work, 'precious-'));
    await writeFile(join(volume, 'data'), 'keep me\n');
    const staging = join(root, 'containers', c?.id as string, 'subpaths/0');
    await mkdir(staging, { recursive: true });
    execFileSync('mount', ['--bind', volume, staging]);
    const rmRes = await berth('container', 'rm', 'crashed');
    expect([rmRes.code, rmRes.stderr]).toEqual([0, '']);
    expect(await readFile(join(volume, 'data'), 'utf8')).toBe('keep me\n');
    expect(leftovers()).toEqual([]);
  });

  it.each([
    ['fifo-passwd', '/etc/passwd', 'a FIFO'],
    ['zero-group', '/etc/group', 'a character device'],
  ])(
    'an image whose %s is not a regular file fails create at once and leaves nothing',
    async (tag, path, what) => {
      const res = await berth('container', 'create', imageRef(tag), `x-${tag}`, '--', '/bin/true');
      expect([res.code, res.stdout, res.stderr]).toEqual([
        2,
        '',
        `berth: ERR_IMAGE_FILE_UNSAFE: ${path} in image "${imageRef(tag)}" is ${what}, not a regular file\n`,
      ]);
      expect(await containers()).toEqual([]);
    },
  );

  it('an image Volume holding a FIFO and a device node is seeded without opening either', async () => {
    const name = 'seeded';
    const script = 'ls /data; head -c1 /data/disk >/dev/null 2>&1 || echo denied';
    const create = await berth(
      'container',
      'create',
      imageRef('special-volume'),
      name,
      '--',
      '/bin/sh',
      '-c',
      script,
    );
    expect([create.code, create.stderr]).toEqual([0, '']);
    const [c] = (await containers()) as Array<{ id?: string }>;
    const seeded = join(root, 'containers', c?.id as string, 'volumes/0');
    expect((await stat(join(seeded, 'pipe'))).isFIFO()).toBe(true);
    expect((await stat(join(seeded, 'disk'))).isBlockDevice()).toBe(true);
    expect((await berth('container', 'start', name)).code).toBe(0);
    for (let i = 0; i < 200 && (await containers())[0]?.state !== 'exited'; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await berth('container', 'logs', name)).stdout).toBe('disk\nf\npipe\ndenied\n');
  });

  it('a device outside the allow list cannot be opened, even after mknod; the cgroup namespace is its own', async () => {
    const name = 'dev';
    const script =
      'mknod /tmp/sda b 8 0 && echo made; head -c1 /tmp/sda >/dev/null 2>&1 || echo denied; ' +
      'cut -d: -f3 /proc/self/cgroup | sort -u';
    expect((await berth('container', 'create', busybox, name, '--', '/bin/sh', '-c', script)).code).toBe(0);
    expect((await berth('container', 'start', name)).code).toBe(0);
    for (let i = 0; i < 200 && (await containers())[0]?.state !== 'exited'; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    // With a cgroup namespace (the host has one: /proc/self/ns/cgroup), its own cgroup is `/`.
    const cgroupns = await stat('/proc/self/ns/cgroup').then(
      () => true,
      () => false,
    );
    const own = cgroupns ? '/\n' : expect.stringMatching(/^\/berth\//);
    const out = (await berth('container', 'logs', name)).stdout;
    expect(out.slice(0, 'made\ndenied\n'.length)).toBe('made\ndenied\n');
    expect(out.slice('made\ndenied\n'.length)).toEqual(own);
  });

  it('an image StopSignal runc does not know by name is sent by number; one that is no signal is refused', async () => {
    const name = 'rt';
    const script = "trap 'echo got 37; exit 7' 37; echo ready; while :; do sleep 0.1; done";
    expect(
      (await berth('container', 'create', imageRef('rt-stop'), name, '--', '/bin/sh', '-c', script)).code,
    ).toBe(0);
    expect((await berth('container', 'start', name)).code).toBe(0);
    for (let i = 0; i < 200 && (await berth('container', 'logs', name)).stdout !== 'ready\n'; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const stop = await berth('container', 'stop', name, '--time', '20');
    expect([stop.code, stop.stderr]).toEqual([0, '']);
    expect((await containers())[0]).toMatchObject({ name, state: 'exited', exitCode: 7 });
    expect((await berth('container', 'logs', name)).stdout).toBe('ready\ngot 37\n');
    const bad = await berth('container', 'create', imageRef('bad-stop'), 'bad', '--', '/bin/true');
    expect([bad.code, bad.stderr]).toEqual([
      2,
      `berth: ERR_IMAGE_STOPSIGNAL: image "${imageRef('bad-stop')}" has StopSignal "SIGFOO", which is not a signal (a name like SIGTERM, SIGRTMIN+3, or a number from 1 to 64)\n`,
    ]);
  });

  it('a working directory that leads to /proc/self/fd is refused, given or through the image', async () => {
    const given = await berth(
      'container',
      'create',
      '-w',
      '/proc/self/fd/7',
      busybox,
      'w1',
      '--',
      '/bin/true',
    );
    expect([given.code, given.stderr]).toEqual([
      2,
      'berth: ERR_WORKDIR_UNSAFE: working directory "/proc/self/fd/7" is under /proc (a host file descriptor could leak through it)\n',
    ]);
    const linked = await berth('container', 'create', imageRef('proc-workdir'), 'w2', '--', '/bin/true');
    expect([linked.code, linked.stderr]).toEqual([
      2,
      'berth: ERR_WORKDIR_UNSAFE: working directory "/work" leads to /proc/self/fd/7 in the image, under /proc (a host file descriptor could leak through it)\n',
    ]);
  });

  it("a mount the image's symlinks lead into /proc is refused: its stdio would go to the bundle's file", async () => {
    const res = await berth('container', 'create', imageRef('proc-resolv'), 'r1', '--', '/bin/true');
    expect([res.code, res.stderr]).toEqual([
      2,
      'berth: ERR_MOUNT_UNSAFE: mount destination /etc/resolv.conf leads to /proc/self/fd/0 in the image: a symlink into a kernel file system (the mount would land on what the runtime mounted there)\n',
    ]);
    expect(await containers()).toEqual([]);
  });
});
