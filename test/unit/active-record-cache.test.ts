// A pod's active.json read through the daemon's file cache (observe reads it for every pod on every
// pass): missing, written, rewritten in place within one clock tick, damaged or a directory, each
// read as the file is now.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileCache } from '../../src/lib/file-cache.js';
import { readActiveRecordSync } from '../../src/reconcile/active-record.js';

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'berth-active-'));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

const file = () => join(home, 'active.json');
const text = (since: number, manifest: string) => `${JSON.stringify({ since, manifest })}\n`;

describe('active.json through the file cache', () => {
  it('reads what is there now, each time', async () => {
    const cache = createFileCache();
    expect(readActiveRecordSync(home, cache)).toBeUndefined();
    await writeFile(file(), text(1000, 'sha256:aa'));
    expect(readActiveRecordSync(home, cache)).toEqual({ since: 1000, manifest: 'sha256:aa' });
    const before = await stat(file());
    await writeFile(file(), text(2000, 'sha256:bb')); // same size, in place
    await utimes(file(), before.atime, before.mtime);
    expect(readActiveRecordSync(home, cache)).toEqual({ since: 2000, manifest: 'sha256:bb' });
    await writeFile(file(), '{"since": 3000, "mani');
    expect(readActiveRecordSync(home, cache)).toBeUndefined();
    await writeFile(file(), '{"since": "soon", "manifest": "sha256:cc"}\n');
    expect(readActiveRecordSync(home, cache)).toBeUndefined();
    await rm(file());
    expect(readActiveRecordSync(home, cache)).toBeUndefined();
    await mkdir(file());
    expect(readActiveRecordSync(home, cache)).toBeUndefined();
    expect(readActiveRecordSync(home)).toBeUndefined();
  });

  it('a FIFO planted at active.json is never opened: no record, and the read returns (cached or not)', () => {
    execFileSync('mkfifo', [file()]);
    expect(readActiveRecordSync(home, createFileCache())).toBeUndefined();
    expect(readActiveRecordSync(home)).toBeUndefined();
  });
});
