// Hostile and odd image configs end to end, as root with real runc, conmon and overlayfs: images
// whose config bytes the test writes itself (a static busybox layer under them), pushed to a
// loopback registry and run. Each either runs as Docker would run it or fails create with one line
// naming the image and the field, and leaves nothing behind (no container, runc state, bundle or
// mount).
// - Volumes on the files berth binds itself (/etc/hosts, /etc/hostname, /etc/resolv.conf) are left
//   out and berth's files stay; one in /proc or /sys, on the root, relative or on a file is refused.
// - A WorkingDir that is a file (or leads to one) or relative is refused; one whose symlink dangles
//   (aimed out of the root too) is made where it leads, inside.
// - An image of no layers (an empty root) runs a command a bind mount brings; so does any image: a
//   command at or under a mount's destination is not the image's to have.
// - A WorkingDir or Volumes path with ".." is cleaned as Docker cleans it (filepath.Clean), not refused.
// - A NUL byte in Env or an argument, and an Env entry without a name, are refused.
// - User "0:0:0" is group "0:0", as runc splits it: no such group.
// - A passwd entry whose uid is past 32 bits is refused as such, not as a missing user.
// - A /proc or /sys that is not a directory, or a /dev that does not lead to one, where runc mounts
//   proc, sysfs and a tmpfs, is refused naming the image and the path; a /dev symlink to a directory
//   runs, the devices made there.
import { readFileSync } from 'node:fs';
import { chmod, copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type E2eHost, setUpE2eHost, tearDownE2eHost } from '../helpers/e2e-host.js';
import { containerIdsOnDisk, mountsUnder } from '../helpers/leaks.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { buildRawImage, gzipLayer, pushRawImage, type TarSpec } from '../helpers/tar-bytes.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'unshare', 'findmnt'], {
  root: true,
});

const APPLETS = ['sh', 'cat', 'pwd', 'ls', 'true', 'grep', 'readlink', 'stat'];
const PASSWD = 'root:x:0:0:root:/root:/bin/sh\n';

/** A static busybox, `/etc/passwd` and whatever else the image needs, in one layer. */
function busyboxLayer(o: { passwd?: string; extra?: TarSpec[] } = {}) {
  return gzipLayer([
    ...['bin', 'etc', 'srv', 'data'].map((d): TarSpec => ({ name: `${d}/`, type: 'directory' })),
    { name: 'tmp/', type: 'directory', mode: 0o1777 },
    { name: 'bin/busybox', body: readFileSync('/bin/busybox'), mode: 0o755 },
    ...APPLETS.map((a): TarSpec => ({ name: `bin/${a}`, type: 'symlink', linkname: 'busybox' })),
    { name: 'etc/passwd', body: o.passwd ?? PASSWD },
    { name: 'etc/group', body: 'root:x:0:\n' },
    { name: 'data/seed', body: 'seeded\n' },
    ...(o.extra ?? []),
  ]);
}

