// A push parser for tar streams (ustar, GNU long names, PAX, sparse files in PAX form through
// tar-sparse.ts), synchronous: feed it chunks, it
// calls back per entry header, per slice of entry data and per entry end, without an async step
// per entry. Nothing of a chunk is kept once push() returns (callers recycle chunk memory). Names and link targets stay raw bytes, including inside PAX records, so a name that
// is not UTF-8 reaches the disk byte for byte. Pure: no I/O.
import { BerthError } from '../lib/errors.js';
import { parsePax, paxValue } from './tar-pax.js';
import { SparseEntry, type SparseSink, sparseFormat, sparseIdentity } from './tar-sparse.js';

export type EntryType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'directory' | 'fifo' | 'other';

export interface TarEntry {
  name: Buffer;
  linkname: Buffer;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: Date;
  devmajor: number;
  devminor: number;
  /** SCHILY.xattr.* records from PAX headers: name and raw value. */
  xattrs: Array<[string, Buffer]>;
  /** An `other` entry's type flag as the header has it (a `7`, GNU's `D` or `V`, a vendor's). */
  typeflag?: string;
}

export interface TarHandler {
  entry(e: TarEntry): void;
  data(chunk: Buffer): void;
  /** A hole of a sparse file: `bytes` of zeros that are not stored (tar-sparse.ts). */
  hole(bytes: number): void;
  end(): void;
}

const BLOCK = 512;
/** Types whose entries carry no data whatever size their header declares (Go's isHeaderOnlyType). */
const HEADER_ONLY = new Set<EntryType>(['link', 'symlink', 'char', 'block', 'directory', 'fifo']);
const TYPES: Record<string, EntryType> = {
  '0': 'file',
  '\0': 'file',
  '1': 'link',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'directory',
  '6': 'fifo',
  // '7' (contiguous file) is none: Go's reader leaves it a type of its own, which containerd,
  // Docker and umoci refuse, so it is an `other` here too (its data passed by, as Go passes it).
};

/** The most bytes of PAX records, GNU long names or long link targets buffered for one entry. */
export const MAX_META_BYTES = 1 << 20;

const META_NAMES: Record<string, string> = {
  x: 'PAX header',
  g: 'global PAX headers',
  L: 'GNU long name',
  K: 'GNU long link target',
};

function metaTooLarge(kind: string, size: number): BerthError {
  return new BerthError(
    'ERR_TAR_HEADER_TOO_LARGE',
    'limit',
    `tar ${META_NAMES[kind]} of ${size} bytes, above the limit of ${MAX_META_BYTES}`,
  );
}

function corrupt(why: string): BerthError {
  return new BerthError('ERR_LAYER_CORRUPT', 'integrity', `malformed tar: ${why}`);
}

function cstr(buf: Buffer, off: number, len: number): Buffer {
  const end = buf.indexOf(0, off);
  return buf.subarray(off, end < 0 || end > off + len ? off + len : end);
}

/**
 * Octal, or base-256 when the high bit of the first byte is set (GNU, for big values; two's
 * complement when the next bit is set too, allowed only where `signed`: a time before 1970; a
 * negative size would put the stream out of step, as Go's reader refuses it).
 */
export function num(buf: Buffer, off: number, len: number, signed = false): number {
  if ((buf[off] as number) & 0x80) {
    const inv = (buf[off] as number) & 0x40 ? 0xff : 0;
    if (inv && !signed) throw corrupt('a negative number where none may be');
    let v = ((buf[off] as number) ^ inv) & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + ((buf[off + i] as number) ^ inv);
    if (!Number.isSafeInteger(v)) {
      // A time past any clock (tarTime: the epoch); a size or an id out of range is refused.
      if (signed) return inv ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
      throw corrupt('a base-256 number out of range');
    }
    return inv ? -v - 1 : v;
  }
  return octal(buf, off, len);
}

const isPad = (c: number | undefined) => c === 0x20 || c === 0;

/**
 * Octal digits as Go's parseOctal reads them (parsed by hand: this runs several times per entry):
 * spaces and NULs trimmed from both ends (a field may start with NULs: "\0\0\0755\0" is 0755, and a
 * size read as 0 there would put the stream out of step with every other reader), then digits up
 * to a NUL, nothing else.
 */
