// Least privilege, tried as a local user (uid 65534, through setpriv) against a real store: it can
// neither list --root nor read a bundle, nor open a device node an image shipped, nor run a setuid
// file a container wrote; a store made with older, looser modes is tightened by the next command;
// containers running as a non-root user still work; the names the old abstract-socket locks used,
// bound first by that user, no longer stop `berth apply`; and a removed container leaves no cgroup.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runBerth } from '../helpers/cli.js';
import { buildImage, createLayout, type Layout, populateBusybox, pushImage } from '../helpers/images.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'setpriv', 'mknod'], {
  root: true,
});

/** Run `script` (CommonJS, for the system's node) as uid/gid 65534 with no groups; its stdout. */
function asNobody(script: string, args: string[]): string {
  return execFileSync('setpriv', [
    '--reuid',
    '65534',
    '--regid',
    '65534',
    '--clear-groups',
    '/usr/bin/node',
    '-e',
    script,
    '--',
    ...args,
  ]).toString();
}

/** What a local user gets trying each of `paths` (list / read / open / exec): an errno name or ok. */
const PROBE = `
const fs = require('node:fs');
const { spawnSync } = require('node:child_process');
const [list, read, open, exec] = process.argv.slice(1);
const attempt = (fn) => { try { fn(); return 'ok'; } catch (e) { return e.code; } };
const run = (p) => { const r = spawnSync(p, ['-c', 'id -u']); if (r.error) throw r.error; };
console.log(JSON.stringify({
  list: list.split(',').map((p) => attempt(() => fs.readdirSync(p))),
  read: read.split(',').map((p) => attempt(() => fs.readFileSync(p))),
  open: attempt(() => fs.closeSync(fs.openSync(open, 'r'))),
  exec: attempt(() => run(exec)),
}));
`;

