// The event ring on a real file system: bounded, kept across reopenings (a daemon restart),
// shared by two writers, and unbreakable by what it finds on disk (torn lines, garbage, a huge
// file, a symlink planted in its place, a directory it cannot write).
import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openEventRing } from '../../src/events/ring.js';

describe('event ring', () => {
  let dir: string;
  let clock = Date.parse('2026-11-30T12:00:00Z');
  const now = () => clock++;
  beforeEach(async () => {
    dir = join(await mkdtemp(join(tmpdir(), 'berth-events-')), 'events');
  });
  afterEach(async () => {
    await rm(join(dir, '..'), { recursive: true, force: true });
  });
  const sizes = () =>
    ['current.ndjson', 'previous.ndjson'].reduce(
      (n, f) => n + (existsSync(join(dir, f)) ? statSync(join(dir, f)).size : 0),
      0,
    );

  it('keeps the newest events within its size, across reopenings', () => {
    const maxBytes = 65_536;
    const ring = openEventRing({ dir, maxBytes, now });
    for (let i = 0; i < 3000; i++)
      ring.emit({ type: 'pod', object: `pod-${i}`, reason: 'Started', message: 'x'.repeat(40) });
    expect(sizes()).toBeLessThanOrEqual(maxBytes);
    const kept = ring.read();
    expect(kept.length).toBeGreaterThan(200);
    expect(kept.at(-1)?.object).toBe('pod-2999');
    // Oldest first, no gaps: what is kept is a suffix of what was emitted.
    const first = Number(kept[0]?.object.slice(4));
    expect(kept.map((e) => e.object)).toEqual(
      Array.from({ length: 3000 - first }, (_, i) => `pod-${first + i}`),
    );
    const again = openEventRing({ dir, maxBytes, now });
    expect(again.read()).toEqual(kept);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'current.ndjson')).mode & 0o777).toBe(0o600);
  });

  it('two writers (the daemon and a CLI command) share it', () => {
    const a = openEventRing({ dir, maxBytes: 65_536, now });
    const b = openEventRing({ dir, maxBytes: 65_536, now });
    for (let i = 0; i < 1000; i++)
      (i % 2 ? a : b).emit({ type: 'image', object: `i-${i}`, reason: 'Pulled' });
    expect(sizes()).toBeLessThanOrEqual(65_536);
    const objects = a.read().map((e) => e.object);
    expect(objects.at(-1)).toBe('i-999');
    const first = Number(objects[0]?.slice(2));
    expect(objects).toEqual(Array.from({ length: 1000 - first }, (_, i) => `i-${first + i}`));
  });

  it('skips torn lines and garbage, reads a huge file only as far as its size', () => {
    const ring = openEventRing({ dir, maxBytes: 65_536, now });
    ring.emit({ type: 'pod', object: 'before', reason: 'Started' });
    appendFileSync(
      join(dir, 'current.ndjson'),
      '{"time":"2026-11-30T12:00:00Z","type":"pod","obj\n\u0000\u0001 not json\n[1,2]\n{"time":5}\n',
    );
    ring.emit({ type: 'pod', object: 'after', reason: 'Started' });
    expect(ring.read().map((e) => e.object)).toEqual(['before', 'after']);
    // 50 MB of one line, written by something else: read in bounded memory, then rotated away.
    writeFileSync(join(dir, 'previous.ndjson'), Buffer.alloc(50 * 2 ** 20, 'a'));
    expect(ring.read().map((e) => e.object)).toEqual(['before', 'after']);
  });

  it('an event too long for a line is cut, never split', () => {
    const ring = openEventRing({ dir, maxBytes: 65_536, now });
    ring.emit({
      type: 'pod',
      object: 'web',
      reason: 'Started',
      message: `${'m'.repeat(100_000)}\nfake`,
      attributes: { big: 'b'.repeat(100_000) },
    });
    const lines = readFileSync(join(dir, 'current.ndjson'), 'utf8').split('\n');
    expect(lines.length).toBe(2);
    expect(Buffer.byteLength(lines[0] ?? '')).toBeLessThanOrEqual(4096);
    expect(ring.read()).toEqual([
      {
        time: new Date(clock - 1).toISOString(),
        type: 'pod',
        object: 'web',
        reason: 'Started',
        message: 'm'.repeat(1024),
      },
    ]);
  });

  it('a symlink planted as its file is not followed; an unwritable ring drops events and never throws', () => {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const target = join(dir, '..', 'target');
    writeFileSync(target, 'precious\n');
    symlinkSync(target, join(dir, 'current.ndjson'));
    const ring = openEventRing({ dir, maxBytes: 65_536, now });
    expect(() => ring.emit({ type: 'pod', object: 'web', reason: 'Started' })).not.toThrow();
    expect(readFileSync(target, 'utf8')).toBe('precious\n');
    expect(ring.dropped()).toBe(1);
    expect(ring.read()).toEqual([]);
    // A file where the directory should be.
    const blocked = join(dir, '..', 'blocked');
    writeFileSync(blocked, '');
    const broken = openEventRing({ dir: join(blocked, 'events'), maxBytes: 65_536, now });
    const seen: string[] = [];
    broken.subscribe((e) => seen.push(e.object));
    broken.emit({ type: 'pod', object: 'still-streamed', reason: 'Started' });
    expect([broken.dropped(), broken.emitted(), seen]).toEqual([1, 0, ['still-streamed']]);
    chmodSync(blocked, 0o600);
  });
});
