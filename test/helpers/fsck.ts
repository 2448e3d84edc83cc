// An independent check of a berth store (`--root`), for tests that crash berth and look at what it
// left: it reads the files as another tool would, never through berth's code. Each problem is one
// line naming the path, so a test asserts `toEqual([])` and a failure says what broke.
//   - content/: every blob hashes to its name; index.json parses; each ref's manifest, config and
//     layers are present.
//   - snapshots/: a published snapshot (`<hex>/`) has `snapshot.json` naming it and `fs/`, and
//     holds every entry of its layer's tar (so a half-removed or half-made tree cannot pass as
//     whole); a `.tmp-` directory of a dead process is reported when asked (after a pull or prune).
//   - ingest/ and content/: when asked, no writer's file, lease or index.json temp of a dead process.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, type Dirent, existsSync, lstatSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export interface FsckOptions {
  /** Report `.tmp-` snapshot directories of dead processes (a pull or prune removes them). */
  noDeadTemps?: boolean;
}

async function listDir(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

function sha256Of(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (d) => hash.update(d))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** chainID of each layer, from the config's diffIDs (OCI image-spec). */
export function chainIdsOf(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const [i, diff] of diffIds.entries()) {
    if (i === 0) out.push(diff);
    else
      out.push(
        `sha256:${createHash('sha256')
          .update(`${out[i - 1]} ${diff}`)
          .digest('hex')}`,
      );
  }
  return out;
}

async function checkBlobs(blobs: string, problems: string[]): Promise<Set<string>> {
  const present = new Set<string>();
  for (const alg of await listDir(blobs)) {
    if (alg.name !== 'sha256' || !alg.isDirectory()) {
      problems.push(`content/blobs/${alg.name}: not a sha256 directory`);
      continue;
    }
    for (const blob of await listDir(join(blobs, alg.name))) {
      const rel = `content/blobs/sha256/${blob.name}`;
      if (!/^[a-f0-9]{64}$/.test(blob.name) || !blob.isFile()) {
        problems.push(`${rel}: not a blob name or not a file`);
        continue;
      }
      const hex = await sha256Of(join(blobs, alg.name, blob.name));
      if (hex !== blob.name) problems.push(`${rel}: hashes to ${hex}`);
      else present.add(`sha256:${blob.name}`);
    }
  }
  return present;
}

/** Every entry a layer's tar holds must be in the snapshot (whiteouts as their overlay form). */
async function checkSnapshotTree(
  fs: string,
  blob: string,
  mediaType: string,
  rel: string,
): Promise<string[]> {
  const flags = mediaType.endsWith('gzip') ? '-tzf' : mediaType.endsWith('zstd') ? '--zstd -tf' : '-tf';
  const { stdout } = await run('tar', [...flags.split(' '), blob], { maxBuffer: 64 * 1024 * 1024 });
  const missing: string[] = [];
  for (const line of stdout.split('\n')) {
    const name = line.replace(/^\.?\/+/, '').replace(/\/+$/, '');
    if (!name) continue;
    const base = name.split('/').pop() as string;
    if (base === '.wh..wh..opq') continue;
    const path = base.startsWith('.wh.')
      ? join(fs, name.slice(0, name.length - base.length), base.slice(4))
      : join(fs, name);
    if (!existsOrLink(path)) missing.push(name);
  }
  return missing.length === 0
    ? []
    : [`${rel}: ${missing.length} entries of its layer missing (first: ${missing[0]})`];
}

