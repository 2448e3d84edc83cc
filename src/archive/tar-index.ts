// A table of contents of a tar archive, read by seeking from header to header (entry data is never
// read here), so blobs inside an archive can be streamed from their offsets without extracting
// anything to disk. Names are only ever looked up, never joined to a host path.
//
// Entries are read as Go's reader (docker load, skopeo) reads them: the data's size is a PAX size
// where given, and types that hold no data (links, directories, devices, fifos) skip none.
// Invariants: every entry lies inside the file (a size past its end is ERR_ARCHIVE_TRUNCATED); a
// name that is absolute or climbs with `..`, a duplicate regular file, or a link leaving the archive
// is ERR_ARCHIVE_UNSAFE; the number of entries and the size of meta records are bounded.
import { BerthError } from '../lib/errors.js';
import { parsePax, paxValue } from '../snapshot/tar-pax.js';
import { num, octal } from '../snapshot/tar-reader.js';

export interface TarIndexEntry {
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'link' | 'other';
  /** Where the entry's data starts in the archive. */
  offset: number;
  size: number;
  linkname: string;
}

/** Reads `length` bytes at `position` (fewer only at the end of the file). */
export type ReadAt = (position: number, length: number) => Promise<Buffer>;

const BLOCK = 512;
const MAX_ENTRIES = 100_000;
const MAX_META_BYTES = 1 << 20;
const MAX_LINK_HOPS = 8;

function unsafe(archive: string, why: string): BerthError {
  return new BerthError('ERR_ARCHIVE_UNSAFE', 'integrity', `${archive}: ${why}`);
}

function corrupt(archive: string, why: string): BerthError {
  return new BerthError('ERR_ARCHIVE_CORRUPT', 'integrity', `${archive}: malformed tar: ${why}`);
}

function field(h: Buffer, off: number, len: number): string {
  const end = h.indexOf(0, off);
  return h.subarray(off, end < 0 || end > off + len ? off + len : end).toString('utf8');
}

/** A number field as a layer's tar reader reads it (Go's archive/tar: NUL-led octal, base-256). */
function number(h: Buffer, off: number, len: number, archive: string, read = num): number {
  try {
    return read(h, off, len);
  } catch (err) {
    throw corrupt(
      archive,
      (err instanceof Error ? err.message : String(err)).replace(/^malformed tar: /, ''),
    );
  }
}

function checksumOk(h: Buffer, archive: string): boolean {
  const want = number(h, 148, 8, archive, octal); // octal only, as Go reads it
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : (h[i] as number);
  return sum === want;
}

/** `./a//b/` → `a/b`; refuses absolute names and `..`. */
export function cleanArchivePath(name: string, archive: string): string {
  if (name.startsWith('/')) throw unsafe(archive, `absolute name "${name}"`);
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw unsafe(archive, `name "${name}" climbs out with ..`);
  return parts.join('/');
}

/** A symlink's target, relative to the link's directory, kept inside the archive. */
function resolveRelative(link: string, target: string, archive: string): string {
  const parts = link.split('/').slice(0, -1);
  for (const p of target.split('/')) {
    if (p === '' || p === '.') continue;
    if (p !== '..') parts.push(p);
    else if (parts.pop() === undefined)
      throw unsafe(archive, `"${link}" links out of the archive ("${target}")`);
  }
  return parts.join('/');
}

const HEADER_ONLY = new Set(['1', '2', '3', '4', '5', '6']);
const TYPES: Record<string, TarIndexEntry['type']> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'link',
  '2': 'symlink',
  '5': 'directory',
};

