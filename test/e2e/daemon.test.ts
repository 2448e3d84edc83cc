// `berth daemon` end to end, as root: a dropped file starts its pod, a deleted one removes it; a
// kill -9 of the daemon and a restart touch no container; a folder swapped through a symlink
// (git-sync) restarts no unchanged pod.
import { type ChildProcess, execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth, spawnBerth } from '../helpers/cli.js';
import { buildImage, createLayout, type Layout, populateBusybox, pushImage } from '../helpers/images.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'unshare', 'findmnt'], {
  root: true,
});

describe.skipIf(skip)('daemon', () => {
  let registry: TestRegistry;
  let layout: Layout;
  let work: string;
  let root: string;
  let state: string;
  let daemon: ChildProcess | undefined;
  const berth = (...args: string[]) => runBerth(['--root', root, '--state', state, ...args]);
  const ids = async () =>
    Object.fromEntries(
      (
        JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout) as Array<{
          name: string;
          id: string;
          state: string;
        }>
      ).map((c) => [c.name, `${c.id}:${c.state}`]),
    );
  const until = async (what: string, probe: () => Promise<boolean>) => {
    for (let i = 0; i < 200; i++) {
      if (await probe()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`never: ${what}`);
  };
  const running = async (pod: string) => (await ids())[`${pod}_main`]?.endsWith(':running') === true;
  const pod = (name: string, text = 'hello') =>
    `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  terminationGracePeriodSeconds: 2\n  containers:\n` +
    `    - name: main\n      image: ${registry.host}/demo/busybox:1\n` +
    `      command: ["/bin/sh", "-c", "trap 'exit 0' TERM; echo ${text}; while true; do sleep 1; done"]\n`;
  const start = (dir: string) => {
    daemon = spawnBerth(['--root', root, '--state', state, 'daemon', '--manifests', dir, '--resync', '2']);
    return daemon;
  };
  const stop = async (signal: NodeJS.Signals) => {
    const d = daemon;
    daemon = undefined;
    if (!d || d.exitCode !== null) return;
    const exited = new Promise((r) => d.once('exit', r));
    d.kill(signal);
    await exited;
  };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-daemon-'));
    root = join(work, 'root');
    state = join(work, 'state');
    registry = await startRegistry();
    layout = await createLayout();
    await buildImage(layout, 'busybox', [populateBusybox], { cmd: '/bin/sh' });
    await pushImage(layout, 'busybox', `${registry.host}/demo/busybox:1`);
  }, 180_000);
  afterAll(async () => {
    await stop('SIGKILL');
    // Pods (and their netns) go the way users remove them: an empty folder, applied.
    const empty = join(work, 'empty');
    await mkdir(empty, { recursive: true });
    await berth('apply', empty);
    const left = JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout || '[]') as unknown[];
    expect(left).toEqual([]);
    const mounts = execFileSync('findmnt', ['-rn', '-o', 'TARGET']).toString().split('\n');
    expect(mounts.filter((m) => m.startsWith(work))).toEqual([]);
    await registry?.stop();
    await layout?.cleanup();
    await rm(work, { recursive: true, force: true });
  });

  it('starts a dropped file, survives kill -9 without touching containers, removes a deleted file', async () => {
    const dir = join(work, 'manifests');
    await mkdir(dir);
    start(dir);
    await writeFile(join(dir, 'a.yaml'), pod('a'));
    await until('pod a runs', () => running('a'));
    const before = await ids();
    await stop('SIGKILL');
    expect(await ids()).toEqual(before); // the daemon's death touched nothing
    start(dir);
    await new Promise((r) => setTimeout(r, 3000)); // a resync or two
    expect(await ids()).toEqual(before); // adopted, not restarted
    await rm(join(dir, 'a.yaml'));
    await until('pod a is gone', async () => (await ids()).a_main === undefined);
    await stop('SIGTERM');
  }, 60_000);

  it('a folder swapped through a symlink restarts no unchanged pod', async () => {
    const v1 = join(work, 'rev1');
    const v2 = join(work, 'rev2');
    await mkdir(v1);
    await mkdir(v2);
    await writeFile(join(v1, 'b.yaml'), pod('b'));
    await writeFile(join(v2, 'b.yaml'), pod('b'));
    await writeFile(join(v2, 'c.yaml'), pod('c'));
    const current = join(work, 'current');
    await symlink(v1, current);
    start(current);
    await until('pod b runs', () => running('b'));
    const b = (await ids()).b_main;
    // git-sync's swap: a new link, renamed over the old one (atomic).
    await symlink(v2, `${current}.new`);
    await rename(`${current}.new`, current);
    await until('pod c runs', () => running('c'));
    expect((await ids()).b_main).toBe(b);
    expect((await berth('logs', 'c')).stdout).toBe('hello\n');
    await stop('SIGTERM');
    expect(await readFile(join(v2, 'c.yaml'), 'utf8')).toContain('name: c');
  }, 60_000);
});