export function octal(buf: Buffer, off: number, len: number): number {
  let start = off;
  let end = off + len;
  while (start < end && isPad(buf[start])) start++;
  while (end > start && isPad(buf[end - 1])) end--;
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i] as number;
    if (c === 0) break;
    if (c < 0x30 || c > 0x37)
      throw corrupt(`bad number "${cstr(buf, start, end - start).toString('latin1')}"`);
    v = v * 8 + (c - 0x30);
  }
  return v;
}

/**
 * Whether a GNU header's optional time field reads as Go reads it (an unset one, first byte NUL,
 * is not read): octal, or base-256 holding at most 63 bits.
 */
function isGoNumber(buf: Buffer, off: number, len: number): boolean {
  const first = buf[off] as number;
  if (first === 0) return true;
  if (first & 0x80) {
    // Bits 63 and up of the two's complement value (the sign bit aside) must all be the sign.
    const inv = first & 0x40 ? 0xff : 0;
    const top = len * 8 - 1 - 63;
    for (let bit = 0; bit < top; bit++) {
      const at = off + Math.floor((bit + 1) / 8);
      const mask = 0x80 >> ((bit + 1) % 8);
      if ((((buf[at] as number) ^ inv) & mask) !== 0) return false;
    }
    return true;
  }
  try {
    octal(buf, off, len);
    return true;
  } catch {
    return false;
  }
}

/** The most seconds either side of 1970 a signed 64-bit count of nanoseconds holds (1677 to 2262). */
export const MAX_TIME_SECONDS = 9_223_372_036;

/**
 * An entry's time from its seconds: one no 64-bit nanosecond clock holds (Go's time.Time as
 * os.Chtimes takes it; a JS Date ends sooner still, at ±8.64e12 s, and said Invalid Date there,
 * which utimes took as the time of the unpack) is the epoch, as containerd's applier bounds it (boundTime). Earlier times,
 * before 1970 too, are kept as GNU tar and umoci keep them (containerd's bound makes those the epoch too).
 */
export function tarTime(seconds: number): Date {
  return Math.abs(seconds) <= MAX_TIME_SECONDS ? new Date(seconds * 1000) : new Date(0);
}

function checksumOk(h: Buffer): boolean {
  const want = octal(h, 148, 8); // octal only, as Go reads it: never base-256
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 32 : (h[i] as number);
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return want === unsigned || want === signed;
}

