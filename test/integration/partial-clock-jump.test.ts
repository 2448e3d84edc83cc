// Parked partial downloads across wall-clock jumps (an edge node without an RTC boots at 1970, NTP
// then moves the clock by years): a partial is aged by the boot clock, never by an mtime the jump
// made absurd. Real files in a temp store; the wall clock and the boot clock are injected.
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createContentStore } from '../../src/content/index.js';
import { type BootStamp, readBootStamp } from '../../src/lib/boot-clock.js';
import { digestHex, sha256Of } from '../../src/oci/digest.js';
import { MediaType } from '../../src/oci/media-types.js';

const HOUR = 3600_000;
let root: string;
let boot: BootStamp;
let clock: { now: number; boot: BootStamp };

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'berth-partial-clock-'));
  boot = readBootStamp();
  clock = { now: Date.now(), boot };
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const store = () => createContentStore({ root, now: () => new Date(clock.now), bootClock: () => clock.boot });
const later = (ms: number) => {
  clock = { now: clock.now + ms, boot: { ...clock.boot, uptimeMs: clock.boot.uptimeMs + ms } };
};
const listIngest = async () => (await readdir(join(root, 'ingest'))).filter((n) => n !== 'leases').sort();

/** A partial of a random blob, its mtime `mtimeMs`; written by hand (no stamp) or parked by a writer. */
async function partial(mtimeMs: number, how: 'by hand' | 'parked'): Promise<string> {
  const bytes = Buffer.from(`partial ${Math.random()} ${'x'.repeat(1000)}`);
  const desc = { mediaType: MediaType.ociLayerGzip, digest: sha256Of(bytes), size: bytes.length };
  const name = `sha256-${digestHex(desc.digest)}.partial`;
  const file = join(root, 'ingest', name);
  if (how === 'parked') {
    const w = await store().openIngest(desc);
    await w.write(bytes.subarray(0, 500));
    await w.abort(true);
  } else {
    await mkdir(join(root, 'ingest'), { recursive: true });
    await writeFile(file, bytes.subarray(0, 500));
  }
  await utimes(file, mtimeMs / 1000, mtimeMs / 1000);
  return name;
}

describe('parked partials across wall-clock jumps', () => {
  it('keeps a partial parked while the clock said 1970 when NTP then fixes the clock, and ages it by the boot clock', async () => {
    const name = await partial(0, 'parked');
    await store().cleanIngest();
    expect(await listIngest()).toContain(name);
    later(23 * HOUR);
    await store().cleanIngest();
    expect(await listIngest()).toContain(name);
    later(2 * HOUR);
    await store().cleanIngest();
    expect(await listIngest()).toEqual([]);
  });

  it('ages a partial with a future mtime from the first time this boot saw it: it expires', async () => {
    const name = await partial(clock.now + 10 * 365 * 24 * HOUR, 'by hand');
    await store().cleanIngest();
    expect(await listIngest()).toContain(name);
    later(23 * HOUR);
    await store().cleanIngest();
    expect(await listIngest()).toContain(name);
    later(2 * HOUR);
    await store().cleanIngest();
    expect(await listIngest()).toEqual([]);
  });

  it('gives a partial from a 1970 mtime and no stamp (another boot) a day from first sight', async () => {
    const name = await partial(0, 'by hand');
    await store().cleanIngest();
    expect(await listIngest()).toContain(name);
    later(25 * HOUR);
    await store().cleanIngest();
    expect(await listIngest()).toEqual([]);
  });

  it('after a reboot, removes a partial whose plausible mtime says two days old, keeps one an hour old', async () => {
    const old = await partial(clock.now - 48 * HOUR, 'parked');
    const fresh = await partial(clock.now - HOUR, 'parked');
    clock = { now: clock.now, boot: { boot: `${boot.boot}-next`, uptimeMs: 60_000 } };
    await store().cleanIngest();
    const left = await listIngest();
    expect(left).not.toContain(old);
    expect(left).toContain(fresh);
  });

  it('a partial resumed by a live writer is not a partial: the writer resumes it and its stamp goes', async () => {
    const name = await partial(0, 'parked');
    const digest = `sha256:${name.split('-')[1]?.split('.')[0]}`;
    later(48 * HOUR);
    const w = await store().openIngest({
      mediaType: MediaType.ociLayerGzip,
      digest: digest as never,
      size: 2000,
    });
    expect(w.offset).toBe(500);
    await store().cleanIngest();
    expect((await listIngest()).filter((n) => n.endsWith('.partial') || n.endsWith('.stamp'))).toEqual([]);
    expect((await listIngest()).some((n) => n.endsWith('.active'))).toBe(true);
    await w.abort(false);
  });

  it('a torn stamp is no stamp (the partial is aged from first sight); a stamp whose partial is gone is removed', async () => {
    const name = await partial(0, 'parked');
    await writeFile(join(root, 'ingest', `${name}.stamp`), '{"boot":');
    await writeFile(join(root, 'ingest', `sha256-${'0'.repeat(64)}.partial.stamp`), '{}');
    await store().cleanIngest();
    expect(await listIngest()).toEqual([name, `${name}.stamp`]);
    later(25 * HOUR);
    await store().cleanIngest();
    expect(await listIngest()).toEqual([]);
  });
});
