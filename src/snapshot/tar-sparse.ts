// GNU sparse files in PAX form (formats 0.0, 0.1 and 1.0, what `tar --format=posix --sparse`
// writes and Go's reader, so containerd and umoci, unpack): the entry's data is only the written
// regions; the map says where each goes, the rest are holes. 0.0 and 0.1 carry the map in PAX
// records (parsePax folds 0.0's repeated offset/numbytes pairs into GNU.sparse.map, as Go does);
// 1.0 writes it as decimal lines at the start of the data, padded to a block. The old GNU 'S' type
// is not here: Go leaves it a type of its own and containerd refuses it. Pure: no I/O.
import { BerthError } from '../lib/errors.js';

export interface SparseSink {
  data(chunk: Buffer): void;
  /** `bytes` of zeros that are not stored (the writer seeks past them). */
  hole(bytes: number): void;
}

interface Region {
  offset: number;
  length: number;
}

const BLOCK = 512;
/** The most bytes of a 1.0 map read before the data (as many regions as a 1 MiB PAX header). */
const MAX_MAP_BYTES = 1 << 20;

function corrupt(why: string): BerthError {
  return new BerthError('ERR_LAYER_CORRUPT', 'integrity', `malformed tar: sparse file ${why}`);
}

const decimal = (s: string, what: string): number => {
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(Number(s)))
    throw corrupt(`with a bad ${what} "${s.slice(0, 40)}"`);
  return Number(s);
};

type Format = '0.x' | '1.0';

/**
 * The sparse format PAX records give the entry, as Go's reader decides it (undefined: not a sparse
 * file, its GNU.sparse records ignored): the version records 0.0, 0.1 or 1.0, or with none of them
 * a non-empty map. A version Go does not know it reads as a plain file of the stored bytes, a tree
 * no other reader would make: refused.
 */
export function sparseFormat(pax: Map<string, Buffer>): Format | undefined {
  // An empty record is none, as everywhere in Go's reader.
  const major = pax.get('GNU.sparse.major')?.toString('latin1') || undefined;
  const minor = pax.get('GNU.sparse.minor')?.toString('latin1') || undefined;
  if (major === '0' && (minor === '0' || minor === '1')) return '0.x';
  if (major === '1' && minor === '0') return '1.0';
  if (major !== undefined || minor !== undefined)
    throw corrupt(
      `format ${(major ?? '?').slice(0, 20)}.${(minor ?? '?').slice(0, 20)}, which no reader knows`,
    );
  return pax.get('GNU.sparse.map')?.length ? '0.x' : undefined;
}

/** The real name and size of a sparse entry (undefined: keep the header's), GNU.sparse.size first as in Go. */
export function sparseIdentity(pax: Map<string, Buffer>): { name?: Buffer; size: number } {
  const given = (k: string) => (pax.get(k)?.length ? pax.get(k) : undefined);
  const real = given('GNU.sparse.size') ?? given('GNU.sparse.realsize');
  if (real === undefined) throw corrupt('without its real size (GNU.sparse.size / realsize)');
  const name = given('GNU.sparse.name');
  return { ...(name ? { name } : {}), size: decimal(real.toString('latin1'), 'real size') };
}

function regionsOf(numbers: number[]): Region[] {
  if (numbers.length % 2 !== 0) throw corrupt('map with an odd count of numbers');
  const out: Region[] = [];
  for (let i = 0; i < numbers.length; i += 2)
    out.push({ offset: numbers[i] as number, length: numbers[i + 1] as number });
  return out;
}

/** Feeds a sparse entry's stored bytes to a sink as data and holes, checking the map as it goes. */
export class SparseEntry {
  private regions: Region[] | undefined;
  /** A 1.0 map being read: its bytes so far, the line being read, its count and numbers. */
  private mapBytes = 0;
  private mapLine = '';
  private mapCount: number | undefined;
  private mapNumbers: number[] = [];
  /** Bytes of padding after a 1.0 map still to skip. */
  private skip = 0;
  private region = 0;
  private inRegion = 0;
  private cursor = 0;

