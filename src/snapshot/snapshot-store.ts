// Snapshots: `<root>/snapshots/<chainID hex>/` holds one layer unpacked in overlay form (`fs/`, an
// overlay lower directory) and `snapshot.json` (chainID, diffID, parent, sizes). Hosts without
// overlayfs keep native snapshots in `<root>/snapshots/native/<chainID hex>/`: `fs/` is then the
// whole root filesystem up to that layer (its parent's copied, the layer applied). A snapshot is
// built in `snapshots/.tmp-<hex>.<owner>.<rand>/` (owner: pid, start time, boot; lib/process.ts) and renamed into place only when complete and
// verified, so a snapshot directory that exists is whole; a temp directory of a dead process is
// removed by the next pull or prune. Each layer unpacks once and is shared by every image using it.
import { randomBytes } from 'node:crypto';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode } from '../lib/errors.js';
import { makeDirs } from '../lib/make-dirs.js';
import { isOwnerAlive, OWNER_PATTERN, ownerToken } from '../lib/process.js';
import { type Digest, digestHex, parseDigest } from '../oci/digest.js';
import type { SnapshotForm } from './form.js';

const TMP_NAME = new RegExp(`^\\.tmp-[a-f0-9]{64}\\.(${OWNER_PATTERN})\\.[a-f0-9]+$`);

export interface SnapshotInfo {
  chainId: Digest;
  diffId: Digest;
  parent: Digest | null;
  /** Uncompressed tar bytes of the layer. */
  size: number;
  createdAt: string;
}

export interface SnapshotStore {
  readonly dir: string;
  readonly form: SnapshotForm;
  fsPath(chainId: Digest): string;
  get(chainId: Digest): Promise<SnapshotInfo | undefined>;
  /** A fresh, empty directory to unpack into; `commit` publishes it, `discard` removes it. */
  prepare(
    chainId: Digest,
  ): Promise<{ fs: string; commit(info: SnapshotInfo): Promise<void>; discard(): Promise<void> }>;
  list(): Promise<Digest[]>;
  remove(chainId: Digest): Promise<void>;
  /** Remove temp directories of processes that are gone. */
  clean(isAlive?: (owner: string) => boolean): Promise<void>;
}

export function createSnapshotStore(
  root: string,
  form: SnapshotForm = 'overlay',
  pid = process.pid,
): SnapshotStore {
  const dir = form === 'overlay' ? join(root, 'snapshots') : join(root, 'snapshots', 'native');
  const pathOf = (chainId: Digest) => join(dir, digestHex(parseDigest(chainId)));
  let owner: string | undefined;
  const ownerOnce = () => {
    owner ??= ownerToken(pid); // read from /proc on first use
    return owner;
  };
  return {
    dir,
    form,
    fsPath: (chainId) => join(pathOf(chainId), 'fs'),
    async get(chainId) {
      try {
        return JSON.parse(await readFile(join(pathOf(chainId), 'snapshot.json'), 'utf8')) as SnapshotInfo;
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') return undefined;
        throw err;
      }
    },
    async prepare(chainId) {
      await makeDirs(dir);
      const tmp = join(
        dir,
        `.tmp-${digestHex(parseDigest(chainId))}.${ownerOnce()}.${randomBytes(4).toString('hex')}`,
      );
      await makeDirs(join(tmp, 'fs'));
      return {
        fs: join(tmp, 'fs'),
        async commit(info) {
          await writeFile(join(tmp, 'snapshot.json'), JSON.stringify(info, null, 2) + '\n');
          try {
            await rename(tmp, pathOf(chainId));
          } catch (err) {
            // Another process published the same snapshot first: theirs is as good as ours.
            if (errnoCode(err) !== 'ENOTEMPTY' && errnoCode(err) !== 'EEXIST') throw err;
            await rm(tmp, { recursive: true, force: true });
          }
        },
        discard: () => rm(tmp, { recursive: true, force: true }),
      };
    },
    async list() {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') return [];
        throw err;
      }
      return names.filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => `sha256:${n}` as Digest);
    },
    remove: (chainId) => rm(pathOf(chainId), { recursive: true, force: true }),
    async clean(isAlive = isOwnerAlive) {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') return;
        throw err;
      }
      for (const n of names) {
        const m = TMP_NAME.exec(n);
        if (m && !isAlive(m[1] as string)) await rm(join(dir, n), { recursive: true, force: true });
      }
    },
  };
}

/** The stores of both forms under `root` (for collecting). */
export function allSnapshotStores(root: string): SnapshotStore[] {
  return [createSnapshotStore(root, 'overlay'), createSnapshotStore(root, 'native')];
}
