// Following a container's log as bytes: a read that ends inside a UTF-8 character (conmon's write
// seen half done) carries the bytes, not a U+FFFD, into the next; a long line of many parts is
// joined once.
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rotatedLogName } from '../../src/runtime/log-files.js';
import { parseCriLog } from '../../src/runtime/log-format.js';
import { readLogHistory } from '../../src/runtime/log-read.js';

describe('reading a CRI log as bytes', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-log-bytes-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a follow read that ends inside a character gives the character whole at the next read', async () => {
    const log = join(dir, 'container.log');
    const line = Buffer.from('2026-12-05T00:00:00.000000000Z stdout F naïve ☃\n');
    const cut = line.indexOf(Buffer.from('☃')) + 1; // one byte of three
    writeFileSync(log, line.subarray(0, cut));
    const { lines, cursor } = await readLogHistory(log, undefined);
    try {
      expect(lines).toEqual([]);
      appendFileSync(log, line.subarray(cut));
      expect((await cursor.drain()).map((l) => l.text)).toEqual(['naïve ☃']);
    } finally {
      await cursor.close();
    }
  });

  it('a line a rotation cut (its first part in the older file) is whole in the history', async () => {
    const log = join(dir, 'container.log');
    writeFileSync(rotatedLogName(log, 1), 't1 stdout F before\nt2 stdout P first half, \n');
    writeFileSync(log, 't3 stdout F second half\nt4 stdout F after\n');
    const { lines, cursor } = await readLogHistory(log, undefined);
    await cursor.close();
    expect(lines.map((l) => l.text)).toEqual(['before', 'first half, second half', 'after']);
  });

  it('joins a long line of many parts once, every byte in place', () => {
    const part = 'é'.repeat(4096); // 8 KiB, conmon's record size
    const records = Array.from({ length: 2048 }, (_, i) => `t${i} stdout P ${part}\n`).join('');
    const r = parseCriLog(Buffer.from(`${records}tz stdout F end\n`));
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]?.text.length).toBe(2048 * 4096 + 3);
    expect(r.lines[0]?.text.endsWith(`${'é'.repeat(3)}end`)).toBe(true);
  });
});