describe.skipIf(skip)('privilege', () => {
  let registry: TestRegistry;
  let layout: Layout;
  let work: string;
  let image: string;
  let root: string;
  let state: string;
  const berth = (...args: string[]) => runBerth(['--root', root, '--state', state, ...args]);
  const ok = async (...args: string[]) => {
    const res = await berth(...args);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    return res.stdout;
  };
  const containers = async () =>
    JSON.parse(await ok('container', 'ls', '-o', 'json')) as Array<{
      id: string;
      name: string;
      state: string;
    }>;
  const waitExited = async (name: string) => {
    for (let i = 0; i < 200; i++) {
      const c = (await containers()).find((x) => x.name === name);
      if (c?.state === 'exited') return c;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${name} never exited`);
  };
  const mode = async (p: string) => (await lstat(p)).mode & 0o7777;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-priv-'));
    // mkdtemp makes it 0700, which alone would keep the user out: only berth's modes may decide.
    await chmod(work, 0o755);
    registry = await startRegistry();
    layout = await createLayout();
    const withDevice = async (rootfs: string) => {
      await mkdir(join(rootfs, 'dev'), { recursive: true });
      execFileSync('mknod', ['-m', '0666', join(rootfs, 'dev/probe'), 'c', '1', '3']); // /dev/null's numbers
    };
    await buildImage(layout, 'busybox', [populateBusybox, withDevice], { cmd: '/bin/sh' });
    image = `${registry.host}/test/busybox:1`;
    await pushImage(layout, 'busybox', image);
  }, 180_000);
  afterAll(async () => {
    await registry?.stop();
    await layout?.cleanup();
    await removeTempRoot(work);
  });

  let n = 0;
  const setupStore = async () => {
    const t = await mkdtemp(join(work, 't-'));
    await chmod(t, 0o755);
    root = join(t, 'root');
    state = join(t, 'state');
    await ok('image', 'pull', image);
  };
  let squatter: ChildProcess | undefined;
  afterEach(async () => {
    squatter?.kill('SIGKILL'); // also when a test timed out before its finally
    squatter = undefined;
    for (const c of (await containers()).reverse()) await berth('container', 'rm', '--force', c.name);
  });

  it('a local user can neither list the store, read a bundle, open an image device node nor run a setuid file', async () => {
    await setupStore();
    const name = `c${++n}`;
    // As root inside, the container writes a setuid-root shell into its upper dir.
    await ok(
      'container',
      'create',
      image,
      name,
      '--',
      '/bin/sh',
      '-c',
      'cp /bin/busybox /tmp/suid && chmod 4755 /tmp/suid',
    );
    await ok('container', 'start', name);
    const { id } = await waitExited(name);
    const bundle = join(root, 'containers', id);
    const device = execFileSync('find', [join(root, 'snapshots'), '-path', '*/fs/dev/probe'])
      .toString()
      .trim();
    const suid = join(bundle, 'upper/tmp/suid');
    expect((await stat(device)).isCharacterDevice()).toBe(true);
    expect(await mode(suid)).toBe(0o4755);
    expect(await mode(root)).toBe(0o711);
    expect(await mode(state)).toBe(0o711);
    for (const d of ['containers', 'snapshots', 'content', 'ingest', 'volumes', 'locks']) {
      expect([d, await mode(join(root, d))]).toEqual([d, 0o700]);
    }
    expect(await mode(join(bundle, 'config.json'))).toBe(0o600);
    expect(await mode(join(bundle, 'container.json'))).toBe(0o600);
    const seen = JSON.parse(
      asNobody(PROBE, [
        [root, join(root, 'containers'), state].join(','),
        [join(bundle, 'config.json'), join(bundle, 'container.json')].join(','),
        device,
        suid,
      ]),
    );
    expect(seen).toEqual({
      list: ['EACCES', 'EACCES', 'EACCES'],
      read: ['EACCES', 'EACCES'],
      open: 'EACCES',
      exec: 'EACCES',
    });
  });

  it("a local user running berth on root's store or daemon: one line saying it is root's, never to remove or give it away", async () => {
    await setupStore();
    const sock = join(state, 'berth.sock');
    const daemon = createServer();
    await new Promise<void>((r) => daemon.listen(sock, r));
    await chmod(sock, 0o600);
    try {
      const asNobodyCli = (args: string[]) =>
        spawnSync(
          'setpriv',
          ['--reuid', '65534', '--regid', '65534', '--clear-groups', process.execPath, CLI, ...args],
          { encoding: 'utf8' },
        );
      // A daemon serving the --state (its socket root's alone), and none: the store itself.
      // README: ERR_FORBIDDEN for the socket, or ERR_UNSAFE_DIR for --root or --state when the
      // command reaches them first; the commands that ask the daemon (ps, logs, apply) and one that does not.
      for (const args of [['ps'], ['logs', 'web'], ['apply', state], ['image', 'ls']]) {
        const r = asNobodyCli(['--root', root, '--state', state, ...args]);
        expect([r.status, r.stderr.split('\n').length]).toEqual([5, 2]);
        expect(r.stderr).toMatch(/^berth: ERR_(FORBIDDEN|UNSAFE_DIR): .*run berth as root \(sudo berth …\)/);
        expect(r.stderr).not.toContain('remove it');
      }
    } finally {
      daemon.close();
    }
  });

  it('a store made with the old modes is tightened by the next command', async () => {
    await setupStore();
    await ok('container', 'create', image, 'old', '--', '/bin/true');
    const id = (await containers())[0]?.id as string;
    const bundle = join(root, 'containers', id);
    // What berth made before: everything 0755, files 0644, no marker.
    for (const d of [
      root,
      state,
      ...['containers', 'snapshots', 'content', 'ingest', 'locks'].map((d) => join(root, d)),
    ]) {
      await chmod(d, 0o755);
    }
    await chmod(bundle, 0o755);
    await chmod(join(bundle, 'config.json'), 0o644);
    await chmod(join(bundle, 'container.json'), 0o644);
    await rm(join(root, '.private-v1'));
    await ok('container', 'ls');
    expect(await mode(root)).toBe(0o711);
    expect(await mode(state)).toBe(0o711);
    for (const d of ['containers', 'snapshots', 'content', 'ingest', 'locks']) {
      expect([d, await mode(join(root, d))]).toEqual([d, 0o700]);
    }
    expect(await mode(bundle)).toBe(0o700);
    expect(await mode(join(bundle, 'config.json'))).toBe(0o600);
    expect(await mode(join(bundle, 'container.json'))).toBe(0o600);
  });

  it('a container running as uid 65534 still works under the private store', async () => {
    await setupStore();
    await ok(
      'container',
      'create',
      '--user',
      '65534:65534',
      image,
      'nobody',
      '--',
      '/bin/sh',
      '-c',
      'id -u; id -g; ls /bin/sh; cat /etc/hostname >/dev/null && echo read-ok',
    );
    await ok('container', 'start', 'nobody');
    const c = await waitExited('nobody');
    expect(c).toMatchObject({ state: 'exited', exitCode: 0 });
    expect(await ok('container', 'logs', 'nobody')).toBe('65534\n65534\n/bin/sh\nread-ok\n');
  });

  it('the lock names any user could bind no longer stop apply', async () => {
    await setupStore();
    await mkdir(state, { recursive: true }); // /run/berth: there before berth runs
    const manifests = join(work, `empty-${++n}`);
    await mkdir(manifests);
    // The abstract names berth used to bind for its locks, bound first by the local user.
    const hash = (dir: string) => createHash('sha256').update(realpathSync(dir)).digest('hex').slice(0, 24);
    const names = [`store-${hash(root)}`, `reconcile-${hash(state)}`, `daemon-${hash(state)}`];
    const child = spawn(
      'setpriv',
      [
        '--reuid',
        '65534',
        '--regid',
        '65534',
        '--clear-groups',
        // A plain python process, as in the report (bound names of exactly the length berth used).
        '/usr/bin/python3',
        '-c',
        `import socket, sys, time
held = []
for n in ${JSON.stringify(names)}:
    s = socket.socket(socket.AF_UNIX)
    s.bind('\\0berth-' + n)
    s.listen()
    held.append(s)
print('bound', flush=True)
time.sleep(3600)`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    squatter = child;
    try {
      await new Promise((r) => child.stdout.once('data', r));
      const res = await berth('apply', manifests);
      expect({ code: res.code, stderr: res.stderr }).toEqual({ code: 0, stderr: '' });
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('an empty or corrupt container.json is skipped and reported by container ls, ps and prune, never thrown', async () => {
    await setupStore();
    await ok('container', 'create', image, 'good', '--', '/bin/true');
    await ok('container', 'create', image, 'empty', '--', '/bin/true');
    await ok('container', 'create', image, 'corrupt', '--', '/bin/true');
    const all = await containers();
    const idOf = (name: string) => all.find((c) => c.name === name)?.id as string;
    const recordOf = (name: string) => join(root, 'containers', idOf(name), 'container.json');
    const saved = { empty: await readFile(recordOf('empty')), corrupt: await readFile(recordOf('corrupt')) };
    await writeFile(recordOf('empty'), '');
    await writeFile(recordOf('corrupt'), '{"id": "trunc');
    try {
      const hint = (name: string) => ` (berth container rm --force ${idOf(name)} removes it)`;
      const warnings =
        `warning: skipped container ${idOf('empty')}: ${recordOf('empty')}: empty file${hint('empty')}\n` +
        `warning: skipped container ${idOf('corrupt')}: ${recordOf('corrupt')}: not JSON (Unterminated string in JSON at position 13 (line 1 column 14))${hint('corrupt')}\n`;
      const sorted = (text: string) => text.split('\n').sort().join('\n');
      const ls = await berth('container', 'ls', '-o', 'json');
      expect({ code: ls.code, stderr: sorted(ls.stderr) }).toEqual({ code: 0, stderr: sorted(warnings) });
      expect((JSON.parse(ls.stdout) as Array<{ name: string }>).map((c) => c.name)).toEqual(['good']);
      const ps = await berth('ps');
      expect({ code: ps.code, stderr: sorted(ps.stderr) }).toEqual({ code: 0, stderr: sorted(warnings) });
      // Prune goes on, and keeps every snapshot: those containers' layers are unknown.
      const snapshots = (await readdir(join(root, 'snapshots'))).filter((n) => /^[a-f0-9]{64}$/.test(n));
      await ok('image', 'rm', image);
      const prune = await berth('image', 'prune');
      expect({ code: prune.code, stderr: sorted(prune.stderr) }).toEqual({
        code: 0,
        stderr: sorted(warnings),
      });
      expect((await readdir(join(root, 'snapshots'))).filter((n) => /^[a-f0-9]{64}$/.test(n))).toEqual(
        snapshots,
      );
      // Removed by its id: runc's container, its cgroups, rootfs mount and bundle go.
      const removed = await berth('container', 'rm', '--force', idOf('empty'));
      expect(removed).toMatchObject({ code: 0, stdout: `removed ${idOf('empty')}\n`, stderr: '' });
      const id = idOf('empty');
      const runcIds = execFileSync('runc', ['--root', join(state, 'runc'), 'list', '-q'])
        .toString()
        .split('\n');
      const mounts = execFileSync('findmnt', ['-rn', '-o', 'TARGET']).toString().split('\n');
      expect({
        cgroups: cgroupDirs(id),
        runc: runcIds.filter((x) => x === id),
        mounts: mounts.filter((m) => m.includes(id)),
        bundle: (await readdir(join(root, 'containers'))).filter((x) => x === id),
      }).toEqual({ cgroups: [], runc: [], mounts: [], bundle: [] });
    } finally {
      await writeFile(recordOf('empty'), saved.empty).catch(() => undefined); // removed by then
      await writeFile(recordOf('corrupt'), saved.corrupt);
    }
  });

  const cgroupDirs = (id: string) =>
    execFileSync('find', ['/sys/fs/cgroup', '-maxdepth', '3', '-type', 'd', '-name', id])
      .toString()
      .split('\n')
      .filter(Boolean);

  it('a running container whose record is unreadable keeps its name: create of it is refused', async () => {
    await setupStore();
    await ok('container', 'create', image, 'held', '--', '/bin/sleep', '300');
    await ok('container', 'start', 'held');
    const id = (await containers()).find((c) => c.name === 'held')?.id as string;
    const record = join(root, 'containers', id, 'container.json');
    await writeFile(record, '');
    try {
      const again = await berth('container', 'create', image, 'held', '--', '/bin/true');
      expect({ code: again.code, stderr: again.stderr }).toEqual({
        code: 4,
        stderr:
          `berth: ERR_NAME_TAKEN: a container named "held" runs with an unreadable record (${record})` +
          ` (remove it with: berth container rm --force ${id})\n`,
      });
    } finally {
      await berth('container', 'rm', '--force', id);
    }
  });

  it('a removed container leaves no cgroup in any hierarchy: running, exited, created, or its runc state lost', async () => {
    await setupStore();
    const ids: Record<string, string> = {};
    const cases: Array<[string, string]> = [
      ['running', 'sleep 30'],
      ['exited', 'true'],
      ['created', 'true'],
      ['lost', 'sleep 30'],
    ];
    for (const [name, cmd] of cases) {
      await ok('container', 'create', image, name, '--', '/bin/sh', '-c', cmd);
      if (name !== 'created') await ok('container', 'start', name);
      ids[name] = (await containers()).find((c) => c.name === name)?.id as string;
    }
    await waitExited('exited');
    // A reboot, or a runc state lost with /run: runc no longer knows the container.
    execFileSync('runc', ['--root', join(state, 'runc'), 'kill', ids.lost as string, 'KILL']);
    await waitExited('lost');
    await rm(join(state, 'runc', ids.lost as string), { recursive: true });
    const before = Object.fromEntries(Object.entries(ids).map(([k, id]) => [k, cgroupDirs(id).length > 0]));
    for (const name of Object.keys(ids)) await ok('container', 'rm', '--force', name);
    const after = Object.fromEntries(Object.entries(ids).map(([k, id]) => [k, cgroupDirs(id)]));
    expect({ before, after }).toEqual({
      before: { running: true, exited: true, created: true, lost: true },
      after: { running: [], exited: [], created: [], lost: [] },
    });
  });
});
