// Applying one layer's tar stream to a directory.
//
// Two forms: 'overlay' writes the layer as an overlayfs lower directory (a whiteout becomes a
// character device 0/0, an opaque marker the trusted.overlay.opaque xattr) into an empty directory;
// 'native' applies it on top of the layers below, deleting what whiteouts name (the flattened
// rootfs of `berth image unpack`, and hosts without overlayfs).
//
// Nothing outside `root` is ever created, changed or removed: names are cleaned (`..` stops at the
// root) and every write goes through LayerWriter, which resolves parents inside the root and never
// follows the entry itself. The tar is parsed and applied synchronously, chunk by chunk (TarReader):
// a file system call costs ~3 µs against ~60 µs for an async round trip through the libuv pool,
// and a layer is mostly small files.
import { fstatSync, ftruncateSync, lstatSync, writeFileSync } from 'node:fs';
import { BerthError, errnoCode } from '../lib/errors.js';
import { findInLowers } from './copy-up.js';
import { afterEntry, DeferredNames, namingEntry } from './entry-error.js';
import { checkEntry, checkMarkerDir, fitsLinux } from './entry-limits.js';
import { type HelperRun, runHelper } from './fs-helper.js';
import { InodeReserve } from './inode-reserve.js';
import { LayerWriter, type Meta, unsafe } from './layer-writer.js';
import { type LowerEntry, lowerEntry, splitParts } from './lower-view.js';
import { createPruner } from './native-prune.js';
import { PathTree } from './path-tree.js';
import { hostPath, resolveInRoot } from './resolve.js';
import { cleanComponents, isAllowedXattr, isOpaqueMarker, whiteoutTarget } from './tar-path.js';
import { type TarEntry, TarReader } from './tar-reader.js';

export type ApplyMode = 'overlay' | 'native';

export interface ApplyOptions {
  mode: ApplyMode;
  /** Overlay form: the snapshot directories below this layer, top first (for hardlinks into them). */
  lowers?: string[];
  /** Keep ownership from the tar (needs root); otherwise files belong to the caller. */
  preserveOwnership: boolean;
  /**
   * Overlay form: where to list (NUL-separated, relative) the directories the layer made only as
   * parents of its entries, for the snapshotter to give them the lower directories' metadata.
   */
  implicitDirsFile?: string;
  /**
   * Overlay form without `lowers`: where to list (the same way) every directory the layer made as
   * a parent, for the snapshotter to tell whether one stands on a lower symlink (lower-view.ts).
   */
  parentsFile?: string;
  /**
   * The most bytes the layer's files may hold in all, holes of sparse files included (what
   * containerd writes out): a file taking the layer past it is ERR_LAYER_TOO_LARGE before it is made.
   */
  maxBytes?: number;
  /** Free bytes to keep on the destination's file system: in inodes too (inode-reserve.ts). */
  reserveBytes?: number;
}

export interface ApplyStats {
  entries: number;
  files: number;
  bytes: number;
  xattrBytes: number;
}

/**
 * Xattr bytes one layer may set in all (a kernel takes 64 KiB per value; global PAX records apply to
 * every entry, and each xattr is work for the helper): past this the layer is refused.
 */
export const MAX_LAYER_XATTR_BYTES = 16 << 20;

function metaOf(e: TarEntry, stats: ApplyStats): Meta {
  const xattrs = e.xattrs.length === 0 ? e.xattrs : e.xattrs.filter(([name]) => isAllowedXattr(name));
  for (const [name, value] of xattrs) stats.xattrBytes += name.length + value.length;
  if (stats.xattrBytes > MAX_LAYER_XATTR_BYTES) {
    throw new BerthError(
      'ERR_LAYER_TOO_LARGE',
      'limit',
      `the layer's xattrs add up to more than ${MAX_LAYER_XATTR_BYTES} bytes`,
    );
  }
  return { mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime, xattrs };
}

/** Thrown through LayerWriter.place by a whiteout's parent that is a lower file (never seen outside). */
const NOTHING_THERE = new Error('nothing there');

