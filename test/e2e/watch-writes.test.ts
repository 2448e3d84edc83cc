// The watched folder and pod volumes under real writers, with `berth daemon` running: a file
// renamed or moved by a checkout, the folder replaced by `mv`, files written by vim, cp, tar,
// install, git, slowly in place as scp does, in encodings editors write (UTF-16 with a BOM,
// Latin-1), replaced by things that are no manifest; an emptyDir a container left immutable files
// and planted links in. What runs is never lost to a write, what is unchanged is never restarted,
// and nothing outside the root is touched.
import { type ChildProcess, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, open, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { endChild, endStarted, spawnBerth } from '../helpers/cli.js';
import { type E2eHost, setUpE2eHost, tearDownE2eHost } from '../helpers/e2e-host.js';
import { containerStates, until } from '../helpers/poll.js';
import { missingPrereqs } from '../helpers/prereqs.js';

const skip = missingPrereqs(
  ['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'unshare', 'findmnt', 'git'],
  {
    root: true,
  },
);

describe.skipIf(skip)('the watched folder under real writers', () => {
  let h: E2eHost;
  let work: string;
  let root: string;
  let state: string;
  const folders: string[] = [];
  const started = new Set<ChildProcess>();
  const berth = (...args: string[]) => h.berth(...args);
  const ids = () => containerStates(berth);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const running = async (pod: string) => (await ids())[`${pod}_main`]?.endsWith(':running') === true;
  const says = async (pod: string, text: string) =>
    (await running(pod)) && (await berth('logs', pod)).stdout === `${text}\n`;
  const pod = (name: string, text = 'hello') =>
    `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  terminationGracePeriodSeconds: 2\n  containers:\n` +
    `    - name: main\n      image: ${h.image}\n` +
    `      command: ["/bin/sh", "-c", "trap 'exit 0' TERM; echo ${text}; while true; do sleep 1; done"]\n`;
  /** A daemon on `dir` (made, and cleaned up after the file's tests) with no resync: only events start passes. */
  const start = async (name: string) => {
    const dir = join(work, name);
    await mkdir(dir, { recursive: true });
    folders.push(dir);
    const d = spawnBerth(['--root', root, '--state', state, 'daemon', '--manifests', dir, '--resync', '600']);
    started.add(d);
    let log = '';
    d.stderr?.on('data', (c: Buffer) => {
      log += c.toString();
    });
    return { dir, d, log: () => log };
  };
  const stop = (d: ChildProcess) => endChild(d, 'SIGTERM');

  afterEach(async () => {
    await endStarted(started);
  });
  beforeAll(async () => {
    h = await setUpE2eHost('watch-writes');
    ({ work, root, state } = h);
  }, 180_000);
  afterAll(async () => {
    const { left, leaked } = await tearDownE2eHost(h, { folders });
    expect(left).toEqual([]);
    expect(leaked).toEqual([]);
  });

  it('a file renamed (mv a.yaml b.yaml) keeps its pod running: the same container', async () => {
    const { dir, d } = await start('renamed');
    await writeFile(join(dir, 'a.yaml'), pod('ra'));
    await until('ra runs', () => running('ra'));
    const before = (await ids()).ra_main;
    await rename(join(dir, 'a.yaml'), join(dir, 'b.yaml'));
    await sleep(3500); // past the 2 s a deleted file is held
    expect((await ids()).ra_main).toBe(before);
    await stop(d);
  }, 60_000);

  it('a UTF-16 file with a BOM (PowerShell, Notepad) is read as YAML reads it: its pod runs', async () => {
    const { dir, d } = await start('utf16');
    const text = pod('u16');
    await writeFile(
      join(dir, 'u.yaml'),
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]),
    );
    await until('u16 runs', () => running('u16'), 100);
    await stop(d);
  }, 60_000);

  it('a Latin-1 file (an old editor) is refused at its first bad byte, never read lossily: the pod runs as it was', async () => {
    const { dir, d } = await start('latin1');
    const file = join(dir, 'l.yaml');
    await writeFile(file, pod('l1', 'v1'));
    await until('l1 says v1', () => says('l1', 'v1'));
    const before = (await ids()).l1_main;
    await writeFile(file, Buffer.from(pod('l1', 'caf\u00e9'), 'latin1'));
    await sleep(3000);
    expect((await ids()).l1_main).toBe(before);
    const line =
      pod('l1')
        .split('\n')
        .findIndex((l) => l.includes('echo')) + 1;
    const col = pod('l1', 'caf').split('\n')[line - 1]?.indexOf('caf') ?? 0;
    expect((await berth('validate', dir)).stderr).toContain(
      `${file}:${line}:${col + 4}: ERR_MANIFEST_ENCODING: not UTF-8 text: byte 0xe9 (berth reads UTF-8, or UTF-16 with a byte order mark)`,
    );
    await stop(d);
  }, 60_000);

  /** A pod whose container prints $A and $B once, from `env` entries A and B. */
  const envPod = (name: string, b: string) =>
    `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  terminationGracePeriodSeconds: 2\n  containers:\n` +
    `    - name: main\n      image: ${h.image}\n` +
    `      command: ["/bin/sh", "-c", "trap 'exit 0' TERM; echo $A $B; while true; do sleep 1; done"]\n` +
    `      env:\n        - name: A\n          value: a\n        - name: B\n          value: ${b}\n`;
  /** scp's way: open with O_TRUNC, then the text in pieces with pauses, each piece ending a line. */
  const writeSlowly = async (file: string, text: string, pieces: string[], pauseMs: number) => {
    const fh = await open(file, 'w');
    let rest = text;
    for (const cut of pieces) {
      const end = rest.indexOf(cut) + cut.length;
      await fh.write(rest.slice(0, end));
      rest = rest.slice(end);
      await sleep(pauseMs);
    }
    await fh.write(rest);
    await fh.close();
  };
  const startsOf = async (name: string) =>
    (await berth('events', '--until', '0s', '--output', 'json', '--filter', `pod=${name}`)).stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { reason: string })
      .filter((e) => e.reason === 'Started').length;

  it('a new file written slowly in pieces (scp) starts its pod once, from the whole file', async () => {
    const { dir, d } = await start('slow-new');
    // Each pause leaves a file that parses cleanly and ends its line: a pod without B, then with B empty.
    await writeSlowly(join(dir, 's.yaml'), envPod('sn', 'b'), ['value: a\n', '- name: B\n'], 1500);
    await until('sn runs', () => running('sn'));
    await sleep(1000);
    expect((await berth('logs', 'sn')).stdout).toBe('a b\n');
    expect(await startsOf('sn')).toBe(1);
    await stop(d);
  }, 60_000);

  it('a writer taking 30 s, pausing 3 s (past the settle time) at line ends: one start, from the whole file', async () => {
    const { dir, d } = await start('slow-30');
    const entries = Array.from({ length: 9 }, (_, i) => `        - name: E${i}\n          value: v${i}\n`);
    const text = `${envPod('s30', 'b').replace('echo $A $B;', 'echo $A $B $E8;')}${entries.join('')}`;
    await writeSlowly(join(dir, 's.yaml'), text, ['value: a\n', ...entries.map((e) => e.slice(-12))], 3000);
    await until('s30 runs', () => running('s30'));
    await sleep(1000);
    expect((await berth('logs', 's30')).stdout).toBe('a b v8\n');
    expect(await startsOf('s30')).toBe(1);
    await stop(d);
  }, 90_000);

  it('a file rewritten slowly in place with a longer text (scp over it) is taken once, when whole', async () => {
    const { dir, d } = await start('slow-over');
    const file = join(dir, 's.yaml');
    await writeFile(file, pod('so', 'v0'));
    await until('so says v0', () => says('so', 'v0'));
    // Longer than the old text from the first pause on: nothing in the size or the keys tells a cut.
    await writeSlowly(file, envPod('so', 'b'), ['value: a\n', '- name: B\n'], 1500);
    await until('so says a b', () => says('so', 'a b'));
    await sleep(1000);
    expect((await berth('logs', 'so')).stdout).toBe('a b\n');
    expect(await startsOf('so')).toBe(2);
    await stop(d);
  }, 60_000);

  it('the folder replaced by mv (old aside, new in its place) restarts no unchanged pod', async () => {
    const { dir, d } = await start('replaced');
    await writeFile(join(dir, 'a.yaml'), pod('fa'));
    await until('fa runs', () => running('fa'));
    const before = (await ids()).fa_main;
    await mkdir(`${dir}.new`);
    await writeFile(join(`${dir}.new`, 'a.yaml'), pod('fa'));
    await writeFile(join(`${dir}.new`, 'b.yaml'), pod('fb'));
    await rename(dir, `${dir}.old`);
    await rename(`${dir}.new`, dir);
    await until('fb runs', () => running('fb'));
    await sleep(3000);
    expect((await ids()).fa_main).toBe(before);
    await rm(`${dir}.old`, { recursive: true });
    await stop(d);
  }, 60_000);

  it('real vim saves (writebackup, backupcopy=yes), cp, install -m and tar -x each change the pod once', async () => {
    const { dir, d, log } = await start('tools');
    const file = join(dir, 'v.yaml');
    await writeFile(file, pod('tv', 'v0'));
    await until('tv says v0', () => says('tv', 'v0'));
    const vim = (opts: string, from: string, to: string) =>
      execFileSync(
        'vim',
        [
          '-es',
          '-u',
          'NONE',
          '-i',
          'NONE',
          '-c',
          opts,
          '-c',
          `%s/echo ${from}/echo ${to}/`,
          '-c',
          'wq',
          file,
        ],
        { cwd: dir },
      );
    vim('set backup writebackup backupcopy=no', 'v0', 'v1');
    await until('tv says v1', () => says('tv', 'v1'));
    vim('set nobackup writebackup backupcopy=yes', 'v1', 'v2');
    await until('tv says v2', () => says('tv', 'v2'));
    await writeFile(join(work, 'v3.yaml'), pod('tv', 'v3'));
    execFileSync('cp', [join(work, 'v3.yaml'), file]);
    await until('tv says v3', () => says('tv', 'v3'));
    await writeFile(join(work, 'v4.yaml'), pod('tv', 'v4'));
    execFileSync('install', ['-m', '0600', join(work, 'v4.yaml'), file]);
    await until('tv says v4', () => says('tv', 'v4'));
    await mkdir(join(work, 'tarsrc'));
    await writeFile(join(work, 'tarsrc', 'v.yaml'), pod('tv', 'v5'));
    await writeFile(join(work, 'tarsrc', 'w.yaml'), pod('tw'));
    execFileSync('tar', ['-C', join(work, 'tarsrc'), '-cf', join(work, 'v5.tar'), '.']);
    execFileSync('tar', ['-C', dir, '-xf', join(work, 'v5.tar')]);
    await until('tv says v5', () => says('tv', 'v5'));
    await until('tw runs', () => running('tw'));
    const events = (await berth('events', '--until', '0s', '--output', 'json', '--filter', 'pod=tv')).stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { reason: string })
      .map((e) => e.reason)
      .filter((r) => r !== 'Died');
    expect(events.filter((r) => r === 'TornDown')).toEqual([]);
    expect(events.filter((r) => r === 'Started')).toHaveLength(6);
    expect(log()).toBe('');
    await stop(d);
  }, 90_000);

  it('git checkout of another branch moving a pod to another file restarts neither it nor an unchanged pod', async () => {
    const { dir, d } = await start('git');
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...args], { cwd: dir });
    git('init', '-q', '-b', 'one');
    await writeFile(join(dir, 'a.yaml'), pod('ga'));
    await writeFile(join(dir, 'keep.yaml'), pod('gk'));
    await writeFile(join(dir, '.gitignore'), '*.swp\n');
    git('add', '-A');
    git('commit', '-qm', 'one');
    git('checkout', '-qb', 'two');
    git('mv', 'a.yaml', 'z.yaml');
    await writeFile(join(dir, 'new.yaml'), pod('gn'));
    git('add', '-A');
    git('commit', '-qm', 'two');
    git('checkout', '-q', 'one');
    await until('ga and gk run', async () => (await running('ga')) && (await running('gk')));
    const before = await ids();
    git('checkout', '-q', 'two');
    await until('gn runs', () => running('gn'));
    await sleep(3500);
    const after = await ids();
    expect([after.ga_main, after.gk_main]).toEqual([before.ga_main, before.gk_main]);
    await stop(d);
  }, 60_000);

  it('a file replaced by a directory, a FIFO, a link to /dev/zero or /proc, 1 GiB, or defined twice keeps its pod as it runs', async () => {
    const { dir, d } = await start('hostile');
    const file = join(dir, 'h.yaml');
    await writeFile(file, pod('hx'));
    await until('hx runs', () => running('hx'));
    const before = (await ids()).hx_main;
    const replacements: Array<[string, () => Promise<unknown>]> = [
      ['a directory', () => mkdir(file)],
      ['a FIFO', async () => execFileSync('mkfifo', [file])],
      ['a link to /dev/zero', () => symlink('/dev/zero', file)],
      ['a link to /proc/kmsg', () => symlink('/proc/kmsg', file)],
      ['a sparse 1 GiB file', async () => execFileSync('truncate', ['-s', '1G', file])],
      ['a dangling link (an emacs lock)', () => symlink('root@host.1:1', file)],
    ];
    for (const [what, make] of replacements) {
      await rm(file, { recursive: true, force: true });
      await make();
      await sleep(2500); // past the settle time of a file gone or changed
      expect([what, (await ids()).hx_main]).toEqual([what, before]);
      expect((await berth('validate', dir)).stderr).toContain(`${file}:1:1: ERR_MANIFEST_UNREADABLE`);
    }
    await rm(file, { recursive: true, force: true });
    await writeFile(file, pod('hx'));
    // The same pod in two files while one is renamed to the other by copy-then-delete.
    await writeFile(join(dir, 'h2.yaml'), pod('hx'));
    await sleep(2500);
    expect((await berth('validate', dir)).stderr).toContain('ERR_MANIFEST_DUPLICATE');
    await rm(file);
    await sleep(2500);
    expect((await ids()).hx_main).toBe(before);
    await stop(d);
  }, 90_000);

  it('an emptyDir a container filled with an immutable file and a link to a host path: removing the pod touches nothing outside it', async () => {
    const { dir, d, log } = await start('volumes');
    const outside = join(work, 'outside');
    await mkdir(outside);
    await writeFile(join(outside, 'precious'), 'keep me');
    const file = join(dir, 'v.yaml');
    await writeFile(
      file,
      `${pod('vd').replace(
        'echo hello;',
        `mkdir -p /data/d; echo x > /data/d/f; echo y > /data/keep; ln -s ${outside} /data/link; ln -s ${outside}/precious /data/d/p; echo hello;`,
      )}      volumeMounts: [{name: data, mountPath: /data}]\n  volumes: [{name: data, emptyDir: {}}]\n`,
    );
    await until('vd says hello', () => says('vd', 'hello'));
    const volume = join(root, 'pods', 'vd', 'volumes', 'data');
    execFileSync('chattr', ['+i', join(volume, 'keep')]);
    // A failed run must not leave a file the cleanup cannot remove.
    onTestFinished(
      () => void execFileSync('sh', ['-c', `chattr -i ${join(volume, 'keep')} 2>/dev/null || :`]),
    );
    await rm(file);
    await until('vd/main is gone', async () => (await ids()).vd_main === undefined);
    const keep = join(volume, 'keep');
    await until('the teardown fails', async () => log().includes('failed teardown-pod vd'));
    // The file and why, not the errno of rm's fallback (ENOTDIR from a scandir of a file).
    expect(log()).toContain(
      `failed teardown-pod vd: no longer in the manifests: ERR_REMOVE_DENIED: cannot remove ${keep}: operation not permitted (EPERM) (an immutable or append-only file? lsattr -d ${keep}; chattr -i -a ${keep})`,
    );
    execFileSync('chattr', ['-i', keep]);
    await until('the pod is torn down on its retry', async () => !existsSync(join(root, 'pods', 'vd')), 200);
    // The planted links were removed, never followed.
    expect(execFileSync('find', [outside]).toString()).toBe(`${outside}\n${outside}/precious\n`);
    await stop(d);
  }, 60_000);

  it('a mount made inside an emptyDir (as Bidirectional propagation shows it) holds the teardown: nothing under it deleted', async () => {
    const { dir, d, log } = await start('mounted');
    const outside = join(work, 'mounted-outside');
    await mkdir(outside);
    await writeFile(join(outside, 'precious'), 'keep me');
    const file = join(dir, 'm.yaml');
    await writeFile(
      file,
      `${pod('mv')}      volumeMounts: [{name: data, mountPath: /data}]\n  volumes: [{name: data, emptyDir: {}}]\n`,
    );
    await until('mv runs', () => running('mv'));
    const target = join(root, 'pods', 'mv', 'volumes', 'data', 'm');
    await mkdir(target);
    execFileSync('mount', ['--bind', outside, target]);
    onTestFinished(() => void execFileSync('sh', ['-c', `umount ${target} 2>/dev/null || :`]));
    await rm(file);
    await until('the teardown is refused', async () => log().includes('failed teardown-pod mv'));
    expect(log()).toContain(
      `ERR_BUNDLE_BUSY: not removing ${join(root, 'pods', 'mv')}: ${target} is still mounted under it`,
    );
    expect(execFileSync('find', [outside]).toString()).toBe(`${outside}\n${outside}/precious\n`);
    execFileSync('umount', [target]);
    await until('the pod is torn down on its retry', async () => !existsSync(join(root, 'pods', 'mv')), 200);
    expect(execFileSync('find', [outside]).toString()).toBe(`${outside}\n${outside}/precious\n`);
    await stop(d);
  }, 60_000);
});