function existsOrLink(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Problems found in the store at `root` (empty: it verifies). */
export async function fsckStore(root: string, options: FsckOptions = {}): Promise<string[]> {
  const problems: string[] = [];
  const content = join(root, 'content');
  if (!existsSync(content)) return problems;
  const present = await checkBlobs(join(content, 'blobs'), problems);
  const blobPath = (d: string) => join(content, 'blobs', 'sha256', d.slice('sha256:'.length));
  const readJson = async (d: string) => JSON.parse(await readFile(blobPath(d), 'utf8'));

  // Snapshots first: what is published, whatever refers to it.
  const published = new Map<string, string>(); // chainID → directory (relative to root)
  for (const base of ['snapshots', 'snapshots/native']) {
    for (const e of await listDir(join(root, base))) {
      const rel = `${base}/${e.name}`;
      if (e.name === 'native' && base === 'snapshots') continue;
      const tmp = /^\.tmp-[a-f0-9]{64}\.(\d+)\.[a-f0-9]+$/.exec(e.name);
      if (tmp) {
        if (options.noDeadTemps && !alive(Number(tmp[1])))
          problems.push(`${rel}: temp directory of a dead process`);
        continue;
      }
      if (!/^[a-f0-9]{64}$/.test(e.name)) {
        problems.push(`${rel}: unexpected entry`);
        continue;
      }
      let info: { chainId?: string } | undefined;
      try {
        info = JSON.parse(await readFile(join(root, rel, 'snapshot.json'), 'utf8'));
      } catch (err) {
        problems.push(`${rel}: published without a readable snapshot.json (${(err as Error).message})`);
        continue;
      }
      if (info?.chainId !== `sha256:${e.name}`) problems.push(`${rel}: snapshot.json names ${info?.chainId}`);
      if (!existsSync(join(root, rel, 'fs'))) problems.push(`${rel}: no fs/`);
      published.set(`sha256:${e.name}`, rel);
    }
  }

  if (options.noDeadTemps) {
    // A pull or GC tidies what dead processes left: writers' files, leases, index.json temps.
    const dead = (dir: string, re: RegExp, rel: string) =>
      listDir(dir).then((es) => {
        for (const e of es) {
          const m = re.exec(e.name);
          if (m && !alive(Number(m[1]))) problems.push(`${rel}/${e.name}: left by a dead process`);
        }
      });
    await dead(join(root, 'ingest'), /^[a-z0-9]+-[a-f0-9]+\.(\d+)\.[a-z0-9]+\.(?:active|tmp)$/, 'ingest');
    await dead(join(root, 'ingest', 'leases'), /^(\d+)-[a-f0-9]+\.lease$/, 'ingest/leases');
    await dead(content, /^index\.json\.(\d+)\.tmp$/, 'content');
  }

  let index: { manifests?: Array<Descriptor & { annotations?: Record<string, string> }> };
  try {
    index = JSON.parse(await readFile(join(content, 'index.json'), 'utf8'));
    JSON.parse(await readFile(join(content, 'oci-layout'), 'utf8'));
  } catch (err) {
    problems.push(`content/index.json or oci-layout: ${(err as Error).message}`);
    return problems;
  }
  for (const entry of index.manifests ?? []) {
    const ref = entry.annotations?.['org.opencontainers.image.ref.name'] ?? entry.digest;
    if (!present.has(entry.digest)) {
      problems.push(`${ref}: manifest ${entry.digest} missing`);
      continue;
    }
    let manifests: Descriptor[] = [entry];
    const top = await readJson(entry.digest);
    if (Array.isArray(top.manifests)) {
      manifests = (top.manifests as Descriptor[]).filter((m) => present.has(m.digest));
      if (manifests.length === 0) problems.push(`${ref}: no manifest of its index is present`);
    }
    for (const m of manifests) {
      const manifest = m === entry ? top : await readJson(m.digest);
      const layers = (manifest.layers ?? []) as Descriptor[];
      for (const d of [manifest.config as Descriptor, ...layers]) {
        if (!present.has(d.digest)) problems.push(`${ref}: blob ${d.digest} missing`);
      }
      if (!present.has(manifest.config.digest)) continue;
      const config = await readJson(manifest.config.digest);
      const chain = chainIdsOf(config.rootfs.diff_ids as string[]);
      for (const [i, id] of chain.entries()) {
        const dir = published.get(id);
        const layer = layers[i] as Descriptor;
        if (!dir) problems.push(`${ref}: layer ${i} has no snapshot ${id}`);
        else if (present.has(layer.digest) && !dir.startsWith('snapshots/native/')) {
          problems.push(
            ...(await checkSnapshotTree(join(root, dir, 'fs'), blobPath(layer.digest), layer.mediaType, dir)),
          );
        }
      }
    }
  }
  return problems;
}
