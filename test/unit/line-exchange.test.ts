// The thin `container run` reads its daemon's chunked NDJSON answer as it arrives: a chunk cut
// anywhere (its size line, its data, its CRLF) waits for the rest, and the last chunk ends it.
import { describe, expect, it } from 'vitest';
import { chunkReader } from '../../src/api/line-exchange.js';

const chunked = (...parts: string[]) =>
  `${parts.map((p) => `${Buffer.byteLength(p).toString(16)}\r\n${p}\r\n`).join('')}0\r\n\r\n`;

describe('chunkReader', () => {
  it('gives the same data whatever the cuts between the bytes that arrive', () => {
    const wire = Buffer.from(chunked('{"out":"a\\n"}\n', '{"err":"é"}\n', '{"exit":3}\n'));
    const whole = '{"out":"a\\n"}\n{"err":"é"}\n{"exit":3}\n';
    for (let cut = 1; cut < wire.length; cut++) {
      const r = chunkReader();
      const a = r.push(wire.subarray(0, cut));
      const b = r.push(wire.subarray(cut));
      expect(Buffer.concat([a.data, b.data]).toString('utf8')).toBe(whole);
      expect([a.bad, b.bad, b.ended]).toEqual([false, false, true]);
    }
  });

  it('byte by byte too, and ends at the last chunk', () => {
    const wire = Buffer.from(chunked('x'.repeat(300), 'yz'));
    const r = chunkReader();
    let data = '';
    let ended = false;
    for (const byte of wire) {
      const got = r.push(Buffer.from([byte]));
      data += got.data.toString('latin1');
      ended = got.ended;
    }
    expect([data, ended]).toEqual([`${'x'.repeat(300)}yz`, true]);
  });

  it('says a size line that is not hex', () => {
    expect(chunkReader().push(Buffer.from('zz\r\nabc\r\n')).bad).toBe(true);
  });
});
