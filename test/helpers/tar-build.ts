// Builds tar archives byte by byte for hostile-archive tests: any name, type, link target, and a
// declared size that may lie about the data that follows.
export interface RawTarEntry {
  name: string;
  data?: Buffer | string;
  /** '0' file (default), '1' hard link, '2' symlink, '5' directory. */
  type?: '0' | '1' | '2' | '5';
  linkname?: string;
  /** The size written in the header, when it should differ from the data's. */
  declaredSize?: number;
}

function header(e: RawTarEntry, size: number): Buffer {
  const h = Buffer.alloc(512);
  const oct = (v: number, w: number) => v.toString(8).padStart(w - 1, '0');
  h.write(e.name, 0, 100, 'utf8');
  h.write(oct(0o644, 8), 100);
  h.write(oct(0, 8), 108);
  h.write(oct(0, 8), 116);
  h.write(oct(size, 12), 124);
  h.write(oct(0, 12), 136);
  h.write('        ', 148);
  h.write(e.type ?? '0', 156);
  h.write(e.linkname ?? '', 157, 100, 'utf8');
  h.write('ustar\0', 257, 'latin1');
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${oct(sum, 7)}\0`, 148, 'latin1');
  return h;
}

export function buildTar(entries: RawTarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '');
    parts.push(
      header(e, e.declaredSize ?? data.length),
      data,
      Buffer.alloc((512 - (data.length % 512)) % 512),
    );
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}
