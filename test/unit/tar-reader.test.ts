import { describe, expect, it } from 'vitest';
import { isBerthError } from '../../src/lib/errors.js';
import { parsePax } from '../../src/snapshot/tar-pax.js';
import { type TarEntry, TarReader } from '../../src/snapshot/tar-reader.js';

/** A ustar header block, written by hand (hostile cases need control of every byte). */
function header(fields: {
  name: string | Buffer;
  type?: string;
  size?: number;
  mode?: number;
  linkname?: string;
  /** The 12 bytes of the mtime field as they are (a base-256 number). */
  mtimeField?: Buffer;
}): Buffer {
  const h = Buffer.alloc(512);
  Buffer.from(fields.name).copy(h, 0, 0, 100);
  h.write(`${(fields.mode ?? 0o644).toString(8).padStart(7, '0')}\0`, 100, 'latin1');
  h.write('0000000\0', 108, 'latin1');
  h.write('0000000\0', 116, 'latin1');
  h.write(`${(fields.size ?? 0).toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  if (fields.mtimeField) fields.mtimeField.copy(h, 136, 0, 12);
  else h.write('14712345670\0', 136, 'latin1');
  h.write(fields.type ?? '0', 156, 'latin1');
  if (fields.linkname) h.write(fields.linkname, 157, 'latin1');
  h.write('ustar\0' + '00', 257, 'latin1');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);
const END = Buffer.alloc(1024);

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

function read(stream: Buffer, chunkSize = stream.length) {
  const entries: Array<TarEntry & { data: string }> = [];
  const reader = new TarReader({
    entry: (e) => entries.push({ ...e, data: '' }),
    data: (c) => {
      const last = entries[entries.length - 1] as { data: string };
      last.data += c.toString('latin1');
    },
    hole: (n) => {
      const last = entries[entries.length - 1] as { data: string };
      last.data += '\0'.repeat(n);
    },
    end: () => undefined,
  });
  for (let i = 0; i < stream.length; i += chunkSize) reader.push(stream.subarray(i, i + chunkSize));
  reader.close();
  return entries;
}

/** `h` with bytes written over some fields (offset, bytes), its checksum made right again. */
function withFields(h: Buffer, fields: Array<[number, Buffer]>): Buffer {
  const out = Buffer.from(h);
  for (const [off, bytes] of fields) bytes.copy(out, off);
  out.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of out) sum += b;
  out.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return out;
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return isBerthError(err) ? `${err.code}: ${err.message}` : String(err);
  }
  return 'no error';
}

describe('TarReader', () => {
  const archive = Buffer.concat([
    header({ name: 'dir/', type: '5', mode: 0o755 }),
    header({ name: 'dir/file', size: 5 }),
    pad(Buffer.from('hello')),
    header({ name: 'dir/link', type: '2', linkname: '../x' }),
    END,
  ]);

  it.each([1, 7, 512, 513, 100_000])('reads the same entries whatever the chunk size (%i)', (size) => {
    const entries = read(archive, size);
    expect(entries.map((e) => [e.name.toString(), e.type, e.size, e.data, e.linkname.toString()])).toEqual([
      ['dir/', 'directory', 0, '', ''],
      ['dir/file', 'file', 5, 'hello', ''],
      ['dir/link', 'symlink', 0, '', '../x'],
    ]);
    expect(entries[1]?.mtime.getTime()).toBe(0o14712345670 * 1000);
  });

  it('keeps names as raw bytes, also inside PAX records, and reads xattrs', () => {
    const name = Buffer.from([0x6c, 0x61, 0x74, 0xe9, 0xff]);
    const pax = Buffer.concat([
      paxRecord('path', name),
      paxRecord('SCHILY.xattr.user.k', Buffer.from([0, 1, 2])),
    ]);
    const stream = Buffer.concat([
      header({ name: 'PaxHeader', type: 'x', size: pax.length }),
      pad(pax),
      header({ name: 'short' }),
      END,
    ]);
    const [e] = read(stream);
    expect(e?.name.equals(name)).toBe(true);
    expect(e?.xattrs).toEqual([['user.k', Buffer.from([0, 1, 2])]]);
  });

  it('takes a time no clock holds (PAX digits or base-256 past ±2^63 ns) as the epoch, as containerd bounds it; keeps the rest', () => {
    const withMtime = (value: string) => {
      const pax = paxRecord('mtime', Buffer.from(value));
      return Buffer.concat([
        header({ name: 'P', type: 'x', size: pax.length }),
        pad(pax),
        header({ name: 'f' }),
        END,
      ]);
    };
    const at = (stream: Buffer) => read(stream)[0]?.mtime.getTime();
    // It was an Invalid Date (the unpack then failed setting it) for all but the last two.
    for (const v of ['100000000000000000000', '-100000000000000000000', `9${'0'.repeat(400)}`, '9223372037'])
      expect([v.slice(0, 24), at(withMtime(v))]).toEqual([v.slice(0, 24), 0]);
    expect(at(withMtime('9223372036'))).toBe(9_223_372_036_000);
    expect(at(withMtime('-9223372035.5'))).toBe(-9_223_372_035_500);
    const huge = Buffer.alloc(12, 0);
    huge[0] = 0x80; // base-256: 2^88, past any number of seconds a clock counts
    huge[1] = 0x01;
    const hugeNegative = Buffer.alloc(12, 0xff);
    hugeNegative[1] = 0x00; // two's complement, about -2^88
    expect(at(Buffer.concat([header({ name: 'h', mtimeField: huge }), END]))).toBe(0);
    expect(at(Buffer.concat([header({ name: 'h', mtimeField: hugeNegative }), END]))).toBe(0);
  });

  it("reads what Go's tar reads: a negative base-256 time, a V7 directory; refuses bad PAX numbers and old GNU sparse entries", () => {
    const negative = Buffer.alloc(12, 0xff); // two's complement of -86400 (a day before 1970)
    negative.writeBigInt64BE(-86400n, 4);
    const v7 = header({ name: 'v7dir/', type: '\0' });
    const [day, dir] = read(Buffer.concat([header({ name: 'old', mtimeField: negative }), v7, END]));
    expect(day?.mtime.getTime()).toBe(-86400 * 1000);
    // A negative size (twelve 0xff bytes: -1) would read the next header a byte off: refused.
    const minusOne = header({ name: 'neg', size: 0 });
    minusOne.fill(0xff, 124, 136);
    minusOne.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of minusOne) sum += b;
    minusOne.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    expect(errorOf(() => read(Buffer.concat([minusOne, END])))).toBe(
      'ERR_LAYER_CORRUPT: malformed tar: a negative number where none may be',
    );
    expect([dir?.name.toString(), dir?.type]).toEqual(['v7dir/', 'directory']);
    const withPax = (key: string, value: string, type = '0') => {
      const pax = paxRecord(key, Buffer.from(value));
      return Buffer.concat([
        header({ name: 'P', type: 'x', size: pax.length }),
        pad(pax),
        header({ name: 'f', type }),
        END,
      ]);
    };
    expect(errorOf(() => read(withPax('uid', 'abc')))).toBe(
      'ERR_LAYER_CORRUPT: malformed tar: bad PAX uid "abc"',
    );
    expect(errorOf(() => read(withPax('size', '-5')))).toBe(
      'ERR_LAYER_CORRUPT: malformed tar: bad PAX size "-5"',
    );
    expect(errorOf(() => read(withPax('mtime', '1e400')))).toBe(
      'ERR_LAYER_CORRUPT: malformed tar: bad PAX mtime "1e400"',
    );
    expect(read(withPax('mtime', '-1.5'))[0]?.mtime.getTime()).toBe(-1500);
    expect(errorOf(() => read(withPax('GNU.sparse.map', '0,1')))).toBe(
      'ERR_LAYER_CORRUPT: malformed tar: sparse file without its real size (GNU.sparse.size / realsize)',
    );
    expect(errorOf(() => read(Buffer.concat([header({ name: 'g', type: 'S' }), END])))).toMatch(
      /^ERR_LAYER_UNSUPPORTED: sparse file g: /,
    );
  });

  describe('sparse files in PAX form, as Go reads them (GNU tar --format=posix --sparse)', () => {
    // A 20-byte file: "ab" at 4, "cde" at 12, a hole to the end.
    const want = '\0\0\0\0ab\0\0\0\0\0\0cde\0\0\0\0\0';
    const sparseEntry = (records: Array<[string, string]>, stored: string) => {
      const pax = Buffer.concat(records.map(([k, v]) => paxRecord(k, Buffer.from(v))));
      return Buffer.concat([
        header({ name: 'P', type: 'x', size: pax.length }),
        pad(pax),
        header({ name: 'GNUSparseFile.0/f', size: stored.length }),
        pad(Buffer.from(stored)),
        END,
      ]);
    };
    it.each([
      [
        '0.0',
        [
          ['GNU.sparse.size', '20'],
          ['GNU.sparse.numblocks', '2'],
          ['GNU.sparse.offset', '4'],
          ['GNU.sparse.numbytes', '2'],
          ['GNU.sparse.offset', '12'],
          ['GNU.sparse.numbytes', '3'],
          ['path', 'f'],
        ],
        'abcde',
      ],
      [
        '0.1',
        [
          ['GNU.sparse.size', '20'],
          ['GNU.sparse.numblocks', '2'],
          ['GNU.sparse.map', '4,2,12,3'],
          ['GNU.sparse.name', 'f'],
        ],
        'abcde',
      ],
      [
        '1.0',
        [
          ['GNU.sparse.major', '1'],
          ['GNU.sparse.minor', '0'],
          ['GNU.sparse.name', 'f'],
          ['GNU.sparse.realsize', '20'],
        ],
        `${'2\n4\n2\n12\n3\n'.padEnd(512, '\0')}abcde`,
      ],
    ] as Array<[string, Array<[string, string]>, string]>)(
      '%s: its real name, size and bytes',
      (_v, records, stored) => {
        for (const chunk of [1, 7, 512, 100_000]) {
          const [e] = read(sparseEntry(records, stored), chunk);
          expect([e?.name.toString(), e?.size, e?.data]).toEqual(['f', 20, want]);
        }
      },
    );
    it.each([
      [
        'a map past the real size',
        [
          ['GNU.sparse.size', '10'],
          ['GNU.sparse.numblocks', '2'],
          ['GNU.sparse.map', '4,2,12,3'],
        ],
        'abcde',
        'map out of order or past its size',
      ],
      [
        'regions out of order',
        [
          ['GNU.sparse.size', '20'],
          ['GNU.sparse.numblocks', '2'],
          ['GNU.sparse.map', '12,3,4,2'],
        ],
        'abcde',
        'map out of order or past its size',
      ],
      [
        'more data than the map',
        [
          ['GNU.sparse.size', '20'],
          ['GNU.sparse.numblocks', '1'],
          ['GNU.sparse.map', '4,2'],
        ],
        'abcde',
        'with more data than its map',
      ],
      [
        'less data than the map',
        [
          ['GNU.sparse.size', '20'],
          ['GNU.sparse.numblocks', '2'],
          ['GNU.sparse.map', '4,2,12,3'],
        ],
        'abc',
        'with less data than its map',
      ],
      [
        'a map that is no numbers',
        [
          ['GNU.sparse.size', '20'],
          ['GNU.sparse.numblocks', '1'],
          ['GNU.sparse.map', '4,x'],
        ],
        'abcde',
        'with a bad map entry "x"',
      ],
      [
        'a 0.1 map without its count',
        [
          ['GNU.sparse.size', '20'],
          ['GNU.sparse.map', '4,2,12,3'],
        ],
        'abcde',
        'map whose region count (GNU.sparse.numblocks) is missing or wrong',
      ],
      [
        'an unknown format',
        [
          ['GNU.sparse.major', '2'],
          ['GNU.sparse.realsize', '20'],
        ],
        'abcde',
        'format 2.?, which no reader knows',
      ],
    ] as Array<[string, Array<[string, string]>, string, string]>)(
      '%s is ERR_LAYER_CORRUPT',
      (_n, records, stored, why) => {
        expect(errorOf(() => read(sparseEntry(records, stored)))).toBe(
          `ERR_LAYER_CORRUPT: malformed tar: sparse file ${why}`,
        );
      },
    );
    it("is a sparse file exactly when Go's reader takes it for one, with Go's size", () => {
      const map: Array<[string, string]> = [
        ['GNU.sparse.numblocks', '2'],
        ['GNU.sparse.map', '4,2,12,3'],
        ['GNU.sparse.name', 'f'],
      ];
      // GNU.sparse.size first, then realsize: the two readers must not make files of two sizes.
      const [both] = read(
        sparseEntry([['GNU.sparse.size', '20'], ['GNU.sparse.realsize', '30'], ...map], 'abcde'),
      );
      expect([both?.name.toString(), both?.size, both?.data]).toEqual(['f', 20, want]);
      // No version and no map: not a sparse file for Go; its records are ignored, its bytes are its data.
      const [plain] = read(
        sparseEntry(
          [
            ['GNU.sparse.size', '20'],
            ['GNU.sparse.numblocks', '0'],
            ['GNU.sparse.map', ''],
            ['GNU.sparse.name', 'f'],
          ],
          'abcde',
        ),
      );
      expect([plain?.name.toString(), plain?.size, plain?.data]).toEqual(['GNUSparseFile.0/f', 5, 'abcde']);
      // An empty version is none, as Go reads it (it was refused as a format no reader knows).
      const [noVersion] = read(
        sparseEntry(
          [
            ['GNU.sparse.major', ''],
            ['GNU.sparse.minor', ''],
          ],
          'abcde',
        ),
      );
      expect([noVersion?.name.toString(), noVersion?.size]).toEqual(['GNUSparseFile.0/f', 5]);
    });
    it.each([
      ['0', '2'],
      ['0', undefined],
      ['1', undefined],
      ['1', '1'],
      [undefined, '0'],
    ])(
      'a version %s.%s, none of 0.0, 0.1 and 1.0, is ERR_LAYER_CORRUPT, never read as one of them',
      (major, minor) => {
        const records: Array<[string, string]> = [
          ['GNU.sparse.size', '20'],
          ['GNU.sparse.numblocks', '2'],
          ['GNU.sparse.map', '4,2,12,3'],
        ];
        if (major !== undefined) records.push(['GNU.sparse.major', major]);
        if (minor !== undefined) records.push(['GNU.sparse.minor', minor]);
        expect(errorOf(() => read(sparseEntry(records, 'abcde')))).toBe(
          `ERR_LAYER_CORRUPT: malformed tar: sparse file format ${major ?? '?'}.${minor ?? '?'}, which no reader knows`,
        );
      },
    );
    it('a link, directory or device with a sparse map is ERR_LAYER_CORRUPT; an unknown type skips what it stores', () => {
      const records = Buffer.concat(
        [
          ['GNU.sparse.size', '0'],
          ['GNU.sparse.numblocks', '0'],
          ['GNU.sparse.major', '0'],
          ['GNU.sparse.minor', '1'],
          ['GNU.sparse.name', 'f'],
        ].map(([k, v]) => paxRecord(k as string, Buffer.from(v as string))),
      );
      const withType = (type: string, stored: Buffer) =>
        Buffer.concat([
          header({ name: 'P', type: 'x', size: records.length }),
          pad(records),
          header({ name: 'x', type, size: stored.length, linkname: 'target' }),
          pad(stored),
          END,
        ]);
      for (const type of ['1', '2', '5', '3'])
        expect(errorOf(() => read(withType(type, Buffer.alloc(0))))).toBe(
          'ERR_LAYER_CORRUPT: malformed tar: sparse file of a type that holds no data',
        );
      // What an unknown type stores is passed by, as Go does: never read as entries of their own.
      const hidden = Buffer.concat([header({ name: 'hidden', size: 0 }), Buffer.alloc(512)]);
      expect(read(withType('Z', hidden)).map((e) => e.name.toString())).toEqual(['f']);
    });
    it('a 1.0 map of 100,000 regions arriving in 512-byte pieces is read in linear time', () => {
      const n = 100_000;
      const lines = [String(n)];
      for (let i = 0; i < n; i++) lines.push(String(i * 2), '1');
      const stored = `${pad(Buffer.from(`${lines.join('\n')}\n`)).toString('latin1')}${'a'.repeat(n)}`;
      const records: Array<[string, string]> = [
        ['GNU.sparse.major', '1'],
        ['GNU.sparse.minor', '0'],
        ['GNU.sparse.name', 'f'],
        ['GNU.sparse.realsize', String(2 * n)],
      ];
      const started = Date.now();
      const [e] = read(sparseEntry(records, stored), 512);
      // Was 29 s: each piece joined and split all of the map read so far.
      expect(Date.now() - started).toBeLessThan(5000);
      expect([e?.size, e?.data.slice(0, 6)]).toEqual([2 * n, 'a\0a\0a\0']);
    });
  });

  it('reads GNU long names; a global PAX header changes no entry and drops what was read before it, as in Go', () => {
    const long = 'd/'.repeat(80) + 'file';
    const g = paxRecord('uid', Buffer.from('4242'));
    const global = Buffer.concat([header({ name: 'pax_global_header', type: 'g', size: g.length }), pad(g)]);
    const x = paxRecord('path', Buffer.from('lost'));
    const stream = Buffer.concat([
      global,
      header({ name: '././@LongLink', type: 'L', size: long.length + 1 }),
      pad(Buffer.from(`${long}\0`)),
      header({ name: long.slice(0, 99) }),
      header({ name: 'PaxHeaders/x', type: 'x', size: x.length }),
      pad(x),
      header({ name: '././@LongLink', type: 'L', size: 5 }),
      pad(Buffer.from('lost\0')),
      global,
      header({ name: 'kept' }),
      END,
    ]);
    expect(read(stream).map((e) => [e.name.toString(), e.uid])).toEqual([
      [long, 0],
      ['kept', 0],
    ]);
  });

  it("an empty GNU long name or link names nothing: the header's own stays, as in Go (a `.wh.` entry is not made the root)", () => {
    const stream = Buffer.concat([
      header({ name: '././@LongLink', type: 'L', size: 1 }),
      pad(Buffer.from('\0')),
      header({ name: '.wh.secret' }),
      header({ name: '././@LongLink', type: 'K', size: 1 }),
      pad(Buffer.from('\0')),
      header({ name: 'link', type: '2', linkname: 'target' }),
      END,
    ]);
    expect(read(stream).map((e) => [e.name.toString(), e.linkname.toString()])).toEqual([
      ['.wh.secret', ''],
      ['link', 'target'],
    ]);
  });

  it('a name or link target given as a GNU long one and in PAX is the GNU one, in either order, as in Go', () => {
    const long = (type: string, v: string) =>
      Buffer.concat([
        header({ name: '././@LongLink', type, size: v.length + 1 }),
        pad(Buffer.from(`${v}\0`)),
      ]);
    const x = (k: string, v: string) => {
      const r = paxRecord(k, Buffer.from(v));
      return Buffer.concat([header({ name: 'PaxHeaders/x', type: 'x', size: r.length }), pad(r)]);
    };
    const stream = Buffer.concat([
      long('L', 'gnu-1'),
      x('path', 'pax-1'),
      header({ name: 'short-1' }),
      x('path', 'pax-2'),
      long('L', 'gnu-2'),
      header({ name: 'short-2' }),
      x('linkpath', 'pax-target'),
      long('K', 'gnu-target'),
      header({ name: 'link', type: '2', linkname: 'short' }),
      END,
    ]);
    expect(read(stream).map((e) => `${e.name} ${e.linkname}`)).toEqual([
      'gnu-1 ',
      'gnu-2 ',
      'link gnu-target',
    ]);
  });

  it('a star header (ustar magic, "tar" trailer) has a 131-byte prefix; a V7 one no device numbers, as in Go', () => {
    const star = header({ name: 'name' });
    star.write('p'.repeat(131), 345, 'latin1');
    star.write('00000000000\0' + '00000000000\0', 476, 'latin1');
    star.write('tar\0', 508, 'latin1');
    const badTimes = Buffer.from(star);
    badTimes.write('p'.repeat(9), 476, 'latin1');
    const v7 = header({ name: 'null', type: '3' });
    v7.fill(0, 257, 265);
    v7.write('garbage', 329, 'latin1');
    for (const h of [star, v7, badTimes]) {
      h.fill(0x20, 148, 156);
      let sum = 0;
      for (const b of h) sum += b;
      h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    }
    expect(read(Buffer.concat([star, v7, END])).map((e) => [e.name.toString(), e.devmajor])).toEqual([
      [`${'p'.repeat(131)}/name`, 0],
      ['null', 0],
    ]);
    expect(errorOf(() => read(Buffer.concat([badTimes, END])))).toBe(
      'ERR_LAYER_CORRUPT: malformed tar: bad number "ppppppppp00"',
    );
  });

  it.each([
    [
      'a bad checksum',
      () => {
        const h = header({ name: 'x' });
        h[0] = 0x79;
        return Buffer.concat([h, END]);
      },
      'ERR_LAYER_CORRUPT: malformed tar: header checksum mismatch',
    ],
    [
      'a stream cut inside a file',
      () => Buffer.concat([header({ name: 'x', size: 2000 }), Buffer.alloc(100)]),
      'ERR_LAYER_CORRUPT: malformed tar: unexpected end of stream',
    ],
    [
      'a stream cut inside a header',
      () => header({ name: 'x' }).subarray(0, 300),
      'ERR_LAYER_CORRUPT: malformed tar: unexpected end of stream',
    ],
  ])('%s is ERR_LAYER_CORRUPT', (_name, make, expected) => {
    expect(errorOf(() => read(make()))).toBe(expected);
  });

  // Go's reader (containerd, Docker, umoci) gives these types no data whatever size they declare:
  // the next block is the next header. Skipping it instead hid an entry that every other tool makes.
  it.each([
    ['1', 'a hardlink'],
    ['2', 'a symlink'],
    ['3', 'a char device'],
    ['4', 'a block device'],
    ['5', 'a directory'],
    ['6', 'a fifo'],
  ])('%s (%s) that declares a size carries no data: the entry after it is read, as in Go', (type) => {
    const hidden = Buffer.concat([header({ name: 'hidden', size: 6 }), pad(Buffer.from('secret'))]);
    const stream = Buffer.concat([
      header({ name: 'x', type, size: hidden.length, linkname: 'target' }),
      hidden,
      header({ name: 'after', size: 2 }),
      pad(Buffer.from('ok')),
      END,
    ]);
    expect(read(stream).map((e) => [e.name.toString(), e.data])).toEqual([
      ['x', ''],
      ['hidden', 'secret'],
      ['after', 'ok'],
    ]);
  });

  it('a number field starting with NULs is read as Go trims it: a size there keeps the stream in step', () => {
    // What a reader taking the size for 0 would read as the next header: an entry no other reader sees.
    const hidden = header({ name: 'hidden' });
    const f = withFields(header({ name: 'f' }), [
      [100, Buffer.from('\0\x000755\0')],
      [124, Buffer.from('\0\0\0\0\0\0\x001000\0')],
    ]);
    const entries = read(Buffer.concat([f, hidden, header({ name: 'after' }), END]));
    expect(entries.map((e) => [e.name.toString(), e.size, e.mode])).toEqual([
      ['f', 512, 0o755],
      ['after', 0, 0o644],
    ]);
    // Spaces and NULs around the digits, as Go trims them; anything else between them is refused.
    expect(
      read(Buffer.concat([withFields(header({ name: 's' }), [[100, Buffer.from(' \0 644\0 ')]]), END]))[0]
        ?.mode,
    ).toBe(0o644);
    expect(
      errorOf(() =>
        read(Buffer.concat([withFields(header({ name: 'b' }), [[100, Buffer.from('64 4\0')]]), END])),
      ),
    ).toBe('ERR_LAYER_CORRUPT: malformed tar: bad number "64 4"');
  });

  it("a PAX record with an empty value keeps the header's own field, as Go's mergePAX does", () => {
    const records = Buffer.concat(
      ['path', 'linkpath', 'size', 'mtime', 'uid', 'gid'].map((k) => paxRecord(k, Buffer.alloc(0))),
    );
    const x = Buffer.concat([
      header({ name: 'PaxHeaders/x', type: 'x', size: records.length }),
      pad(records),
    ]);
    const entries = read(
      Buffer.concat([
        x,
        header({ name: 'etc/kept', size: 2 }),
        pad(Buffer.from('ok')),
        x,
        header({ name: 'link', type: '2', linkname: 'target' }),
        END,
      ]),
    );
    // The first was the root (its entry dropped), the link an empty one; size= and mtime= failed.
    expect(entries.map((e) => [e.name.toString(), e.linkname.toString(), e.data, e.mtime.getTime()])).toEqual(
      [
        ['etc/kept', '', 'ok', 0o14712345670 * 1000],
        ['link', 'target', '', 0o14712345670 * 1000],
      ],
    );
  });

  it('a GNU header whose times are no numbers holds a name prefix there, as Go before 1.8 wrote it and Go reads it', () => {
    const gnu = (prefix: Buffer) =>
      withFields(header({ name: 'name' }), [
        [257, Buffer.from('ustar  \0')],
        [345, prefix],
      ]);
    const names = read(
      Buffer.concat([
        gnu(Buffer.from('usr/lib/node_modules/some/deep')),
        gnu(Buffer.from('00000000001\0' + '00000000002\0')), // real times: no prefix
        gnu(Buffer.from([0x70, 0xe9, 0x70])), // not ASCII: no prefix
        END,
      ]),
    ).map((e) => e.name.toString('latin1'));
    expect(names).toEqual(['usr/lib/node_modules/some/deep/name', 'name', 'name']);
  });

  it("an unknown type's data is skipped by its PAX size, as in Go", () => {
    const pax = paxRecord('size', Buffer.from('512'));
    const stream = Buffer.concat([
      header({ name: 'PaxHeaders/x', type: 'x', size: pax.length }),
      pad(pax),
      header({ name: 'odd', type: 'Z', size: 0 }),
      pad(Buffer.from('skipped')),
      header({ name: 'after', size: 2 }),
      pad(Buffer.from('ok')),
      END,
    ]);
    expect(read(stream).map((e) => e.name.toString())).toEqual(['odd', 'after']);
  });

  it('one zero block followed by a header is corrupt, as in Go (never a quiet end that hides the rest)', () => {
    const stream = Buffer.concat([header({ name: 'a' }), Buffer.alloc(512), header({ name: 'b' }), END]);
    expect(errorOf(() => read(stream))).toBe(
      'ERR_LAYER_CORRUPT: malformed tar: a zero block followed by a header (no end-of-archive marker)',
    );
  });

  it('ignores what follows the end-of-archive marker', () => {
    expect(read(Buffer.concat([header({ name: 'a' }), END, Buffer.from('trailing garbage')]))).toHaveLength(
      1,
    );
  });
});

describe('parsePax', () => {
  it.each(['path', 'linkpath', 'uname', 'gname'])(
    'refuses a NUL in %s, as Go does (it was an uncoded fs error)',
    (key) => {
      expect(errorOf(() => parsePax(paxRecord(key, Buffer.from('a\0b'))))).toBe(
        `ERR_LAYER_CORRUPT: malformed tar: PAX ${key} with a NUL byte`,
      );
      expect(errorOf(() => parsePax(paxRecord('comment', Buffer.from('a\0b'))))).toBe('no error');
    },
  );

  it.each([
    ['a record not ended by its newline', '6 a=bX', 'PAX record not ended by a newline'],
    ['a length in hex', '0x6 a=b\n', 'bad PAX record length'],
    ['a length as an exponent', '1e1 path=x\n', 'bad PAX record length'],
    ['a length with a tab before it', '\t6 a=b\n', 'bad PAX record length'],
    ['bytes with no space after the last record', '6 a=b\nxyz', 'bad PAX record length'],
    ['an empty key', '5 =x\n', 'PAX record with an empty key'],
    ['a key with a NUL', '8 a\0b=c\n', 'PAX key with a NUL byte'],
    ['a sparse 0.0 offset with a comma', '25 GNU.sparse.offset=1,2\n', 'PAX GNU.sparse.offset with a comma'],
  ])('refuses %s, as Go does (it was read another way)', (_label, body, why) => {
    expect(errorOf(() => parsePax(Buffer.from(body, 'latin1')))).toBe(
      `ERR_LAYER_CORRUPT: malformed tar: ${why}`,
    );
  });

  it('reads a length with a sign or leading zeros, as strconv.ParseInt does', () => {
    expect([...parsePax(Buffer.from('+7 a=b\n0009 c=d\n'))]).toEqual([
      ['a', Buffer.from('b')],
      ['c', Buffer.from('d')],
    ]);
  });

  it('rejects records whose length lies', () => {
    expect(errorOf(() => parsePax(Buffer.from('99 path=x\n')))).toBe(
      'ERR_LAYER_CORRUPT: malformed tar: bad PAX record length',
    );
  });
});

describe('metadata bodies are bounded before they are buffered', () => {
  /** Headers only: a bound that is checked before buffering fails without the body being sent. */
  const pushOnly = (stream: Buffer) => () => {
    const reader = new TarReader({
      entry: () => undefined,
      data: () => undefined,
      hole: () => undefined,
      end: () => undefined,
    });
    reader.push(stream);
  };
  it.each([
    ['x', 'PAX header', 2 ** 33],
    ['L', 'GNU long name', (1 << 20) + 1],
    ['K', 'GNU long link target', 2 ** 31],
    ['g', 'global PAX headers', 2 ** 32],
  ])('a %s body (%s) past 1 MiB is refused', (type, what, size) => {
    expect(errorOf(pushOnly(header({ name: 'h', type, size })))).toBe(
      `ERR_TAR_HEADER_TOO_LARGE: tar ${what} of ${size} bytes, above the limit of 1048576`,
    );
  });

  it('global PAX headers are not kept: many adding up past 1 MiB are read', () => {
    const body = paxRecord('comment', Buffer.alloc(600_000, 0x61));
    const g = Buffer.concat([header({ name: 'g', type: 'g', size: body.length }), pad(body)]);
    expect(read(Buffer.concat([g, g, g, header({ name: 'f' }), END])).map((e) => e.name.toString())).toEqual([
      'f',
    ]);
  });

  it('a 1 MiB long name is still read', () => {
    const long = Buffer.alloc((1 << 20) - 1, 0x61);
    const stream = Buffer.concat([
      header({ name: 'L', type: 'L', size: long.length }),
      pad(long),
      header({ name: 'short' }),
      END,
    ]);
    expect(read(stream)[0]?.name.length).toBe(long.length);
  });
});
