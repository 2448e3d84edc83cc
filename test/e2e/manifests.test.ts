// Manifests that are half written or hold a value the host cannot use, end to end as root: `apply`
// of a folder where pod A has `memory: 128m` creates pod B and reports A at its line and column; a
// manifest that shrinks (rewritten with one of its two pods) keeps its last good content until it has
// been unchanged for the settle time, then the daemon acts on it by itself — no further file event,
// and a resync far away (600 s).
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SETTLE_MS } from '../../src/manifest/settle.js';
import { runBerth, spawnBerth } from '../helpers/cli.js';
import { cleanUpHost } from '../helpers/host-cleanup.js';
import { buildImage, createLayout, type Layout, populateBusybox, pushImage } from '../helpers/images.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'unshare', 'findmnt'], {
  root: true,
});

describe.skipIf(skip)('broken and half-written manifests', () => {
  let registry: TestRegistry;
  let layout: Layout;
  let work: string;
  let root: string;
  let state: string;
  let daemon: ChildProcess | undefined;
  const berth = (...args: string[]) => runBerth(['--root', root, '--state', state, ...args]);
  const states = async () =>
    Object.fromEntries(
      (
        JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout || '[]') as Array<{
          name: string;
          state: string;
        }>
      ).map((c) => [c.name, c.state]),
    );
  const until = async (what: string, probe: () => Promise<boolean>) => {
    for (let i = 0; i < 300; i++) {
      if (await probe()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`never: ${what}`);
  };
  const lastPass = () =>
    new Promise<{ at: string } | undefined>((resolve) => {
      const req = request(
        { socketPath: join(state, 'berth.sock'), method: 'GET', path: '/v1/status' },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => {
            body += c.toString();
          });
          res.on('end', () => resolve((JSON.parse(body) as { lastPass?: { at: string } }).lastPass));
        },
      );
      req.on('error', () => resolve(undefined));
      req.end();
    });
  const pod = (name: string) =>
    `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n` +
    `    - name: main\n      image: ${registry.host}/demo/busybox:1\n` +
    `      command: ["/bin/sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]\n`;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-manifests-e2e-'));
    root = join(work, 'root');
    state = join(work, 'state');
    registry = await startRegistry();
    layout = await createLayout();
    await buildImage(layout, 'busybox', [populateBusybox], { cmd: '/bin/sh' });
    await pushImage(layout, 'busybox', `${registry.host}/demo/busybox:1`);
  }, 180_000);
  afterAll(async () => {
    if (daemon && daemon.exitCode === null) {
      const exited = new Promise((r) => daemon?.once('exit', r));
      daemon.kill('SIGKILL');
      await exited;
    }
    const { left, leaked } = await cleanUpHost({
      berth,
      work,
      folders: ['values', 'manifests'].map((n) => join(work, n)),
    });
    await registry?.stop();
    await layout?.cleanup();
    await removeTempRoot(work);
    expect(left).toEqual([]);
    expect(leaked).toEqual([]);
  });

  it('apply: pod A with memory: 128m is reported at its position; pod B is created all the same', async () => {
    const dir = join(work, 'values');
    await mkdir(dir);
    const limit = '      resources:\n        limits:\n          memory: 128m\n';
    await writeFile(join(dir, 'a.yaml'), `${pod('a')}${limit}`);
    await writeFile(join(dir, 'b.yaml'), pod('b'));
    const apply = await berth('apply', dir);
    expect([apply.code, apply.stderr]).toEqual([
      2,
      `${join(dir, 'a.yaml')}:12:19: ERR_BAD_QUANTITY: memory limit "128m" is 1 byte(s): below berth's floor of 6Mi (runc itself needs about 3 MiB to start a container)\n`,
    ]);
    expect(await states()).toEqual({ b_main: 'running' });
    await rm(dir, { recursive: true });
    await mkdir(dir);
    await berth('apply', dir); // b goes: the next test starts from an empty host
    expect(await states()).toEqual({});
  }, 90_000);

  it('a shrunk file keeps its pods until it has settled, then the daemon acts on it unprompted', async () => {
    const dir = join(work, 'manifests');
    await mkdir(dir);
    const file = join(dir, 'xy.yaml');
    await writeFile(file, `${pod('x')}---\n${pod('w')}`);
    daemon = spawnBerth(['--root', root, '--state', state, 'daemon', '--manifests', dir, '--resync', '600']);
    await until('x and w run', async () => {
      const s = await states();
      return s.x_main === 'running' && s.w_main === 'running';
    });
    const before = (await lastPass())?.at;
    await writeFile(file, pod('x')); // truncate, then write: w's document is gone
    const { mtimeMs } = await stat(file);
    await until('a pass after the write', async () => {
      const at = (await lastPass())?.at;
      return at !== undefined && at !== before;
    });
    const passAt = Date.parse((await lastPass())?.at ?? '');
    // That pass ran inside the settle time (the debounce is 50 ms): y was kept.
    if (passAt < mtimeMs + SETTLE_MS) expect((await states()).w_main).toBe('running');
    await until('w is removed once the file has settled', async () => (await states()).w_main === undefined);
    expect(await states()).toEqual({ x_main: 'running' });
  }, 90_000);
});