export class TarReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes of entry data still to deliver, then padding to skip. */
  private dataLeft = 0;
  private padLeft = 0;
  /** Collecting the body of a meta entry (PAX / GNU long name) instead of delivering it. */
  private metaKind: string | undefined;
  private metaBody: Buffer[] = [];
  private pax = new Map<string, Buffer>();
  private longName: Buffer | undefined;
  private longLink: Buffer | undefined;
  private inEntry = false;
  /** The entry being read is a sparse file: its data goes through here. */
  private sparse: SparseEntry | undefined;
  private readonly sparseSink: SparseSink = {
    data: (c) => this.handler.data(c),
    hole: (n) => this.handler.hole(n),
  };
  /** One zero block was read: the next must be the second of the end-of-archive marker. */
  private zeroBlock = false;
  private finished = false;

  constructor(private readonly handler: TarHandler) {}

  push(chunk: Buffer): void {
    let buf = chunk;
    while (buf.length > 0 && !this.finished) {
      if (this.dataLeft > 0) {
        const n = Math.min(this.dataLeft, buf.length);
        const slice = buf.subarray(0, n);
        if (this.metaKind)
          this.metaBody.push(Buffer.from(slice)); // a copy: the chunk is not ours to keep
        else if (this.sparse) this.sparse.data(slice, this.sparseSink);
        else this.handler.data(slice);
        this.dataLeft -= n;
        buf = buf.subarray(n);
        if (this.dataLeft === 0) this.endEntry();
        continue;
      }
      if (this.padLeft > 0) {
        const n = Math.min(this.padLeft, buf.length);
        this.padLeft -= n;
        buf = buf.subarray(n);
        continue;
      }
      // Need a whole header block.
      const need = BLOCK - this.pendingBytes;
      const take = buf.subarray(0, need);
      // A header cut by the chunk's end is kept as a copy: the caller may reuse the chunk's memory.
      this.pending.push(take.length < need || this.pending.length > 0 ? Buffer.from(take) : take);
      this.pendingBytes += take.length;
      buf = buf.subarray(take.length);
      if (this.pendingBytes === BLOCK) {
        const header = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending);
        this.pending = [];
        this.pendingBytes = 0;
        this.header(header);
      }
    }
  }

  /** The stream ended: it must not end inside an entry. */
  close(): void {
    if (this.dataLeft > 0 || this.pendingBytes > 0 || this.inEntry) throw corrupt('unexpected end of stream');
  }

  private header(h: Buffer): void {
    if (h.every((b) => b === 0)) {
      // The end-of-archive marker (two zero blocks; one and the stream's end will do, as in Go);
      // whatever follows it is padding.
      if (this.zeroBlock) this.finished = true;
      this.zeroBlock = true;
      return;
    }
    // A header after one zero block: Go's reader refuses it; stopping quietly would hide entries.
    if (this.zeroBlock) throw corrupt('a zero block followed by a header (no end-of-archive marker)');
    if (!checksumOk(h)) throw corrupt('header checksum mismatch');
    const typeflag = String.fromCharCode(h[156] as number);
    const size = num(h, 124, 12);
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    if (typeflag === 'x' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K') {
      // Buffered whole before the entry it describes: bounded, or one header could take all memory.
      if (size > MAX_META_BYTES) throw metaTooLarge(typeflag, size);
      this.metaKind = typeflag;
      this.metaBody = [];
      this.dataLeft = size;
      this.padLeft = pad;
      if (size === 0) this.endEntry();
      return;
    }
    let name = cstr(h, 0, 100);
    // The formats told apart as Go's reader tells them: magic "ustar\0" is ustar, with a 155-byte
    // name prefix, or star when the block ends in "tar\0", with a 131-byte one (times follow it);
    // "ustar  \0" is GNU, which keeps times there; anything else is V7, with no device numbers.
    const magic = h.subarray(257, 263).toString('latin1');
    const ustar = magic === 'ustar\0';
    if (ustar) {
      const star = h.subarray(508, 512).toString('latin1') === 'tar\0';
      if (star) {
        // Its access and change times: Go refuses a header where they are not numbers.
        num(h, 476, 12);
        num(h, 488, 12);
      }
      const prefix = cstr(h, 345, star ? 131 : 155);
      if (prefix.length > 0) name = Buffer.concat([prefix, Buffer.from('/'), name]);
    }
    const gnu = !ustar && h.subarray(257, 265).toString('latin1') === 'ustar  \0';
    if (gnu && !(isGoNumber(h, 345, 12) && isGoNumber(h, 357, 12))) {
      // Go before 1.8 wrote a ustar name prefix into a GNU header, over its access and change
      // times (golang.org/issue/12594): where those are not numbers and the prefix is ASCII, Go's
      // reader, so containerd and Docker, takes it as the prefix; the file goes where they put it.
      const prefix = cstr(h, 345, 155);
      if (prefix.length > 0 && prefix.every((b) => b < 0x80))
        name = Buffer.concat([prefix, Buffer.from('/'), name]);
    }
    const devices = ustar || gnu;
    const pax = this.pax;
    // A PAX number is what Go's tar reads: digits (a time may be negative and have a fraction).
    const paxNum = (k: string, fallback: number) => {
      const v = paxValue(pax, k)?.toString('latin1');
      if (v === undefined) return fallback;
      const n = Number(v);
      // A time's digits may say any number (too large a one is the epoch, tarTime).
      const ok =
        k === 'mtime'
          ? /^-?\d+(\.\d+)?$/.test(v)
          : /^\d+$/.test(v) && Number.isSafeInteger(n) && Number.isFinite(n);
      if (!ok) throw corrupt(`bad PAX ${k} "${v.slice(0, 40)}"`);
      return n;
    };
    // The old GNU 'S' type stays refused (Go reads it as a type of its own, containerd refuses it);
    // sparse files in PAX form (0.0, 0.1, 1.0) are read as Go reads them.
    if (typeflag === 'S')
      throw new BerthError(
        'ERR_LAYER_UNSUPPORTED',
        'invalid',
        `sparse file ${(this.longName ?? paxValue(pax, 'path') ?? name).toString()}: old GNU sparse entries are not supported (write it with --format=posix, or without --sparse)`,
      );
    const format = pax.size > 0 ? sparseFormat(pax) : undefined;
    const sparse = format ? sparseIdentity(pax) : undefined;
    // A name given both ways is the GNU long one's, whichever came first, as Go's reader takes it
    // (GNU tar and Python take other ones: the tree containerd and Docker make is the one to match);
    // a sparse file's own name comes last of all.
    const fullName = sparse?.name ?? this.longName ?? paxValue(pax, 'path') ?? name;
    const entry: TarEntry = {
      name: fullName,
      linkname: this.longLink ?? paxValue(pax, 'linkpath') ?? cstr(h, 157, 100),
      // A pre-POSIX (V7) directory is a "file" whose name ends in '/', as Go's tar reads it: its
      // full name (a GNU long name's, a PAX path's), not the header's first 100 bytes.
      type:
        typeflag === '\0' && fullName[fullName.length - 1] === 0x2f
          ? 'directory'
          : (TYPES[typeflag] ?? 'other'),
      mode: num(h, 100, 8),
      uid: paxNum('uid', num(h, 108, 8)),
      gid: paxNum('gid', num(h, 116, 8)),
      size: sparse ? sparse.size : paxNum('size', size),
      mtime: tarTime(paxNum('mtime', num(h, 136, 12, true))),
      devmajor: devices ? num(h, 329, 8) : 0,
      devminor: devices ? num(h, 337, 8) : 0,
      xattrs:
        pax.size === 0
          ? []
          : [...pax].filter(([k]) => k.startsWith('SCHILY.xattr.')).map(([k, v]) => [k.slice(13), v]),
    };
    if (entry.type === 'other') entry.typeflag = typeflag;
    if (this.pax.size > 0) this.pax = new Map();
    this.longName = undefined;
    this.longLink = undefined;
    // Regular files' data goes to the handler; bytes an unknown type declares (its PAX size first)
    // are passed by too (and ignored there). Links, directories, devices and fifos have none, as
    // in Go's reader: the next block is a header whatever their size says, or the same layer would
    // hold other entries for berth than for containerd.
    if (HEADER_ONLY.has(entry.type)) {
      // Go's reader refuses a sparse map on a type that has no data.
      if (sparse) throw corrupt('sparse file of a type that holds no data');
      entry.size = 0;
    }
    // A sparse file stores less than its size: its regions (and, in 1.0, its map); an unknown
    // type's stored bytes are passed by, as Go passes them, whatever size its map declares.
    const dataSize = sparse ? paxNum('size', size) : entry.size;
    if (format && entry.type === 'file') this.sparse = new SparseEntry(pax, format, entry.size);
    this.inEntry = true;
    this.handler.entry(entry);
    this.dataLeft = dataSize;
    this.padLeft = (BLOCK - (dataSize % BLOCK)) % BLOCK;
    if (dataSize === 0) this.endEntry();
  }

  private endEntry(): void {
    if (this.metaKind) {
      const body = Buffer.concat(this.metaBody);
      if (this.metaKind === 'x') this.pax = parsePax(body);
      else if (this.metaKind === 'g') {
        // Go's reader hands a global header back as an entry of its own, which containerd and
        // Docker skip: its records change no entry (a `path` there would name every file alike,
        // an xattr land on all), and the PAX records and long names read before it are dropped
        // with it. It is still parsed: a malformed one fails the layer there too.
        parsePax(body);
        this.pax = new Map();
        this.longName = undefined;
        this.longLink = undefined;
      } else {
        // An empty one names nothing (Go's reader keeps the header's name then, as its users see it).
        const value = cstr(body, 0, body.length);
        if (this.metaKind === 'L') this.longName = value.length > 0 ? value : undefined;
        else this.longLink = value.length > 0 ? value : undefined;
      }
      this.metaKind = undefined;
      this.metaBody = [];
      return;
    }
    this.inEntry = false;
    if (this.sparse) {
      const sparse = this.sparse;
      this.sparse = undefined;
      sparse.end(this.sparseSink);
    }
    this.handler.end();
  }
}
