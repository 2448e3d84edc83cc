// Rotated container logs (host config logs.maxBytes and logs.maxFiles), with real conmon and runc:
// conmon rotates at maxBytes by renaming a fresh file over the log; berth keeps the old content
// as container.log.1…N (under the daemon at each rotation; without it, the last one at each look),
// and `berth logs` / `berth container logs` read them oldest first, `--tail` across files.
import { execFile } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth, spawnBerth } from '../helpers/cli.js';
import { cleanUpHost } from '../helpers/host-cleanup.js';
import { buildImage, createLayout, type Layout, populateBusybox } from '../helpers/images.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const run = promisify(execFile);
const skip = missingPrereqs(['runc', 'conmon', 'skopeo', 'umoci', 'findmnt'], { root: true });
const MAX_BYTES = 65536;
const PAD = 'a container that talks far too much..............................';
/** A shell loop printing `line <i> <PAD>` for i in [0, n), pausing 0.1 s every `every` lines if given. */
const writer = (n: number, every = 0) =>
  `i=0; while [ $i -lt ${n} ]; do echo "line $i ${PAD}"; i=$((i+1)); ${every ? `[ $((i % ${every})) -eq 0 ] && sleep 0.1; ` : ''}done`;

describe.skipIf(skip)('rotated container logs', () => {
  let layout: Layout;
  let work: string;
  let daemon: ReturnType<typeof spawnBerth> | undefined;
  const berth = (...args: string[]) =>
    runBerth([
      '--root',
      join(work, 'root'),
      '--state',
      join(work, 'state'),
      '--config',
      join(work, 'config.yaml'),
      ...args,
    ]);
  const until = async <T>(what: string, probe: () => Promise<T | undefined>): Promise<T> => {
    for (let i = 0; i < 600; i++) {
      const got = await probe();
      if (got !== undefined) return got;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`never: ${what}`);
  };
  const exited = (name: string) =>
    until(`${name} exited`, async () => {
      const ls = JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout) as Array<{
        name: string;
        state: string;
        id: string;
      }>;
      const c = ls.find((x) => x.name === name);
      return c?.state === 'exited' ? c.id : undefined;
    });
  const bundle = (id: string) => join(work, 'root', 'containers', id);
  /** The log files of a bundle, sorted by name. */
  const logNames = async (id: string) =>
    (await readdir(bundle(id))).filter((f) => f.startsWith('container.log')).sort();
  /**
   * The log files of a bundle, berth's holds as `hold` (their seq grows with each rotation): each
   * a regular 0600 file, and the holds exactly the live file and conmon's next file (empty).
   */
  const logFiles = async (id: string) => {
    const names = await logNames(id);
    const st = new Map<string, Awaited<ReturnType<typeof lstat>>>();
    for (const n of names) st.set(n, await lstat(join(bundle(id), n)));
    for (const s of st.values()) expect([s.isFile(), Number(s.mode) & 0o777]).toEqual([true, 0o600]);
    const holds = names.filter((n) => n.includes('.hold.')).map((n) => st.get(n)?.ino);
    const live = st.get('container.log');
    const tmp = st.get('container.log.tmp');
    if (holds.length > 0) expect([holds.sort(), tmp?.size]).toEqual([[live?.ino, tmp?.ino].sort(), 0]);
    return names.map((n) => n.replace(/\.hold\.\d+$/, '.hold'));
  };
  /**
   * The numbers of `line N` lines, in order. conmon cuts a line that straddles its 8 KiB reads into
   * two records (P, then F): when the oldest file kept starts with the F half, the first line is
   * the end of the line before the next one, and is left out.
   */
  const numbers = (text: string) => {
    const lines = text.trimEnd().split('\n');
    const first = /^line (\d+) /.exec(lines[1] ?? '');
    if (first && !lines[0]?.startsWith('line ')) {
      expect(`line ${Number(first[1]) - 1} ${PAD}`.endsWith(lines[0] as string)).toBe(true);
      lines.shift();
    }
    return lines.map((l) => {
      const m = /^line (\d+) (.*)$/.exec(l);
      expect(m?.[2]).toBe(PAD);
      return Number(m?.[1]);
    });
  };
  /** The N of the first record of a CRI log file that starts a line (`line N`). */
  const firstLine = async (file: string) =>
    Number(/^\S+ stdout [FP] line (\d+) /m.exec(await readFile(file, 'utf8'))?.[1]);
  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
  const config = (text: string) => writeFile(join(work, 'config.yaml'), text);

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-log-rotation-'));
    await config(`logs:\n  maxBytes: ${MAX_BYTES}\n  maxFiles: 3\n`);
    layout = await createLayout();
    await buildImage(layout, 'busybox', [populateBusybox]);
    const file = join(work, 'busybox.tar');
    await run('skopeo', [
      'copy',
      '-q',
      `oci:${join(layout.dir, 'oci')}:busybox`,
      `oci-archive:${file}:example.com/busybox:1`,
    ]);
    expect((await berth('image', 'import', file)).code).toBe(0);
  }, 120_000);

  afterAll(async () => {
    if (daemon && daemon.exitCode === null) {
      const d = daemon;
      const gone = new Promise((r) => d.once('exit', r));
      d.kill('SIGTERM');
      await gone;
    }
    const { left, leaked } = await cleanUpHost({
      berth,
      work,
      folders: [join(work, 'manifests')],
      forceFirst: true,
    });
    await layout?.cleanup();
    if (work) await removeTempRoot(work);
    expect(left).toEqual([]);
    expect(leaked).toEqual([]);
  });

  it('under the daemon: a pod writing past maxBytes many times keeps exactly maxFiles rotated files, newest lines in order', async () => {
    const manifests = join(work, 'manifests');
    await mkdir(manifests, { recursive: true });
    daemon = spawnBerth([
      '--root',
      join(work, 'root'),
      '--state',
      join(work, 'state'),
      '--config',
      join(work, 'config.yaml'),
      'daemon',
      '--manifests',
      manifests,
    ]);
    let out = '';
    daemon.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await until('the daemon watching', async () => (out.includes('watching') ? true : undefined));
    // Some 10 files at about 0.5 s each: the daemon must hold and arm within two rotations of
    // conmon's (log-rotation.ts), which a loaded host does within a second, not within 25 ms.
    const total = 5_000;
    await writeFile(
      join(manifests, 'talk.yaml'),
      'apiVersion: v1\nkind: Pod\nmetadata: {name: talk}\nspec:\n  restartPolicy: Never\n  containers:\n' +
        `    - name: main\n      image: example.com/busybox:1\n      imagePullPolicy: Never\n` +
        `      command: ["/bin/sh", "-c", ${JSON.stringify(writer(total, 100))}]\n`,
    );
    const id = await exited('talk_main');
    // The daemon's look follows conmon's last rotation: three rotated files and two holds.
    await until('the last rotation kept', async () => {
      const names = await logNames(id);
      return names.includes('container.log.3') && names.filter((n) => n.includes('.hold.')).length === 2
        ? true
        : undefined;
    });
    expect(await logFiles(id)).toEqual([
      'container.log',
      'container.log.1',
      'container.log.2',
      'container.log.3',
      'container.log.hold',
      'container.log.hold',
      'container.log.tmp',
    ]);
    for (const f of ['container.log.1', 'container.log.2', 'container.log.3', 'container.log']) {
      const st = await lstat(join(bundle(id), f));
      expect([st.isFile(), st.mode & 0o777, st.size <= MAX_BYTES]).toEqual([true, 0o600, true]);
      if (f !== 'container.log') expect(st.size).toBeGreaterThan(MAX_BYTES - 200); // a full file
    }
    // No one but root names files in the log's directory: a container cannot plant a link there.
    const [containers, dir] = await Promise.all([lstat(join(work, 'root', 'containers')), lstat(bundle(id))]);
    expect([containers.mode & 0o777, containers.uid, dir.uid, dir.mode & 0o022]).toEqual([0o700, 0, 0, 0]);
    // The oldest file kept starts three full files back (some 500 lines each).
    const oldest = await firstLine(join(bundle(id), 'container.log.3'));
    expect(oldest).toBeLessThan(total - (3 * MAX_BYTES) / 140);
    // Every record of the four files, oldest first: the newest lines, none missing, in order.
    const all = await berth('logs', 'talk');
    expect([all.code, all.stderr]).toEqual([0, '']);
    expect(numbers(all.stdout)).toEqual(range(oldest, total));
    const byName = await berth('container', 'logs', 'talk_main');
    expect(byName.stdout).toBe(all.stdout);
    // --tail spans files: more lines than the live file holds.
    const tail = await berth('logs', 'talk', '--tail', '1000');
    expect(numbers(tail.stdout)).toEqual(range(total - 1000, total));
    expect((await berth('container', 'logs', 'talk_main', '--tail', '0')).stdout).toBe('');
    const bad = await berth('container', 'logs', 'talk_main', '--tail', 'x');
    expect([bad.code, bad.stderr]).toEqual([
      2,
      'berth: ERR_USAGE: --tail must be a number of lines, not "x"\n',
    ]);
  }, 120_000);

  it('without the daemon: two rotations between looks lose nothing, and a look makes them .1 and .2', async () => {
    // Some 2.5 files of output: two rotations, with no berth process looking meanwhile.
    const total = Math.round((2.5 * MAX_BYTES) / 128);
    expect(
      (
        await berth(
          'container',
          'create',
          'example.com/busybox:1',
          'once',
          '--',
          '/bin/sh',
          '-c',
          writer(total),
        )
      ).code,
    ).toBe(0);
    expect((await berth('container', 'start', 'once')).code).toBe(0);
    const id = await exited('once');
    const res = await berth('container', 'logs', 'once');
    expect([res.code, res.stderr]).toEqual([0, '']);
    expect(numbers(res.stdout)).toEqual(range(0, total));
    expect(await logFiles(id)).toEqual([
      'container.log',
      'container.log.1',
      'container.log.2',
      'container.log.hold',
      'container.log.hold',
      'container.log.tmp',
    ]);
  }, 60_000);

  it('a symbolic link at a rotated name is never followed, and maxFiles 0 keeps nothing', async () => {
    const secret = join(work, 'secret');
    await writeFile(secret, '2024-01-01T00:00:00.000000000Z stdout F the secret\n', { mode: 0o600 });
    const total = Math.round((1.5 * MAX_BYTES) / 128);
    expect(
      (
        await berth(
          'container',
          'create',
          'example.com/busybox:1',
          'planted',
          '--',
          '/bin/sh',
          '-c',
          writer(total),
        )
      ).code,
    ).toBe(0);
    // Created, not started: a file planted before conmon writes.
    const ls = JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout) as Array<{
      name: string;
      id: string;
    }>;
    const planted = ls.find((c) => c.name === 'planted')?.id as string;
    await symlink(secret, join(bundle(planted), 'container.log.2'));
    expect((await berth('container', 'start', 'planted')).code).toBe(0);
    await exited('planted');
    const res = await berth('container', 'logs', 'planted');
    expect([res.code, res.stderr]).toEqual([0, '']);
    expect(numbers(res.stdout)).toEqual(range(0, total));
    // The link was renamed as a rotated file would be, never read nor written through.
    expect(await readFile(secret, 'utf8')).toBe('2024-01-01T00:00:00.000000000Z stdout F the secret\n');

    await config(`logs:\n  maxBytes: ${MAX_BYTES}\n  maxFiles: 0\n`);
    try {
      expect((await berth('container', 'logs', 'planted')).code).toBe(0);
      // conmon's next file, made ahead, stays: conmon may be opening it (removing it could kill conmon).
      expect(await logFiles(planted)).toEqual(['container.log', 'container.log.tmp']);
    } finally {
      await config(`logs:\n  maxBytes: ${MAX_BYTES}\n  maxFiles: 3\n`);
    }
  }, 60_000);
});