/** The handler that turns parsed entries into file system changes. */
function createApplier(root: string, options: ApplyOptions, stats: ApplyStats) {
  const w = new LayerWriter(Buffer.from(root), options.preserveOwnership);
  // Host paths this layer has entries at or under (whiteouts and opaque markers hide lower layers
  // only, never what the layer itself adds, whatever the order in the tar); in overlay form, what a
  // whiteout names that is not such a path is only directories made for markers (see below).
  const touched = new Set<string>();
  const touch = (path: Buffer) => {
    let key = path.toString('latin1');
    while (key.length > root.length && !touched.has(key)) {
      touched.add(key);
      key = key.slice(0, key.lastIndexOf('/'));
    }
  };
  const isTouched = (p: Buffer) => touched.has(p.toString('latin1'));
  const prune = createPruner(w, isTouched);
  // Overlay form: what this layer deletes from the lowers (its whiteouts, its opaque directories),
  // so a hardlink of the same layer never copies such a file up (copy-up.ts).
  const deletes = new Set<string>();
  const opaques = new Set<string>();
  const opaqueCache = new Map<string, boolean>();
  // Files copied up for this layer's hardlinks: a whiteout or opaque marker later in the same layer
  // deletes the lower file they came from, so the copy goes then (the hardlink keeps the inode).
  const copiedUp = new PathTree<true>(w.root.toString('latin1'));
  const dropCopiesAt = (key: string) => {
    for (const [k] of copiedUp.takeUnder(key)) w.remove(Buffer.from(k, 'latin1'));
  };
  const hiddenHere = (target: Buffer) => {
    let key = target.toString('latin1');
    if (deletes.has(key)) return true;
    while (key.length > root.length) {
      key = key.slice(0, key.lastIndexOf('/'));
      if (deletes.has(key) || opaques.has(key)) return true;
    }
    return false;
  };
  if (options.mode === 'overlay' && options.lowers) {
    // A parent the layer has nothing at may be a lower layer's symlink: followed (inside the root);
    // or a lower file: no directory, as in native form. Unless this layer deleted it (a whiteout,
    // an opaque directory above it). Answers cached (the lowers never change): an entry under a
    // lower link asks again for every part of its path, and a chain of links is many lstat calls.
    const lowers = options.lowers;
    const asked = new Map<string, LowerEntry>();
    w.lowerLink = (parts) => {
      const at = hostPath(w.root, parts);
      if (hiddenHere(at)) return undefined;
      const key = at.toString('latin1');
      if (!asked.has(key)) asked.set(key, lowerEntry(lowers, parts, opaqueCache));
      const found = asked.get(key);
      if (found === 'not-dir')
        throw placingWhiteout ? NOTHING_THERE : unsafe(`${at.toString()} is not a directory`);
      return found?.link;
    };
  }
  // A whiteout whose parent is a lower file names nothing (native form finds nothing there).
  let placingWhiteout = false;
  const placeWhiteout = (target: Buffer[]): Buffer | undefined => {
    placingWhiteout = true;
    try {
      return w.place(target);
    } catch (err) {
      // Nothing there, or a file on the way (x/y/marker under a file x): no directory to make opaque.
      if (err === NOTHING_THERE || errnoCode(err) === 'ENOTDIR') return undefined;
      throw err;
    } finally {
      placingWhiteout = false;
    }
  };
  /**
   * The directory an opaque marker (the last of `parts`) makes opaque, made if missing: its path
   * resolved as any entry's parents are (symlinks followed inside the root, a lower layer's too), as
   * umoci and containerd resolve it. A marker in `lib/` over a lower `lib -> usr/lib` hides what the
   * lowers have in usr/lib and keeps the link (it was replaced by an empty directory). At or under a
   * file (this layer's or a lower one's) it names no directory: undefined, as umoci does nothing.
   */
  const markerDir = (parts: Buffer[]): Buffer | undefined => {
    let resolved: Buffer[];
    placingWhiteout = true;
    try {
      resolved = resolveInRoot(w.root, parts, undefined, w.lowerLink).resolved.slice(0, -1);
    } catch (err) {
      // Nothing there, or a file on the way (x/y/marker under a file x): no directory to make opaque.
      if (err === NOTHING_THERE || errnoCode(err) === 'ENOTDIR') return undefined;
      throw err;
    } finally {
      placingWhiteout = false;
    }
    if (resolved.length > 0 && isNonDirectory(hostPath(w.root, resolved))) return undefined;
    return w.ensureDir(resolved);
  };
  const opaqueRoot = () =>
    new BerthError(
      'ERR_LAYER_UNSUPPORTED',
      'invalid',
      `an opaque marker at the layer's root (every earlier layer hidden) cannot be made with overlayfs; \`berth image unpack\` applies it`,
    );
  /** The regular file being written; `pos`: where its next bytes go (a sparse file's holes skip). */
  let open: { fd: number; path: Buffer; meta: Meta; pos: number } | undefined;
  /** The sizes of the layer's files so far, holes of sparse files included. */
  let fileBytes = 0;
  const inodes = new InodeReserve(root, options.reserveBytes ?? 0);
  const deferredBy = new DeferredNames(w.root);
  const handler = {
    entry(e: TarEntry): void {
      stats.entries++;
      const parts = cleanComponents(e.name);
      if (parts.length === 0) return; // the root itself: its metadata is the snapshot's
      inodes.take(parts.length);
      const last = parts[parts.length - 1] as Buffer;
      if (isOpaqueMarker(last)) {
        // overlayfs honours no opaque mark on a lower layer's root: the lowers would show through.
        if (parts.length === 1 && options.mode === 'overlay') throw opaqueRoot();
        checkMarkerDir(e, parts.slice(0, -1), w.root.length);
        const dir = markerDir(parts);
        if (!dir) return; // at or under a file: no directory to make opaque
        // The same root reached through a symlink (a lower `l -> /` or `d -> .`).
        if (dir.length === w.root.length && options.mode === 'overlay') throw opaqueRoot();
        if (options.mode === 'overlay') {
          w.markOpaque(dir);
          deferredBy.note(dir, e.name);
          opaques.add(dir.toString('latin1'));
          if (copiedUp.size > 0) dropCopiesAt(dir.toString('latin1'));
        } else prune(dir);
        return;
      }
      const wh = whiteoutTarget(last);
      if (wh === 'meta') return; // other .wh..wh. names are aufs bookkeeping, not content
      if (wh) {
        const target = [...parts.slice(0, -1), wh];
        if (!fitsLinux(target, w.root.length)) return; // a name no file can have: nothing to hide
        if (options.mode === 'overlay') {
          const at = placeWhiteout(target);
          if (!at) return; // under a lower file: nothing there to hide, as in native form
          if (copiedUp.size > 0) dropCopiesAt(at.toString('latin1'));
          // No entry of the layer is at or under it: what is there, the directories an opaque marker
          // or a whiteout of this layer made, goes with the name, as in native form (it was kept,
          // an opaque directory the lowers had deleted: d/.wh..wh..opq then .wh.d left an empty d).
          if (!isTouched(at) && w.exists(at)) w.remove(at);
          w.whiteoutDevice(at);
          deferredBy.note(at, e.name);
          deletes.add(at.toString('latin1'));
          return;
        }
        const path = w.locate(target);
        if (!path) return; // nothing there: a no-op
        if (!isTouched(path)) w.remove(path);
        else if (w.isDir(path)) prune(path); // re-created by this layer: only its own stays
        return;
      }
      checkEntry(e, parts, w.root.length);
      const path = w.place(parts);
      touch(path);
      const meta = metaOf(e, stats);
      if (meta.xattrs.length > 0 || e.type === 'fifo' || e.type === 'char' || e.type === 'block')
        deferredBy.note(path, e.name);
      switch (e.type) {
        case 'directory':
          w.directory(path, meta);
          return;
        case 'file':
          fileBytes += e.size;
          if (options.maxBytes !== undefined && fileBytes > options.maxBytes)
            throw new BerthError(
              'ERR_LAYER_TOO_LARGE',
              'limit',
              `a file of ${e.size} bytes (holes included) takes the layer past its limit of ${options.maxBytes} bytes`,
              { hint: 'raise unpack.maxLayerBytes in the host config if the image is trusted' },
            );
          open = { fd: w.openFile(path, meta), path, meta, pos: 0 };
          stats.files++;
          return;
        case 'symlink':
          w.symlink(path, e.linkname, meta);
          return;
        case 'link': {
          const target = cleanComponents(e.linkname);
          if (target.length === 0) throw unsafe('a hardlink to the root');
          const lowers = options.lowers;
          if (options.mode === 'overlay' && !lowers && !w.exists(w.place(target))) {
            // Probably a file of a lower layer: unpack again once the lower snapshots exist.
            throw new BerthError(
              'ERR_LAYER_NEEDS_LOWER',
              'internal',
              `hardlink ${e.name.toString()} needs lower layers`,
            );
          }
          const at = w.place(target);
          w.hardlink(path, at, e.linkname.toString(), () => {
            // Looked up where the link leads, lower symlinks followed: no symlink on the way there.
            const from =
              lowers && !hiddenHere(at)
                ? findInLowers(lowers, splitParts(at.subarray(w.root.length + 1)), opaqueCache)
                : undefined;
            if (from) copiedUp.set(at.toString('latin1'), true);
            return from;
          });
          return;
        }
        case 'fifo':
          w.special(path, 'p', 0, 0, meta);
          return;
        case 'char':
        case 'block':
          w.special(path, e.type === 'char' ? 'c' : 'b', e.devmajor, e.devminor, meta);
          return;
        default:
          return; // `other` types were refused by checkEntry
      }
    },
    data(chunk: Buffer): void {
      if (!open) return;
      LayerWriter.writeAll(open.fd, chunk, open.pos);
      open.pos += chunk.length;
      stats.bytes += chunk.length;
    },
    hole(bytes: number): void {
      if (open) open.pos += bytes; // left unwritten: the file system keeps it a hole
    },
    end(): void {
      if (!open) return;
      const { fd, path, meta, pos } = open;
      open = undefined;
      if (pos > 0 && fstatSync(fd).size < pos) ftruncateSync(fd, pos); // a hole at the end
      w.closeFile(fd, path, meta);
    },
    /** Close a file left open by a failure, so nothing leaks. */
    abandon(): void {
      if (open) w.abandonFile(open.fd);
      open = undefined;
    },
    async finish(run: HelperRun): Promise<void> {
      await w.finish(run).catch((err: unknown) => {
        throw deferredBy.naming(err);
      });
      if (options.implicitDirsFile) writeFileSync(options.implicitDirsFile, joinNul(w.implicitDirs()));
      if (options.parentsFile) writeFileSync(options.parentsFile, joinNul(w.parentsMade()));
    },
  };
  return handler;
}

