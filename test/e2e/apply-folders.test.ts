// `berth apply DIR` without a daemon, as root with real runc, conmon and overlayfs: an apply
// prunes only the pods whose manifests were in DIR (another folder's pods, or an empty folder,
// never remove them); and an image the store names but has not unpacked is pulled again, which
// unpacks it, so its pod runs.
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PodView } from '../../src/reconcile/pod-views.js';
import { runBerth } from '../helpers/cli.js';
import { cleanUpHost } from '../helpers/host-cleanup.js';
import { buildImage, createLayout, type Layout, populateBusybox, pushImage } from '../helpers/images.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'unshare', 'findmnt'], {
  root: true,
});

describe.skipIf(skip)('apply of one folder', () => {
  let registry: TestRegistry;
  let layout: Layout;
  let work: string;
  let root: string;
  let state: string;
  let image: string;
  const folders: string[] = [];
  const berth = (...args: string[]) => runBerth(['--root', root, '--state', state, ...args]);
  const running = async () =>
    (JSON.parse((await berth('ps', '-o', 'json')).stdout) as PodView[])
      .filter((p) => p.phase === 'Running')
      .map((p) => [p.name, p.sourceFile]);
  const pod = (name: string, ref = image) =>
    `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  terminationGracePeriodSeconds: 1\n` +
    '  volumes: [{name: scratch, emptyDir: {}}]\n  containers:\n' +
    `    - name: main\n      image: ${ref}\n` +
    `      command: ["/bin/sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]\n`;
  const folder = async (name: string, files: Record<string, string> = {}) => {
    const dir = join(work, name);
    await mkdir(dir, { recursive: true });
    for (const [f, text] of Object.entries(files)) await writeFile(join(dir, f), text);
    folders.push(dir);
    return dir;
  };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-folders-'));
    root = join(work, 'root');
    state = join(work, 'state');
    registry = await startRegistry();
    layout = await createLayout();
    await buildImage(layout, 'busybox', [populateBusybox], { cmd: '/bin/sh' });
    image = `${registry.host}/demo/busybox:1`;
    await pushImage(layout, 'busybox', image);
    // Another image: its last layer's snapshot exists only once it is unpacked.
    await buildImage(layout, 'packed', [populateBusybox, (r) => writeFile(join(r, 'packed'), 'yes\n')], {
      cmd: '/bin/sh',
    });
    await pushImage(layout, 'packed', `${registry.host}/demo/packed:1`);
  }, 180_000);
  afterAll(async () => {
    const { left, leaked } = await cleanUpHost({ berth, work, folders: folders });
    await registry?.stop();
    await layout?.cleanup();
    await removeTempRoot(work);
    expect(left).toEqual([]);
    expect(leaked).toEqual([]);
  });

  it("another folder's apply, or an empty folder's, removes nothing; a folder's own deletion does", async () => {
    const a = await folder('a', { 'a.yaml': pod('a') });
    const b = await folder('b', { 'b.yaml': pod('b') });
    expect((await berth('apply', a)).code).toBe(0);
    const applyB = await berth('apply', b);
    expect([applyB.code, applyB.stdout]).toEqual([
      0,
      'setup-pod    b: new pod (network namespace, volumes)\nrun          b/main: new container\n',
    ]);
    const both = [
      ['a', join(a, 'a.yaml')],
      ['b', join(b, 'b.yaml')],
    ];
    expect(await running()).toEqual(both);
    const c = await folder('c');
    const plan = await berth('plan', c);
    expect([plan.code, plan.stdout]).toEqual([
      0,
      'nothing to do: the host matches the manifests\n' +
        `other-folder a: from ${a}, left alone\n` +
        `other-folder b: from ${b}, left alone\n`,
    ]);
    expect(await berth('apply', c)).toMatchObject({ code: 0, stdout: '' });
    expect(await running()).toEqual(both);
    await rm(join(a, 'a.yaml'));
    const applyA = await berth('apply', a);
    expect([applyA.code, applyA.stdout]).toEqual([
      0,
      'remove       a/main: no longer in the manifests\nteardown-pod a: no longer in the manifests\n',
    ]);
    expect(await running()).toEqual([['b', join(b, 'b.yaml')]]);
    expect((await readdir(join(root, 'pods'))).sort()).toEqual(['b']);
  }, 60_000);

  it('an image pulled with --no-unpack is pulled again, unpacked, and its pod runs', async () => {
    const ref = `${registry.host}/demo/packed:1`;
    expect((await berth('image', 'pull', '--no-unpack', ref)).code).toBe(0);
    const d = await folder('packed', { 'packed.yaml': pod('packed', ref) });
    const plan = await berth('plan', d);
    expect([plan.code, plan.stdout]).toEqual([
      2,
      `pull         ${ref}: in the store but not unpacked (packed/main)\n` +
        'setup-pod    packed: new pod (network namespace, volumes)\n' +
        'run          packed/main: new container\n' +
        `other-folder b: from ${join(work, 'b')}, left alone\n`,
    ]);
    const apply = await berth('apply', d);
    expect([apply.code, apply.stderr]).toEqual([0, '']);
    expect((await running()).map(([name]) => name)).toEqual(['b', 'packed']);
    const again = await berth('plan', d);
    expect([again.code, again.stdout]).toEqual([
      0,
      `nothing to do: the host matches the manifests\nother-folder b: from ${join(work, 'b')}, left alone\n`,
    ]);
  }, 60_000);
});