export async function indexTar(
  read: ReadAt,
  fileSize: number,
  archive: string,
): Promise<Map<string, TarIndexEntry>> {
  const entries = new Map<string, TarIndexEntry>();
  let pos = 0;
  let pax = new Map<string, Buffer>();
  let longName: string | undefined;
  let longLink: string | undefined;
  for (let count = 0; ; count++) {
    if (count > MAX_ENTRIES) throw unsafe(archive, `more than ${MAX_ENTRIES} entries`);
    if (pos + BLOCK > fileSize) {
      if (pos === fileSize) break; // no end marker: tolerated, as GNU tar does
      throw new BerthError('ERR_ARCHIVE_TRUNCATED', 'integrity', `${archive}: ends inside a header`);
    }
    const h = await read(pos, BLOCK);
    if (h.every((b) => b === 0)) break;
    if (!checksumOk(h, archive)) throw corrupt(archive, `header checksum mismatch at byte ${pos}`);
    const typeflag = String.fromCharCode(h[156] as number);
    const headerSize = number(h, 124, 12, archive);
    const dataAt = pos + BLOCK;
    const skip = (size: number) => {
      if (dataAt + size > fileSize) {
        throw new BerthError(
          'ERR_ARCHIVE_TRUNCATED',
          'integrity',
          `${archive}: entry at byte ${pos} declares ${size} bytes, past the end of the file`,
        );
      }
      pos = dataAt + Math.ceil(size / BLOCK) * BLOCK;
    };
    if (typeflag === 'x' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K') {
      skip(headerSize);
      if (headerSize > MAX_META_BYTES) throw unsafe(archive, `a ${headerSize}-byte tar meta record`);
      const body = await read(dataAt, headerSize);
      if (typeflag === 'x') pax = parsePax(body);
      // An empty one names nothing, as in the layer reader (Go's).
      else if (typeflag === 'L') longName = field(body, 0, body.length) || undefined;
      else if (typeflag === 'K') longLink = field(body, 0, body.length) || undefined;
      else {
        // A global PAX header changes no entry and drops what was read before it, as Go's reader
        // (`docker load`) takes it: one archive, one set of names for both.
        pax = new Map();
        longName = undefined;
        longLink = undefined;
      }
      continue;
    }
    let name = field(h, 0, 100);
    if (h.subarray(257, 263).toString('latin1') === 'ustar\0') {
      const prefix = field(h, 345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    // A name given both ways is the GNU long one, as Go's reader takes it (snapshot/tar-reader.ts).
    // A record with an empty value keeps the header's field, as Go's mergePAX keeps it.
    name = longName ?? paxValue(pax, 'path')?.toString('utf8') ?? name;
    const linkname = longLink ?? paxValue(pax, 'linkpath')?.toString('utf8') ?? field(h, 157, 100);
    // The data's size is the PAX one where given, as Go's reader (docker load, skopeo) takes it: a
    // file past 8 GiB has only that (Go's writer puts 0 in the header, where it cannot be octal).
    const paxSize = paxValue(pax, 'size')?.toString('latin1');
    pax = new Map();
    longName = undefined;
    longLink = undefined;
    if (paxSize !== undefined && !(/^\d+$/.test(paxSize) && Number.isSafeInteger(Number(paxSize))))
      throw corrupt(archive, `bad PAX size "${paxSize.slice(0, 40)}" of "${name}"`);
    // Links, directories (a pre-POSIX one's name ends in '/'), devices and fifos have no data
    // whatever their size says, as in Go's reader (isHeaderOnlyType) and the layer reader.
    const headerOnly = HEADER_ONLY.has(typeflag) || (typeflag === '\0' && name.endsWith('/'));
    const size = headerOnly ? 0 : paxSize === undefined ? headerSize : Number(paxSize);
    skip(size);
    const type = headerOnly && typeflag === '\0' ? 'directory' : (TYPES[typeflag] ?? 'other');
    const clean = cleanArchivePath(name, archive);
    if (type === 'directory' || clean === '') continue;
    if (entries.has(clean)) throw unsafe(archive, `"${clean}" appears twice`);
    entries.set(clean, { name: clean, type, offset: dataAt, size, linkname });
  }
  return entries;
}

/** The regular file `name` names, following links inside the archive only. */
export function resolveArchiveFile(
  entries: ReadonlyMap<string, TarIndexEntry>,
  name: string,
  archive: string,
): TarIndexEntry | undefined {
  let path = cleanArchivePath(name, archive);
  for (let hop = 0; hop <= MAX_LINK_HOPS; hop++) {
    const e = entries.get(path);
    if (!e) return undefined;
    if (e.type === 'file') return e;
    if (e.type === 'link') {
      path = cleanArchivePath(e.linkname, archive);
    } else if (e.type === 'symlink') {
      if (e.linkname.startsWith('/'))
        throw unsafe(archive, `"${e.name}" links to the host path "${e.linkname}"`);
      path = resolveRelative(path, e.linkname, archive);
    } else {
      throw unsafe(archive, `"${e.name}" is not a regular file`);
    }
  }
  throw unsafe(archive, `"${name}": more than ${MAX_LINK_HOPS} links`);
}
