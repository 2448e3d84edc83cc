// Test images built with the real tools: umoci builds OCI images from directories, skopeo pushes
// them to a test registry. Each helper works in a temp layout: its `cleanup` removes it, and every
// layout a test file made and did not remove is removed when the file is done (an afterAll of the
// file's own, registered as the file imports this module: a caller that forgets, or a setup that
// fails before it hands its layout on, leaves no /tmp/berth-images-* behind).
import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll } from 'vitest';

const run = promisify(execFile);

export interface Layout {
  dir: string;
  cleanup(): Promise<void>;
}

/** Layouts made and not yet removed (a module per test file: vitest isolates files). */
const open = new Set<string>();

async function removeLayout(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  open.delete(dir);
}

// At the top level, so on the importing file's own suite: it runs after every other hook of the file.
afterAll(async () => {
  for (const dir of [...open]) await removeLayout(dir);
});

export async function createLayout(): Promise<Layout> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-images-'));
  open.add(dir);
  await run('umoci', ['init', '--layout', join(dir, 'oci')]);
  return { dir, cleanup: () => removeLayout(dir) };
}

/**
 * Build `tag` in the layout: one layer per populate function, config with cmd and platform.
 * `from` starts from another tag of the layout, so its layers are shared byte for byte (building
 * the same content twice gives other digests: tar headers carry mtimes).
 */
export async function buildImage(
  layout: Layout,
  tag: string,
  layers: Array<(rootfs: string) => Promise<void>>,
  config: { os?: string; arch?: string; cmd?: string; from?: string; volumes?: string[] } = {},
): Promise<void> {
  const image = `${join(layout.dir, 'oci')}:${tag}`;
  const bundle = join(layout.dir, `bundle-${tag}`);
  if (config.from) await run('umoci', ['tag', '--image', `${join(layout.dir, 'oci')}:${config.from}`, tag]);
  else await run('umoci', ['new', '--image', image]);
  for (const populate of layers) {
    await rm(bundle, { recursive: true, force: true });
    await run('umoci', ['unpack', '--image', image, bundle]);
    await populate(join(bundle, 'rootfs'));
    await run('umoci', ['repack', '--image', image, bundle]);
  }
  await rm(bundle, { recursive: true, force: true });
  await run('umoci', [
    'config',
    '--image',
    image,
    '--os',
    config.os ?? 'linux',
    '--architecture',
    config.arch ?? 'amd64',
    '--config.cmd',
    config.cmd ?? '/bin/sh',
    ...(config.volumes ?? []).flatMap((v) => ['--config.volume', v]),
  ]);
}

/** Static busybox with its applet links, /etc/passwd and /etc/group. */
export async function populateBusybox(rootfs: string): Promise<void> {
  for (const d of ['bin', 'etc', 'tmp', 'root']) await mkdir(join(rootfs, d), { recursive: true });
  await copyFile('/bin/busybox', join(rootfs, 'bin/busybox'));
  await chmod(join(rootfs, 'bin/busybox'), 0o755);
  const { stdout } = await run('/bin/busybox', ['--list']);
  for (const applet of stdout.split('\n')) {
    if (applet && applet !== 'busybox') await symlink('busybox', join(rootfs, 'bin', applet));
  }
  await writeFile(
    join(rootfs, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
  );
  await writeFile(join(rootfs, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
}

/** A layer of `count` files of `size` random bytes each (incompressible: gzip cannot shrink it). */
export function populateRandom(count: number, size: number, dir = 'data'): (rootfs: string) => Promise<void> {
  return async (rootfs) => {
    const { randomBytes } = await import('node:crypto');
    await mkdir(join(rootfs, dir), { recursive: true });
    for (let i = 0; i < count; i++) await writeFile(join(rootfs, dir, `file-${i}.bin`), randomBytes(size));
  };
}

export async function pushImage(
  layout: Layout,
  tag: string,
  dest: string,
  options: { format?: 'oci' | 'v2s2' } = {},
): Promise<void> {
  const args = ['copy', '--quiet', '--dest-tls-verify=false'];
  if (options.format === 'v2s2') args.push('--format', 'v2s2');
  await run('skopeo', [...args, `oci:${join(layout.dir, 'oci')}:${tag}`, `docker://${dest}`]);
}

/** Writes `tag` of the layout as an OCI archive at `file`, named `ref`: what `berth image import` reads. */
export async function archiveImage(layout: Layout, tag: string, file: string, ref: string): Promise<void> {
  await run('skopeo', ['copy', '-q', `oci:${join(layout.dir, 'oci')}:${tag}`, `oci-archive:${file}:${ref}`]);
}

export interface PushedManifest {
  mediaType: string;
  digest: string;
  size: number;
}

/** What the registry serves for `repo:tag`, by HEAD. */
export async function headManifest(registryUrl: string, repo: string, tag: string): Promise<PushedManifest> {
  const res = await fetch(`${registryUrl}/v2/${repo}/manifests/${tag}`, {
    method: 'HEAD',
    headers: {
      accept:
        'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
    },
  });
  if (res.status !== 200) throw new Error(`HEAD ${repo}:${tag}: ${res.status}`);
  return {
    mediaType: (res.headers.get('content-type') ?? '').split(';')[0] as string,
    digest: res.headers.get('docker-content-digest') as string,
    size: Number(res.headers.get('content-length')),
  };
}

/** PUT an OCI image index over already pushed manifests (a multi-platform image). */
export async function pushIndex(
  registryUrl: string,
  repo: string,
  tag: string,
  entries: Array<PushedManifest & { platform?: { os: string; architecture: string; variant?: string } }>,
): Promise<string> {
  const body = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: entries,
  });
  const res = await fetch(`${registryUrl}/v2/${repo}/manifests/${tag}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/vnd.oci.image.index.v1+json' },
    body,
  });
  if (res.status !== 201) throw new Error(`PUT index ${repo}:${tag}: ${res.status} ${await res.text()}`);
  return res.headers.get('docker-content-digest') as string;
}

export async function readJson(file: string): Promise<unknown> {
  return JSON.parse(await readFile(file, 'utf8'));
}