describe.skipIf(skip)('hostile image configs', () => {
  let host: E2eHost | undefined;
  const h = () => host as E2eHost;
  const ref = (tag: string) => `${h().registry.host}/hostile/${tag}:1`;
  /** Push `tag`: busybox with `config` as the image config's `config` (over `Cmd: [/bin/sh]`). */
  const push = async (tag: string, config: Record<string, unknown>, layer = busyboxLayer()) => {
    const image = buildRawImage([layer], { config: { config: { Cmd: ['/bin/sh'], ...config } } });
    await pushRawImage(h().registry.url, `hostile/${tag}`, '1', image);
    const pulled = await h().berth('image', 'pull', ref(tag));
    expect([pulled.code, pulled.stderr]).toEqual([0, '']);
  };
  /** `container run --rm` of `tag` with `script`: its exit code, stdout and stderr. */
  const run = async (tag: string, script: string, flags: string[] = []) => {
    const r = await h().berth(
      'container',
      'run',
      ref(tag),
      tag,
      '--rm',
      ...flags,
      '--',
      '/bin/sh',
      '-c',
      script,
    );
    return { code: r.code, stdout: r.stdout, stderr: r.stderr };
  };
  /** What a create that failed must not leave: a container, runc state, a bundle, a mount. */
  const leftovers = async () => ({
    containers: JSON.parse((await h().berth('container', 'ls', '-o', 'json')).stdout || '[]'),
    ids: containerIdsOnDisk(h().root, h().state),
    mounts: mountsUnder(h().work),
  });
  const nothingLeft = { containers: [], ids: [], mounts: [] };

  beforeAll(async () => {
    host = await setUpE2eHost('hostile-config', { repo: 'hostile' });
    await push('managed-volumes', {
      Volumes: { '/etc/hosts': {}, '/etc/hostname/': {}, '//etc/resolv.conf': {}, '/data': {} },
    });
    await push('proc-volume', { Volumes: { '/proc/sys/kernel': {} } });
    await push('sys-volume', { Volumes: { '/sys/fs/cgroup/x': {} } });
    await push('root-volume', { Volumes: { '/': {} } });
    await push('file-volume', { Volumes: { '/etc/passwd': {} } });
    await push('relative-volume', { Volumes: { data: {} } });
    await push('file-workdir', { WorkingDir: '/etc/passwd' });
    await push('relative-workdir', { WorkingDir: 'srv' });
    await push(
      'linked-file-workdir',
      { WorkingDir: '/w' },
      busyboxLayer({ extra: [{ name: 'w', type: 'symlink', linkname: '/etc/passwd' }] }),
    );
    await push(
      'escaping-workdir',
      { WorkingDir: '/w' },
      busyboxLayer({ extra: [{ name: 'w', type: 'symlink', linkname: '../../../../srv/app' }] }),
    );
    const noLayers = buildRawImage([], { config: { config: { Cmd: ['/busybox', 'echo', 'no layers'] } } });
    await pushRawImage(h().registry.url, 'hostile/no-layers', '1', noLayers);
    await push('dotdot-paths', { WorkingDir: '/srv/../data/', Volumes: { '/srv/../vol/./x/..': {} } });
    await push('nul-env', { Env: ['PATH=/bin', 'A=b\u0000c'] });
    await push('nul-cmd', { Cmd: ['/bin/sh', '-c', 'echo a\u0000b'] });
    await push('nameless-env', { Env: ['=x'] });
    await push('user-colons', { User: '0:0:0' });
    for (const [tag, entry] of [
      ['proc-link', { name: 'proc', type: 'symlink', linkname: '/tmp' }],
      ['sys-file', { name: 'sys', body: 'not a directory' }],
      ['dev-to-passwd', { name: 'dev', type: 'symlink', linkname: 'etc/passwd' }],
      ['dev-to-dir', { name: 'dev', type: 'symlink', linkname: '/srv' }],
    ] as const)
      await push(tag, {}, busyboxLayer({ extra: [entry as TarSpec] }));
    await push(
      'big-uid',
      { User: 'big' },
      busyboxLayer({ passwd: `${PASSWD}big:x:4294967296:0::/:/bin/sh\n` }),
    );
  }, 240_000);
  afterEach(async () => {
    expect(await leftovers()).toEqual(nothingLeft);
  });
  afterAll(async () => {
    const { left, leaked } = await tearDownE2eHost(host, { forceFirst: true });
    expect(left).toEqual([]);
    expect(leaked).toEqual([]);
  });

  it("Volumes on /etc/hosts, /etc/hostname and /etc/resolv.conf are left out: berth's files stay", async () => {
    const r = await run(
      'managed-volumes',
      'cat /etc/hostname; grep -c managed-volumes /etc/hosts; cat /data/seed',
    );
    expect(r).toEqual({ code: 0, stdout: 'managed-volumes\n1\nseeded\n', stderr: '' });
  });

  it.each([
    ['proc-volume', '"/proc/sys/kernel" is in /proc, a kernel file system the runtime mounts itself'],
    ['sys-volume', '"/sys/fs/cgroup/x" is in /sys, a kernel file system the runtime mounts itself'],
    ['root-volume', '"/" is the root directory'],
    ['file-volume', '"/etc/passwd" is not a directory in the image: a volume is one'],
    ['relative-volume', '"data" is not an absolute path'],
  ])('a volume berth cannot mount is refused naming the image and the field: %s', async (tag, why) => {
    expect(await run(tag, 'true')).toEqual({
      code: 125,
      stdout: '',
      stderr: `berth: ERR_IMAGE_VOLUME_INVALID: image "${ref(tag)}": config.Volumes ${why}\n`,
    });
  });

  it('a WorkingDir that is a file, or leads to one, is refused naming the image and the field', async () => {
    expect(await run('file-workdir', 'true')).toEqual({
      code: 125,
      stdout: '',
      stderr: `berth: ERR_WORKDIR_INVALID: image "${ref('file-workdir')}": config.WorkingDir "/etc/passwd" is not a directory in the image\n`,
    });
    expect(await run('linked-file-workdir', 'true')).toEqual({
      code: 125,
      stdout: '',
      stderr: `berth: ERR_WORKDIR_INVALID: image "${ref('linked-file-workdir')}": config.WorkingDir "/w" is not a directory in the image (it leads to /etc/passwd)\n`,
    });
    expect(await run('relative-workdir', 'true')).toEqual({
      code: 125,
      stdout: '',
      stderr: `berth: ERR_CONTAINER_INVALID: image "${ref('relative-workdir')}": config.WorkingDir "srv" is not an absolute path\n`,
    });
  });

  it('a /proc, /sys or /dev that is not a directory where the runtime mounts its own is refused naming the image and the path', async () => {
    const refused = (tag: string, why: string) => ({
      code: 125,
      stdout: '',
      stderr: `berth: ERR_IMAGE_MOUNTPOINT_INVALID: image "${ref(tag)}": ${why}: it must be a directory or absent\n`,
    });
    expect(await run('proc-link', 'true')).toEqual(
      refused('proc-link', '/proc is a symlink (to /tmp) in the image, where the runtime mounts proc'),
    );
    expect(await run('sys-file', 'true')).toEqual(
      refused('sys-file', '/sys is a file in the image, where the runtime mounts sysfs'),
    );
    expect(await run('dev-to-passwd', 'true')).toEqual(
      refused(
        'dev-to-passwd',
        '/dev is a file (/dev leads to /etc/passwd) in the image, where the runtime mounts a tmpfs',
      ),
    );
    expect(await run('dev-to-dir', 'readlink /dev; stat -c %t,%T /srv/null')).toEqual({
      code: 0,
      stdout: '/srv\n1,3\n',
      stderr: '',
    });
  });

  it('a WorkingDir whose symlink dangles out of the root is made where it leads, inside', async () => {
    expect(await run('escaping-workdir', 'pwd; readlink /w')).toEqual({
      code: 0,
      stdout: '/srv/app\n../../../../srv/app\n',
      stderr: '',
    });
    // Given with the container, the same.
    expect(await run('escaping-workdir', 'pwd', ['-w', '/w/sub'])).toEqual({
      code: 0,
      stdout: '/srv/app/sub\n',
      stderr: '',
    });
  });

  it('an image of no layers runs, its command brought by a bind mount', async () => {
    const r = await h().berth(
      'container',
      'run',
      ref('no-layers'),
      'no-layers',
      '--rm',
      '-v',
      '/bin/busybox:/busybox:ro',
    );
    expect([r.code, r.stdout, r.stderr]).toEqual([0, 'no layers\n', '']);
  });

  it("a command at or under a mount's destination is looked for there, not in the image", async () => {
    const r = await h().berth(
      'container',
      'run',
      ref('managed-volumes'),
      'tool-mounted',
      '--rm',
      '-v',
      '/bin/busybox:/opt/tools/busybox:ro',
      '--',
      '/opt/tools/busybox',
      'echo',
      'mounted',
    );
    expect([r.code, r.stdout, r.stderr]).toEqual([0, 'mounted\n', '']);
  });

  it('a bare name on PATH through a mounted directory is looked for in that directory: a typo stays not found', async () => {
    const tools = join(h().work, 'tools');
    await mkdir(tools, { recursive: true });
    await copyFile('/bin/busybox', join(tools, 'busybox'));
    await chmod(join(tools, 'busybox'), 0o755);
    const mountedRun = (name: string, cmd: string) =>
      h().berth(
        'container',
        'run',
        ref('managed-volumes'),
        name,
        '--rm',
        '-v',
        `${tools}:/usr/local/bin:ro`,
        '--',
        cmd,
        'echo',
        'found',
      );
    const found = await mountedRun('tool-dir', 'busybox');
    expect([found.code, found.stdout, found.stderr]).toEqual([0, 'found\n', '']);
    const typo = await mountedRun('tool-typo', 'busybx');
    expect([typo.code, typo.stdout]).toEqual([127, '']);
    expect(typo.stderr).toContain('ERR_COMMAND_NOT_FOUND');
  });

  it('a WorkingDir and a volume with ".." are cleaned as Docker cleans them, not refused', async () => {
    expect(await run('dotdot-paths', 'pwd; cat seed; grep -c " /vol " /proc/self/mounts')).toEqual({
      code: 0,
      stdout: '/data\nseeded\n1\n',
      stderr: '',
    });
  });

  it('an Env entry or an argument with a NUL byte, or an Env entry with no name, is refused naming it', async () => {
    const refused = (tag: string, why: string) => ({
      code: 125,
      stdout: '',
      stderr: `berth: ERR_IMAGE_CONFIG_INVALID: image "${ref(tag)}": config.${why}\n`,
    });
    const nul = 'holds a NUL byte, which no process can be given';
    expect(await run('nul-env', 'true')).toEqual(refused('nul-env', `Env[1] ${nul}`));
    expect(await run('nameless-env', 'true')).toEqual(
      refused('nameless-env', 'Env[0] "=x" is not KEY=VALUE'),
    );
    const cmd = await h().berth('container', 'run', ref('nul-cmd'), 'nul-cmd', '--rm');
    expect([cmd.code, cmd.stderr]).toEqual([125, refused('nul-cmd', `Cmd[2] ${nul}`).stderr]);
    // A command given replaces the image's Cmd: its NUL is no one's business then.
    expect(await run('nul-cmd', 'echo given')).toEqual({ code: 0, stdout: 'given\n', stderr: '' });
  });

  it('User "0:0:0" is user 0 and group "0:0", as runc splits it: no such group', async () => {
    expect(await run('user-colons', 'true')).toEqual({
      code: 125,
      stdout: '',
      stderr: `berth: ERR_UNKNOWN_GROUP: container "user-colons": group "0:0" is not in /etc/group of image "${ref('user-colons')}"\n`,
    });
  });

  it('a user whose uid in /etc/passwd is past 32 bits is refused as such', async () => {
    expect(await run('big-uid', 'true')).toEqual({
      code: 125,
      stdout: '',
      stderr: `berth: ERR_USER_INVALID: container "big-uid": user "big" has uid 4294967296 in /etc/passwd of image "${ref('big-uid')}", out of range (at most 4294967295)\n`,
    });
  });
});
