// Image GC under disk pressure on a small tmpfs used as --root: LAST USED is written when a
// container is created from an image, and `berth apply` removes unused images least recently used
// first until the file system is below the low threshold, never one a manifest names; the daemon
// does the same after its passes.
import { execFile, execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth, spawnBerth } from '../helpers/cli.js';
import { buildImage, createLayout, type Layout, populateBusybox, populateRandom } from '../helpers/images.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const run = promisify(execFile);
const skip = missingPrereqs(['runc', 'conmon', 'skopeo', 'umoci', 'mount', 'umount'], { root: true });
const MiB = 2 ** 20;

describe.skipIf(skip)('image GC by disk thresholds', () => {
  let layout: Layout;
  let work: string;
  let root: string;
  let state: string;
  let mounted = false;
  const berth = (...args: string[]) =>
    runBerth(['--root', root, '--state', state, '--config', join(work, 'config.yaml'), ...args]);
  const names = async () => {
    const ls = await berth('image', 'ls', '--output', 'json');
    return (JSON.parse(ls.stdout) as Array<{ name: string; lastUsedAt: string | null }>).sort((a, b) =>
      a.name.localeCompare(b.name),
    );
  };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-gc-'));
    root = join(work, 'root');
    state = join(work, 'state');
    await mkdir(root);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=40m,mode=0700', 'tmpfs', root]);
    mounted = true;
    await writeFile(
      join(work, 'config.yaml'),
      'unpack:\n  reserveBytes: 0\nimages:\n  gcHighPercent: 85\n  gcLowPercent: 80\n',
    );
    layout = await createLayout();
    await buildImage(layout, 'b', [populateBusybox, populateRandom(1, MiB)]);
    for (const t of ['a', 'c', 'd', 'e']) await buildImage(layout, t, [populateRandom(1, 4 * MiB)]);
    // Imported in this order: PULLED orders them a < b < c < d < e.
    for (const t of ['a', 'b', 'c', 'd', 'e']) {
      const file = join(work, `${t}.tar`);
      await run('skopeo', [
        'copy',
        '-q',
        `oci:${join(layout.dir, 'oci')}:${t}`,
        `oci-archive:${file}:example.com/${t}:1`,
      ]);
      const r = await berth('image', 'import', file);
      expect(r.stderr).toBe('');
    }
  }, 180_000);

  afterAll(async () => {
    await berth('container', 'rm', '--force', 'gc-user');
    await berth('container', 'rm', '--force', 'gc-holder');
    if (mounted) execFileSync('umount', [root]);
    await layout?.cleanup();
    if (work) await removeTempRoot(work);
  });

  it('writes LAST USED on create, then removes the least recently used unused image down to the low threshold', async () => {
    expect((await names()).map((i) => i.lastUsedAt)).toEqual([null, null, null, null, null]);
    const created = await berth('container', 'create', 'example.com/b:1', 'gc-user', '--', '/bin/true');
    expect(created.code).toBe(0);
    expect((await names()).find((i) => i.name === 'example.com/b:1')?.lastUsedAt).toMatch(
      /^\d{4}-\d\d-\d\dT/,
    );
    expect((await berth('container', 'rm', 'gc-user')).code).toBe(0);

    const before = JSON.parse(
      execFileSync('df', ['--output=pcent', root]).toString().split('\n')[1]?.trim().replace('%', '') ?? '0',
    );
    expect(before).toBeGreaterThan(85);
    const dir = join(work, 'manifests');
    await mkdir(dir);
    await writeFile(
      join(dir, 'images.yaml'),
      'apiVersion: berth.dev/v1alpha1\nkind: Image\nmetadata: {name: a}\nspec: {ref: example.com/a:1, pullPolicy: Never}\n',
    );
    const applied = await berth('apply', dir);
    expect(applied.stderr).toBe('');
    // a: named by a manifest; b: used most recently; c: the oldest unused one, and enough.
    expect(applied.stdout).toMatch(
      /^image gc: removed 1 image\(s\) \(example\.com\/c:1\), freed [\d.]+ MB; file system (8[6-9]|9\d)% → ([5-7]\d)% used\n$/,
    );
    expect((await names()).map((i) => i.name)).toEqual([
      'example.com/a:1',
      'example.com/b:1',
      'example.com/d:1',
      'example.com/e:1',
    ]);
    // The removal is an event, as every action is.
    const recorded = (await berth('events', '-o', 'json')).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { reason: string; object: string; type: string })
      .filter((e) => e.reason === 'GarbageCollected')
      .map((e) => [e.type, e.object]);
    expect(recorded).toEqual([['image', 'example.com/c:1']]);
    // Below the high threshold now: another apply removes nothing.
    expect((await berth('apply', dir)).stdout).toBe('');
  });

  it('never removes an image a container uses or a Pod names, even when the low threshold cannot be reached without it', async () => {
    // A container made from b's ID (no manifest names b) now stands on it. Thresholds no removal
    // can reach: GC removes every image it may, and must still leave b (a container's) and a (a
    // manifest's).
    const id = (
      JSON.parse((await berth('image', 'ls', '--output', 'json')).stdout) as Array<{
        id: string;
        name: string;
      }>
    ).find((i) => i.name === 'example.com/b:1')?.id as string;
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    const created = await berth('container', 'create', id, 'gc-holder', '--', '/bin/true');
    expect([created.code, created.stderr]).toEqual([0, '']);
    // e: named by a Pod that has no container yet (it waits for a Secret nobody defines).
    await writeFile(
      join(work, 'manifests', 'pod.yaml'),
      'apiVersion: v1\nkind: Pod\nmetadata: {name: later}\nspec:\n  containers:\n    - name: main\n      image: example.com/e:1\n' +
        '      env: [{name: P, valueFrom: {secretKeyRef: {name: absent, key: k}}}]\n',
    );
    await writeFile(
      join(work, 'config.yaml'),
      'unpack:\n  reserveBytes: 0\nimages:\n  gcHighPercent: 1\n  gcLowPercent: 0\n',
    );
    const applied = await berth('apply', join(work, 'manifests'));
    expect([applied.code, applied.stderr]).toEqual([0, '']);
    expect(applied.stdout).toMatch(
      /^image gc: removed 1 image\(s\) \(example\.com\/d:1\), freed [\d.]+ MB; file system \d+% → \d+% used\nwait {9}later: waiting for Secret absent\n$/,
    );
    expect((await names()).map((i) => i.name)).toEqual([
      'example.com/a:1',
      'example.com/b:1',
      'example.com/e:1',
    ]);
    // What it stands on is whole: the container still starts.
    expect((await berth('container', 'start', 'gc-holder')).code).toBe(0);
  });

  it('the daemon runs image GC after its passes: an image stored past the threshold goes without an apply', async () => {
    // The thresholds of the test above (high 1%, low 0%) still hold; c comes back, unused and unnamed.
    expect((await berth('image', 'import', join(work, 'c.tar'))).code).toBe(0);
    const daemon = spawnBerth([
      '--root',
      root,
      '--state',
      state,
      '--config',
      join(work, 'config.yaml'),
      'daemon',
      '--manifests',
      join(work, 'manifests'),
      '--resync',
      '600',
    ]);
    let out = '';
    daemon.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((r) => daemon.once('exit', (code) => r(code)));
    try {
      for (let i = 0; i < 300 && !out.includes('image gc: '); i++)
        await new Promise((r) => setTimeout(r, 100));
      expect(out).toMatch(
        /(^|\n)[^\n]*image gc: removed 1 image\(s\) \(example\.com\/c:1\), freed [\d.]+ MB; file system \d+% → \d+% used\n/,
      );
      expect((await names()).map((i) => i.name)).toEqual([
        'example.com/a:1',
        'example.com/b:1',
        'example.com/e:1',
      ]);
    } finally {
      daemon.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });
});
