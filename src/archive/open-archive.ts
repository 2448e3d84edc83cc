// Opens what `image import` is given: an OCI image layout directory, or a tar file holding an OCI
// layout (oci-archive) or a `docker save` archive, itself plain, gzip or zstd compressed. A
// compressed archive is expanded into `scratchDir` first (blobs are then read in place from it),
// and that copy is removed when the archive is closed.
import { randomBytes } from 'node:crypto';
import { constants, createReadStream, createWriteStream } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { BerthError, errnoCode } from '../lib/errors.js';
import { makeDirs } from '../lib/make-dirs.js';
import { createZstdFramesDecompressor } from '../snapshot/zstd-frames.js';
import { readDockerArchive } from './docker-archive.js';
import { type ArchiveFiles, openDirFiles, openTarFiles } from './files.js';
import type { ImageSet } from './image-set.js';
import { layoutFacts, preferLayout } from './layout-or-docker.js';
import { readOciLayout } from './oci-layout.js';

export interface OpenArchiveOptions {
  /** Where a compressed archive is expanded (on the store's file system: ingest/). */
  scratchDir: string;
  /** Largest expanded archive accepted. */
  maxExpandedBytes: number;
}

export interface OpenedArchive extends ImageSet {
  close(): Promise<void>;
}

async function compressionOf(file: string): Promise<'gzip' | 'zstd' | 'none'> {
  const h = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const b = Buffer.alloc(4);
    await h.read(b, 0, 4, 0);
    if (b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
    if (b.equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return 'zstd';
    return 'none';
  } finally {
    await h.close();
  }
}

async function expand(file: string, kind: 'gzip' | 'zstd', o: OpenArchiveOptions): Promise<string> {
  await makeDirs(o.scratchDir);
  const out = join(o.scratchDir, `import-${process.pid}-${randomBytes(4).toString('hex')}.tar`);
  let total = 0;
  try {
    await pipeline(
      createReadStream(file),
      // zstd as a layer's: any number of frames, skippable ones, windows up to 512 MiB (--long=29).
      kind === 'gzip' ? createGunzip() : createZstdFramesDecompressor(64 * 1024),
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const c of chunks) {
          total += c.length;
          if (total > o.maxExpandedBytes) {
            throw new BerthError(
              'ERR_ARCHIVE_ENTRY_TOO_LARGE',
              'limit',
              `${file}: expands past ${o.maxExpandedBytes} bytes`,
            );
          }
          yield c;
        }
      },
      createWriteStream(out, { flags: 'wx', mode: 0o600 }),
    );
  } catch (err) {
    await rm(out, { force: true });
    if (err instanceof BerthError && err.code === 'ERR_ZSTD_WINDOW_TOO_LARGE')
      throw new BerthError(err.code, err.kind, `${file}: ${err.message}`, {
        cause: err,
        hint: 'compress the archive with a smaller window: zstd --long=29 or less',
      });
    if (err instanceof BerthError && err.code !== 'ERR_LAYER_CORRUPT') throw err;
    throw new BerthError('ERR_ARCHIVE_CORRUPT', 'integrity', `${file}: cannot decompress (${kind})`, {
      cause: err,
    });
  }
  return out;
}

/**
 * An OCI layout is read as one whenever it says it is one (oci-layout beside index.json), as
 * containerd's importer prefers it: `docker save` since Docker 25 writes both it and manifest.json,
 * and only the layout keeps the image's own manifests (a digest a pod pins by), where manifest.json's
 * are made up here (unless the layout names no image and manifest.json does, or Docker wrote it
 * short: layout-or-docker.ts). manifest.json alone is a docker archive; index.json alone a layout.
 */
async function readImageSet(files: ArchiveFiles): Promise<ImageSet> {
  const layout = (await files.get('index.json')) !== undefined;
  const docker = (await files.get('manifest.json')) !== undefined;
  if (layout && (await files.get('oci-layout'))) {
    const set = await readOciLayout(files);
    if (!docker) return set;
    // Unless Docker wrote the layout short of manifest.json (layout-or-docker.ts says when); a
    // manifest.json that cannot be read leaves the layout.
    const other = await readDockerArchive(files).catch(() => undefined);
    const facts = other && (await layoutFacts(other));
    return facts && !preferLayout(await layoutFacts(set), facts) ? (other as ImageSet) : set;
  }
  if (docker) return readDockerArchive(files);
  if (layout) return readOciLayout(files);
  throw new BerthError(
    'ERR_ARCHIVE_FORMAT',
    'invalid',
    `${files.name} is neither an OCI image layout (index.json) nor a docker archive (manifest.json)`,
  );
}

export async function openArchive(path: string, o: OpenArchiveOptions): Promise<OpenedArchive> {
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(path);
  } catch (err) {
    throw new BerthError(
      'ERR_ARCHIVE_NOT_FOUND',
      'not-found',
      `cannot open ${path}: ${errnoCode(err) ?? err}`,
      {
        cause: err,
      },
    );
  }
  let scratch: string | undefined;
  let files: ArchiveFiles;
  if (st.isDirectory()) files = openDirFiles(path);
  else if (!st.isFile()) {
    throw new BerthError('ERR_ARCHIVE_FORMAT', 'invalid', `${path} is neither a file nor a directory`);
  } else {
    const kind = await compressionOf(path);
    if (kind !== 'none') scratch = await expand(path, kind, o);
    try {
      files = await openTarFiles(scratch ?? path, path);
    } catch (err) {
      if (scratch) await rm(scratch, { force: true });
      throw err;
    }
  }
  const close = async () => {
    await files.close();
    if (scratch) await rm(scratch, { force: true });
  };
  try {
    return { ...(await readImageSet(files)), close };
  } catch (err) {
    await close();
    throw err;
  }
}
