// fsGroup on a berth volume (runtime/volume-ownership.ts), with hostile trees: a symlink to a host
// file or directory is never followed, a hard link to a host file is skipped (the host file keeps
// its group and mode), a FIFO does not hang the walk, a tree deeper than the bound is an error, and
// OnRootMismatch leaves a matching root's tree alone.
import { execFileSync } from 'node:child_process';
import { link, lstat, mkdir, mkdtemp, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyVolumeOwnership, MAX_DEPTH } from '../../src/runtime/volume-ownership.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs([], { root: true });
const GID = 4321;
const modeGid = async (p: string) => {
  const s = await lstat(p);
  return [(s.mode & 0o7777).toString(8), s.gid];
};

describe.skipIf(skip)('fsGroup on a volume', () => {
  let work: string;
  let vol: string;
  let host: string;
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-fsgroup-'));
    vol = join(work, 'vol');
    host = join(work, 'host');
    await mkdir(join(vol, 'sub', 'deeper'), { recursive: true, mode: 0o755 });
    await mkdir(host, { mode: 0o700 });
    await writeFile(join(host, 'shadow'), 'secret', { mode: 0o600 });
    await writeFile(join(host, 'inner'), 'x', { mode: 0o600 });
  });
  afterEach(async () => {
    await removeTempRoot(work);
  });

  it('sets group, group bits and setgid on the tree; never follows a symlink or a hard link out', async () => {
    await writeFile(join(vol, 'a.txt'), 'a', { mode: 0o600 });
    await writeFile(join(vol, 'sub', 'deeper', 'b'), 'b', { mode: 0o4755 });
    await symlink(join(host, 'shadow'), join(vol, 'to-file'));
    await symlink(host, join(vol, 'to-dir'));
    await link(join(host, 'shadow'), join(vol, 'hard'));
    execFileSync('mkfifo', [join(vol, 'fifo')]);
    const report = await applyVolumeOwnership(vol, GID);
    expect(report).toEqual({ changed: 5, skippedLinks: 1, skipped: false });
    expect(await modeGid(vol)).toEqual(['2775', GID]);
    expect(await modeGid(join(vol, 'sub'))).toEqual(['2775', GID]);
    expect(await modeGid(join(vol, 'sub', 'deeper'))).toEqual(['2775', GID]);
    expect(await modeGid(join(vol, 'a.txt'))).toEqual(['660', GID]);
    expect(await modeGid(join(vol, 'sub', 'deeper', 'b'))).toEqual(['775', GID]); // setuid not given back
    // The host's files are as they were: through the symlink, the symlinked dir, the hard link.
    expect(await modeGid(join(host, 'shadow'))).toEqual(['600', 0]);
    expect(await modeGid(join(host, 'inner'))).toEqual(['600', 0]);
    expect(await modeGid(host)).toEqual(['700', 0]);
    expect((await lstat(join(vol, 'to-file'))).gid).toBe(0);
    expect((await lstat(join(vol, 'fifo'))).gid).toBe(0); // FIFOs, sockets, devices: left alone
  });

  it('read-only: group read only; OnRootMismatch skips a root that already matches', async () => {
    await writeFile(join(vol, 'a.txt'), 'a', { mode: 0o600 });
    expect((await applyVolumeOwnership(vol, GID, { readOnly: true })).changed).toBe(4);
    expect(await modeGid(join(vol, 'a.txt'))).toEqual(['640', GID]);
    expect(await modeGid(vol)).toEqual(['2755', GID]);
    await writeFile(join(vol, 'later'), 'l', { mode: 0o600 });
    expect(await applyVolumeOwnership(vol, GID, { readOnly: true, policy: 'OnRootMismatch' })).toEqual({
      changed: 0,
      skippedLinks: 0,
      skipped: true,
    });
    expect(await modeGid(join(vol, 'later'))).toEqual(['600', GID]); // the setgid root's group, mode untouched
    // Another group: the root does not match, the whole tree is walked.
    const r = await applyVolumeOwnership(vol, GID + 1, { readOnly: true, policy: 'OnRootMismatch' });
    expect([r.skipped, r.changed]).toEqual([false, 5]);
    expect(await modeGid(join(vol, 'later'))).toEqual(['640', GID + 1]);
  });

  it('a tree deeper than the bound is an error, not an unbounded descent', async () => {
    let p = vol;
    for (let i = 0; i <= MAX_DEPTH; i++) p = join(p, 'd');
    await mkdir(p, { recursive: true });
    await expect(applyVolumeOwnership(vol, GID)).rejects.toThrow(
      `volume ${vol}: deeper than ${MAX_DEPTH} levels: fsGroup not applied below`,
    );
  });

  it('a volume root that is a symlink is refused', async () => {
    await symlink(host, join(work, 'link-vol'));
    await expect(applyVolumeOwnership(join(work, 'link-vol'), GID)).rejects.toThrow(/ELOOP|not a directory/);
    expect(await modeGid(host)).toEqual(['700', 0]);
  });

  it('a large tree: time is linear and printed (20 000 files)', async () => {
    for (let d = 0; d < 100; d++) {
      await mkdir(join(vol, `d${d}`));
      await Promise.all(Array.from({ length: 200 }, (_, f) => writeFile(join(vol, `d${d}`, `f${f}`), '')));
    }
    const t0 = performance.now();
    const r = await applyVolumeOwnership(vol, GID);
    const ms = performance.now() - t0;
    console.log(`fsGroup on 20 000 files: ${ms.toFixed(0)} ms`);
    expect(r.changed).toBe(1 + 2 + 100 + 20_000);
    expect((await stat(join(vol, 'd99', 'f199'))).gid).toBe(GID);
  }, 120_000);
});
