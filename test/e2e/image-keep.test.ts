// An Image's `keep: N` under the controller, with a real registry whose tag moves: the digest the
// tag pointed at before is kept (named registry/repo@digest) while `keep` asks for it, and trimmed
// by the next apply once `keep` goes back to 0.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import { cleanUpHost } from '../helpers/host-cleanup.js';
import {
  buildImage,
  createLayout,
  headManifest,
  type Layout,
  populateBusybox,
  pushImage,
  pushIndex,
} from '../helpers/images.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'unshare', 'findmnt'], {
  root: true,
});

describe.skipIf(skip)('Image keep: N', () => {
  let registry: TestRegistry;
  let layout: Layout;
  let work: string;
  let root: string;
  let state: string;
  const berth = (...args: string[]) => runBerth(['--root', root, '--state', state, ...args]);
  const names = async () =>
    (JSON.parse((await berth('image', 'ls', '--output', 'json')).stdout) as Array<{ name: string }>)
      .map((i) => i.name)
      .sort();
  const manifests = (keep: number, text: string) =>
    `apiVersion: berth.dev/v1alpha1\nkind: Image\nmetadata: {name: app}\nspec: {ref: ${registry.host}/keep/app:1, keep: ${keep}}\n---\n` +
    `apiVersion: v1\nkind: Pod\nmetadata: {name: app}\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n` +
    `    - name: main\n      image: ${registry.host}/keep/app:1\n      imagePullPolicy: Always\n` +
    `      command: ["/bin/sh", "-c", "trap 'exit 0' TERM; echo ${text}; while true; do sleep 1; done"]\n`;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-keep-'));
    root = join(work, 'root');
    state = join(work, 'state');
    registry = await startRegistry();
    layout = await createLayout();
    await buildImage(layout, 'v1', [populateBusybox]);
    await buildImage(layout, 'v2', [async (r) => writeFile(join(r, 'v2'), 'two\n')], { from: 'v1' });
  }, 120_000);

  afterAll(async () => {
    const { left, leaked } = await cleanUpHost({
      berth,
      work,
      folders: [join(work, 'manifests'), join(work, 'mirrored'), join(work, 'platform')],
    });
    await registry?.stop();
    await layout?.cleanup();
    await removeTempRoot(work);
    expect(left).toEqual([]);
    expect(leaked).toEqual([]);
  });

  it('keeps the previous digest while keep asks for it, and trims it when keep is lowered', async () => {
    const dir = join(work, 'manifests');
    await mkdir(dir);
    await pushImage(layout, 'v1', `${registry.host}/keep/app:1`);
    const v1 = await headManifest(registry.url, 'keep/app', '1');
    await writeFile(join(dir, 'app.yaml'), manifests(1, 'one'));
    expect((await berth('apply', dir)).code).toBe(0);
    expect(await names()).toEqual([`${registry.host}/keep/app:1`]);

    await pushImage(layout, 'v2', `${registry.host}/keep/app:1`); // the tag moves
    await writeFile(join(dir, 'app.yaml'), manifests(1, 'again')); // a new container: pulled first
    const moved = await berth('apply', dir);
    expect(moved.stderr).toBe('');
    expect(await names()).toEqual([`${registry.host}/keep/app:1`, `${registry.host}/keep/app@${v1.digest}`]);

    await writeFile(join(dir, 'app.yaml'), manifests(0, 'again'));
    const trimmed = await berth('apply', dir);
    expect(trimmed.stderr).toBe('');
    expect(trimmed.stdout).toBe(''); // trimming is housekeeping: no line, nothing pruned
    expect(await names()).toEqual([`${registry.host}/keep/app:1`]);
  }, 120_000);

  it('apply says when a mirror, not the registry, resolved an image it pulled', async () => {
    const dir = join(work, 'mirrored');
    await mkdir(dir);
    const config = join(work, 'mirrors.yaml');
    // Nothing listens on 127.0.0.1:1: the image can only come from the _default mirror.
    await writeFile(
      config,
      `registries:\n  _default:\n    mirrors:\n      - host: "${registry.host}"\n        rewrite: { "^elsewhere/": "keep/" }\n`,
    );
    await writeFile(
      join(dir, 'image.yaml'),
      'apiVersion: berth.dev/v1alpha1\nkind: Image\nmetadata: {name: far}\nspec: {ref: "127.0.0.1:1/elsewhere/app:1"}\n',
    );
    const v2 = await headManifest(registry.url, 'keep/app', '1');
    const r = await runBerth(['--root', root, '--state', state, '--config', config, 'apply', dir]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      `127.0.0.1:1/elsewhere/app:1 (${v2.digest}) resolved at mirror ${registry.host}\n` +
        'pull         127.0.0.1:1/elsewhere/app:1: not in the store (Image far)\n',
    );
    await rm(join(dir, 'image.yaml'));
  }, 60_000);

  it('an Image with a platform pulls that platform of a multi-platform tag', async () => {
    await buildImage(layout, 'plat-amd64', [populateBusybox], { arch: 'amd64' });
    await buildImage(layout, 'plat-arm64', [populateBusybox], { arch: 'arm64' });
    await pushImage(layout, 'plat-amd64', `${registry.host}/plat/app:amd64`);
    await pushImage(layout, 'plat-arm64', `${registry.host}/plat/app:arm64`);
    const amd64 = await headManifest(registry.url, 'plat/app', 'amd64');
    const arm64 = await headManifest(registry.url, 'plat/app', 'arm64');
    await pushIndex(registry.url, 'plat/app', '1', [
      { ...amd64, platform: { os: 'linux', architecture: 'amd64' } },
      { ...arm64, platform: { os: 'linux', architecture: 'arm64' } },
    ]);
    const dir = join(work, 'platform');
    await mkdir(dir);
    const ref = `${registry.host}/plat/app:1`;
    await writeFile(
      join(dir, 'image.yaml'),
      `apiVersion: berth.dev/v1alpha1\nkind: Image\nmetadata: {name: plat}\nspec: {ref: ${ref}, platform: linux/arm64, pullPolicy: IfNotPresent}\n`,
    );
    const applied = await berth('apply', dir);
    expect([applied.code, applied.stderr]).toEqual([0, '']);
    const inspect = JSON.parse((await berth('image', 'inspect', ref, '--output', 'json')).stdout);
    const details = (Array.isArray(inspect) ? inspect[0] : inspect) as {
      manifestDigest?: string;
      platform?: { os: string; architecture: string };
    };
    expect(details.platform).toEqual({ os: 'linux', architecture: 'arm64' });
  });
});
