// Snapshots: `<root>/snapshots/<chainID hex>/` holds one layer unpacked in overlay form (`fs/`, an
// overlay lower directory) and `snapshot.json` (chainID, diffID, parent, sizes). Hosts without
// overlayfs keep native snapshots in `<root>/snapshots/native/<chainID hex>/`: `fs/` is then the
// whole root filesystem up to that layer (its parent's copied, the layer applied). A snapshot is
// built in `snapshots/.tmp-<hex>.<owner>.<rand>/` (owner: pid, start time, boot; lib/process.ts) and renamed into place only when complete,
// verified and synced to disk (sync-fs.ts), so a snapshot directory that exists is whole; a temp directory of a dead process is
// removed by the next pull or prune. Removal is the same in reverse: the snapshot is renamed to a
// temp name first, then deleted, so a kill in the middle never leaves a half-deleted tree under
// its published name (a pull would take it as unpacked, or fail to publish over it). Each layer
// unpacks once and is shared by every image using it. A snapshot whose snapshot.json does not parse
// (a power cut as it was written, on a file system that lost the data) counts as incomplete: the
// next unpack publishes over it, as over a directory without one.
import { randomBytes } from 'node:crypto';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode } from '../lib/errors.js';
import { makeDirs } from '../lib/make-dirs.js';
import { isOwnerAlive, OWNER_PATTERN, ownerToken } from '../lib/process.js';
import { type Digest, digestHex, parseDigest } from '../oci/digest.js';
import type { SnapshotForm } from './form.js';
import { syncDirectory, syncFileSystem } from './sync-fs.js';

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
  /**
   * Its record, or undefined when it is not there or its snapshot.json does not parse (empty, cut
   * short): such a snapshot is incomplete, and the next unpack replaces it.
   */
  get(chainId: Digest): Promise<SnapshotInfo | undefined>;
  /** The snapshot.json files `get` found unreadable so far, for a warning naming them. */
  unreadable(): readonly string[];
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
  const tempOf = (chainId: Digest) =>
    join(dir, `.tmp-${digestHex(parseDigest(chainId))}.${ownerOnce()}.${randomBytes(4).toString('hex')}`);
  /** Unpublish by rename (atomic), then delete at leisure: `clean` finishes it after a crash. */
  const remove = async (chainId: Digest) => {
    const tmp = tempOf(chainId);
    try {
      await rename(pathOf(chainId), tmp);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return;
      throw err;
    }
    await rm(tmp, { recursive: true, force: true });
  };
  const unreadable = new Set<string>();
  /** The record, 'unreadable' for one that does not parse, undefined for none. */
  const readInfo = async (chainId: Digest): Promise<SnapshotInfo | 'unreadable' | undefined> => {
    const file = join(pathOf(chainId), 'snapshot.json');
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const info: unknown = JSON.parse(text);
      if (typeof info === 'object' && info !== null && (info as SnapshotInfo).chainId === chainId)
        return info as SnapshotInfo;
    } catch {
      // as below
    }
    unreadable.add(file);
    return 'unreadable';
  };
  const isWhole = async (chainId: Digest) => {
    try {
      const info = await readInfo(chainId);
      return info !== undefined && info !== 'unreadable';
    } catch {
      return false;
    }
  };
  return {
    dir,
    form,
    fsPath: (chainId) => join(pathOf(chainId), 'fs'),
    async get(chainId) {
      const info = await readInfo(chainId);
      return info === 'unreadable' ? undefined : info;
    },
    unreadable: () => [...unreadable],
    async prepare(chainId) {
      await makeDirs(dir);
      const tmp = tempOf(chainId);
      await makeDirs(join(tmp, 'fs'));
      return {
        fs: join(tmp, 'fs'),
        async commit(info) {
          await writeFile(join(tmp, 'snapshot.json'), JSON.stringify(info, null, 2) + '\n');
          await syncFileSystem(tmp); // the tree on disk before its name (see sync-fs.ts)
          for (let attempt = 0; ; attempt++) {
            try {
              await rename(tmp, pathOf(chainId));
              syncDirectory(dir);
              return;
            } catch (err) {
              if (errnoCode(err) !== 'ENOTEMPTY' && errnoCode(err) !== 'EEXIST') throw err;
            }
            // Another process published the same snapshot first: theirs is as good as ours. A
            // directory without snapshot.json is not one (a removal an older berth did not
            // finish): it goes, and ours takes its place.
            if (attempt > 0 || (await isWhole(chainId))) break;
            await remove(chainId);
          }
          await rm(tmp, { recursive: true, force: true });
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
    remove,
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