  constructor(
    pax: Map<string, Buffer>,
    format: Format,
    private readonly realSize: number,
  ) {
    if (format === '1.0') return; // the map comes with the data
    const map = pax.get('GNU.sparse.map')?.toString('latin1') ?? '';
    const numbers = map === '' ? [] : map.split(',').map((n) => decimal(n, 'map entry'));
    // Go's reader takes a 0.x map only with its count (GNU.sparse.numblocks) and refuses a mismatch.
    const count = pax.get('GNU.sparse.numblocks')?.toString('latin1');
    if (count === undefined || decimal(count, 'region count') * 2 !== numbers.length)
      throw corrupt('map whose region count (GNU.sparse.numblocks) is missing or wrong');
    this.setRegions(numbers);
  }

  private setRegions(numbers: number[]): void {
    const regions = regionsOf(numbers);
    let end = 0;
    for (const r of regions) {
      if (r.offset < end || r.offset + r.length > this.realSize)
        throw corrupt('map out of order or past its size');
      end = r.offset + r.length;
    }
    this.regions = regions;
  }

  /**
   * Reads the 1.0 map's lines as they come, each byte once (a map arriving in small pieces must
   * not be joined and split again per piece); returns the bytes of `chunk` it used.
   */
  private readMap(chunk: Buffer): number {
    let at = 0;
    while (at < chunk.length) {
      const nl = chunk.indexOf(0x0a, at);
      const stop = nl === -1 ? chunk.length : nl;
      this.mapBytes += stop - at + (nl === -1 ? 0 : 1);
      if (this.mapBytes > MAX_MAP_BYTES) throw corrupt(`map over ${MAX_MAP_BYTES} bytes`);
      this.mapLine += chunk.toString('latin1', at, stop);
      if (nl === -1) return chunk.length;
      at = nl + 1;
      const line = this.mapLine;
      this.mapLine = '';
      if (this.mapCount === undefined) this.mapCount = decimal(line, 'map size');
      else this.mapNumbers.push(decimal(line, 'map entry'));
      if (this.mapNumbers.length === 2 * this.mapCount) {
        this.setRegions(this.mapNumbers);
        this.mapNumbers = [];
        this.skip = (BLOCK - (this.mapBytes % BLOCK)) % BLOCK;
        return at;
      }
    }
    return at;
  }

  data(chunk: Buffer, sink: SparseSink): void {
    let buf = chunk;
    if (!this.regions) {
      const used = this.readMap(buf);
      buf = buf.subarray(used);
    }
    if (this.skip > 0) {
      const n = Math.min(this.skip, buf.length);
      this.skip -= n;
      buf = buf.subarray(n);
    }
    const regions = this.regions;
    while (buf.length > 0 && regions) {
      const r = regions[this.region];
      if (!r) throw corrupt('with more data than its map');
      if (this.inRegion === 0 && r.offset > this.cursor) {
        sink.hole(r.offset - this.cursor);
        this.cursor = r.offset;
      }
      const n = Math.min(r.length - this.inRegion, buf.length);
      if (n > 0) sink.data(buf.subarray(0, n));
      this.inRegion += n;
      this.cursor += n;
      buf = buf.subarray(n);
      if (this.inRegion === r.length) {
        this.region++;
        this.inRegion = 0;
      }
    }
  }

  /** The stored data ended: it must have filled the map; the rest up to the real size is a hole. */
  end(sink: SparseSink): void {
    const regions = this.regions;
    if (!regions || this.skip > 0) throw corrupt('cut inside its map');
    // Regions of length 0 (GNU tar ends a map with one) hold nothing.
    while (regions[this.region]?.length === 0) this.region++;
    if (this.region < regions.length) throw corrupt('with less data than its map');
    if (this.cursor < this.realSize) sink.hole(this.realSize - this.cursor);
    this.cursor = this.realSize;
  }
}
