// Applying one layer's tar stream to a directory.
//
// Two forms: 'overlay' writes the layer as an overlayfs lower directory (a whiteout becomes a
// character device 0/0, an opaque marker the trusted.overlay.opaque xattr) into an empty directory;
// 'native' applies it on top of the layers below, deleting what whiteouts name (the flattened
// rootfs of `berth image unpack`, and hosts without overlayfs).
//
// Nothing outside `root` is ever created, changed or removed: names are cleaned (`..` stops at the
// root) and every write goes through LayerWriter, which resolves parents inside the root and never
// follows the entry itself. File system calls are synchronous: each costs ~3 µs against ~60 µs for
// an async round trip through the libuv pool, and a layer is mostly small files.
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { LayerWriter, type Meta, unsafe } from './layer-writer.js';
import { cleanComponents, isAllowedXattr, isOpaqueMarker, nameBytes, whiteoutTarget } from './tar-path.js';

export type ApplyMode = 'overlay' | 'native';

export interface ApplyOptions {
  mode: ApplyMode;
  /** Keep ownership from the tar (needs root); otherwise files belong to the caller. */
  preserveOwnership: boolean;
}

export interface ApplyStats {
  entries: number;
  files: number;
  bytes: number;
}

type Header = Omit<tar.Header, 'pax'> & { pax?: Record<string, string> | null };

function metaOf(h: Header): Meta {
  const paxTime = h.pax?.mtime;
  const mtime =
    paxTime && /^-?\d+(\.\d+)?$/.test(paxTime) ? new Date(Number(paxTime) * 1000) : (h.mtime ?? new Date(0));
  const xattrs: Array<[string, Buffer]> = [];
  for (const [key, value] of Object.entries(h.pax ?? {})) {
    if (!key.startsWith('SCHILY.xattr.')) continue;
    const name = key.slice('SCHILY.xattr.'.length);
    if (isAllowedXattr(name)) xattrs.push([name, Buffer.from(value, 'utf8')]);
  }
  return { mode: h.mode ?? 0o644, uid: h.uid ?? 0, gid: h.gid ?? 0, mtime, xattrs };
}

export async function applyLayer(root: string, stream: Readable, options: ApplyOptions): Promise<ApplyStats> {
  const w = new LayerWriter(Buffer.from(root), options.preserveOwnership);
  const created = new Set<string>(); // paths this layer made, for opaque markers in native form
  const stats: ApplyStats = { entries: 0, files: 0, bytes: 0 };
  // latin1 keeps ustar/GNU names byte for byte (tar-stream's option, missing from its types).
  const extract = tar.extract({ filenameEncoding: 'latin1' } as Parameters<typeof tar.extract>[0]);
  stream.on('error', (err: Error) => extract.destroy(err));
  stream.pipe(extract);

  for await (const entry of extract) {
    const h = entry.header as Header;
    stats.entries++;
    const parts = cleanComponents(nameBytes(h.name, typeof h.pax?.path === 'string'));
    if (parts.length === 0) {
      entry.resume(); // the root itself: its metadata is the snapshot's, not the image's
      continue;
    }
    const last = parts[parts.length - 1] as Buffer;
    if (isOpaqueMarker(last)) {
      entry.resume();
      const dir = w.ensureDir(parts.slice(0, -1));
      if (options.mode === 'overlay') w.markOpaque(dir);
      else w.removeChildren(dir, (p) => created.has(p.toString('latin1')));
      continue;
    }
    const wh = whiteoutTarget(last);
    if (wh) {
      entry.resume();
      const path = w.place([...parts.slice(0, -1), wh]);
      if (options.mode === 'overlay') w.whiteoutDevice(path);
      else w.remove(path);
      continue;
    }
    const path = w.place(parts);
    created.add(path.toString('latin1'));
    const meta = metaOf(h);
    switch (h.type) {
      case 'directory':
        entry.resume();
        w.directory(path, meta);
        break;
      case 'file':
      case 'contiguous-file':
        await w.file(path, meta, async (fd) => {
          for await (const chunk of entry as AsyncIterable<Buffer>) {
            LayerWriter.writeAll(fd, chunk);
            stats.bytes += chunk.length;
          }
        });
        stats.files++;
        break;
      case 'symlink':
        entry.resume();
        w.symlink(path, nameBytes(h.linkname ?? '', typeof h.pax?.linkpath === 'string'), meta);
        break;
      case 'link': {
        entry.resume();
        const targetParts = cleanComponents(nameBytes(h.linkname ?? '', typeof h.pax?.linkpath === 'string'));
        if (targetParts.length === 0) throw unsafe(`hardlink ${h.name} points at the root`);
        w.hardlink(path, w.place(targetParts), h.name, h.linkname ?? '');
        break;
      }
      case 'fifo':
        entry.resume();
        w.special(path, 'p', 0, 0, meta);
        break;
      case 'character-device':
      case 'block-device':
        entry.resume();
        w.special(path, h.type === 'character-device' ? 'c' : 'b', h.devmajor ?? 0, h.devminor ?? 0, meta);
        break;
      default:
        entry.resume(); // pax/gnu bookkeeping entries are consumed by tar-stream; others are skipped
    }
  }
  w.finish();
  return stats;
}