/** Something other than a directory is there (a missing path, or one under a file, is not). */
function isNonDirectory(p: Buffer): boolean {
  try {
    return !lstatSync(p).isDirectory();
  } catch {
    return false;
  }
}

const joinNul = (list: Buffer[]) => Buffer.concat(list.flatMap((b, i) => (i === 0 ? [b] : [NUL, b])));
const NUL = Buffer.from([0]);

/**
 * Parses and applies tar bytes pushed to it, synchronously; `close` finishes (the deferred work
 * through `run`: a long-lived helper in a worker, one of its own otherwise), `abandon` gives up.
 */
export function createTarApplier(root: string, options: ApplyOptions, run: HelperRun = runHelper) {
  const stats: ApplyStats = { entries: 0, files: 0, bytes: 0, xattrBytes: 0 };
  const applier = createApplier(root, options, stats);
  // The entry being read (its name in every error, entry-error.ts), and the last one begun.
  let current: Buffer | undefined;
  let last: Buffer | undefined;
  const reader = new TarReader({
    entry(e) {
      current = e.name;
      last = e.name;
      applier.entry(e);
    },
    data: (chunk) => applier.data(chunk),
    hole: (bytes) => applier.hole(bytes),
    end() {
      applier.end();
      current = undefined;
    },
  });
  const named = (err: unknown) => (current ? namingEntry(err, current) : last ? afterEntry(err, last) : err);
  return {
    stats,
    push(chunk: Buffer): void {
      try {
        reader.push(chunk);
      } catch (err) {
        throw named(err);
      }
    },
    close(): Promise<void> {
      try {
        reader.close();
      } catch (err) {
        throw named(err);
      }
      return applier.finish(run);
    },
    abandon: () => applier.abandon(),
  };
}
