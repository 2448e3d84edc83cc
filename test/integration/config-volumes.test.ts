// Config volumes on a real file system: written kubelet-style (`..<stamp>` + `..data` + a link per
// top-level name), updated by one rename so a reader never sees half of an update, keys removed
// with their links; and what a hostile volume holds (an emptyDir's leftovers, planted links) is
// removed, never written through. berth's record of what it wrote, outside the volume, is what
// makes a volume current: a `..data` naming the stamp over content a container put or changed there
// is written again, never taken as berth's.

import { closeSync, readFileSync } from 'node:fs';
import {
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rename,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trustedStampSync } from '../../src/runtime/config-volume-record.js';
import { currentDataDir, openDataSubPath, writeConfigVolume } from '../../src/runtime/config-volumes.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const file = (path: string, data: string, mode = 0o644) => ({ path, mode, data: Buffer.from(data) });
const STAMP_A = 'a'.repeat(32);
const STAMP_B = 'b'.repeat(32);

/** The volume as a container reads it, through the links: path → `mode content`. */
async function view(dir: string, sub = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(join(dir, sub))).sort()) {
    if (sub === '' && name.startsWith('..')) continue;
    const path = join(dir, sub, name);
    const st = await stat(path);
    if (st.isDirectory()) Object.assign(out, await view(dir, join(sub, name)));
    else out[join(sub, name)] = `${(st.mode & 0o777).toString(8)} ${await readFile(path, 'utf8')}`;
  }
  return out;
}

describe('config volumes (kubelet layout, atomic updates)', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-config-volumes-'));
    await mkdir(join(work, 'volumes')); // as a pod's: berth's records go beside, in volume-stamps/
  });
  afterAll(async () => {
    await removeTempRoot(work);
  });

  it('writes, updates in place by swapping ..data, and drops keys that went', async () => {
    const v = join(work, 'volumes', 'v1');
    await mkdir(v);
    await writeConfigVolume(v, STAMP_A, [file('a.conf', 'one'), file('nested/b', 'two', 0o600)]);
    expect(await view(v)).toEqual({ 'a.conf': '644 one', 'nested/b': '600 two' });
    expect((await readdir(v)).sort()).toEqual(['..data', `..${STAMP_A}`, 'a.conf', 'nested'].sort());
    expect(await readlink(join(v, '..data'))).toBe(`..${STAMP_A}`);
    expect(await readlink(join(v, 'a.conf'))).toBe('..data/a.conf');
    expect(trustedStampSync(v)).toBe(STAMP_A);
    expect(await currentDataDir(v)).toBe(join(v, `..${STAMP_A}`));

    await writeConfigVolume(v, STAMP_B, [file('a.conf', 'ONE'), file('c', 'three', 0o400)]);
    expect(await view(v)).toEqual({ 'a.conf': '644 ONE', c: '400 three' });
    expect((await readdir(v)).sort()).toEqual(['..data', `..${STAMP_B}`, 'a.conf', 'c'].sort());
    // The same stamp again changes nothing (the plan asks only when it differs; a retry is a no-op).
    const before = (await lstat(join(v, '..data'))).ino;
    await writeConfigVolume(v, STAMP_B, [file('a.conf', 'ONE'), file('c', 'three', 0o400)]);
    expect((await lstat(join(v, '..data'))).ino).toBe(before);
  });

  it("an emptyDir's leftovers, planted links included, are removed and never written through", async () => {
    const v = join(work, 'volumes', 'v2');
    const outside = join(work, 'outside');
    await mkdir(v);
    await mkdir(outside);
    await writeFile(join(outside, 'victim'), 'untouched');
    await symlink(join(outside, 'victim'), join(v, 'a.conf')); // a name the content will use
    await symlink(outside, join(v, `..tmp-${STAMP_A}`)); // where the content is built
    await symlink(outside, join(v, `..${STAMP_A}`)); // where it lands
    await writeFile(join(v, 'junk'), 'x');
    await writeConfigVolume(v, STAMP_A, [file('a.conf', 'mine'), file('sub/x', 'y')]);
    expect(await view(v)).toEqual({ 'a.conf': '644 mine', 'sub/x': '644 y' });
    expect(await readFile(join(outside, 'victim'), 'utf8')).toBe('untouched');
    expect(await readdir(outside)).toEqual(['victim']);
  });

  it('a ..data or a link being made left there as directories never stop the write', async () => {
    const v = join(work, 'volumes', 'v2dir');
    await mkdir(join(v, '..data', 'x'), { recursive: true });
    await writeConfigVolume(v, STAMP_A, [file('a.conf', 'mine')]);
    expect(await view(v)).toEqual({ 'a.conf': '644 mine' });
    await mkdir(join(v, `..tmp-link-${process.pid}`, 'y'), { recursive: true });
    await writeConfigVolume(v, STAMP_B, [file('a.conf', 'next')]);
    expect(await view(v)).toEqual({ 'a.conf': '644 next' });
    expect(trustedStampSync(v)).toBe(STAMP_B);
  });

  it('a path given twice, or as a file and a directory, fails and leaves the old content in place', async () => {
    const v = join(work, 'volumes', 'v3');
    await mkdir(v);
    await writeConfigVolume(v, STAMP_A, [file('k', 'old')]);
    await expect(writeConfigVolume(v, STAMP_B, [file('d', '1'), file('d/e', '2')])).rejects.toMatchObject({
      code: 'ERR_VOLUME_PATH',
    });
    expect(await view(v)).toEqual({ k: '644 old' });
    expect(trustedStampSync(v)).toBe(STAMP_A); // nothing of the failed write is left in it
  });

  it('a path that leaves the volume (.., a line break before it, absolute, NUL) is refused and nothing is made outside', async () => {
    const v = join(work, 'volumes', 'v-escape');
    await mkdir(v);
    await writeConfigVolume(v, STAMP_A, [file('k', 'old')]);
    const outside = join(work, 'escaped');
    for (const path of [
      'a\n/../../../escaped',
      '../escaped',
      'a/../../escaped',
      `${outside}`,
      'a\0b',
      'a//b',
      './a',
      '..data',
      '..x/y',
    ]) {
      await expect(
        writeConfigVolume(v, STAMP_B, [file(path, 'x')]),
        JSON.stringify(path),
      ).rejects.toMatchObject({
        code: 'ERR_VOLUME_PATH',
      });
    }
    await expect(lstat(outside)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await view(v)).toEqual({ k: '644 old' });
    // A refused path among good ones: nothing of the new content is made (checked before any write).
    await expect(
      writeConfigVolume(v, STAMP_B, [file('good', 'x'), file('../bad', 'y')]),
    ).rejects.toMatchObject({
      code: 'ERR_VOLUME_PATH',
    });
    expect((await readdir(v)).sort()).toEqual(['..data', `..${STAMP_A}`, 'k'].sort());
  });

  it('a ..data that points anywhere else is not ours: no stamp, and no subPath is taken from it', async () => {
    const v = join(work, 'volumes', 'v4');
    await mkdir(v);
    await symlink('/etc', join(v, '..data'));
    expect(trustedStampSync(v)).toBeUndefined();
    await expect(currentDataDir(v)).rejects.toMatchObject({ code: 'ERR_SUBPATH_UNSAFE' });
  });

  it("a subPath is taken inside ..data's content, never through a link put in that content's place", async () => {
    // A container that could write the directory (an emptyDir before it became this volume) reads
    // the stamp from ..data and puts a link to a host directory where the content was: ..data still
    // names the stamp, so the volume looks current, and a subPath bound from it was the host's file.
    const v = join(work, 'volumes', 'v5');
    const host = join(work, 'host-dir');
    await mkdir(v);
    await mkdir(host);
    await writeFile(join(host, 'app.conf'), 'host file');
    await writeConfigVolume(v, STAMP_A, [file('app.conf', 'from the ConfigMap')]);
    const opened = await openDataSubPath(v, 'app.conf');
    try {
      expect(readFileSync(`/proc/self/fd/${opened.fd}`, 'utf8')).toBe('from the ConfigMap');
    } finally {
      closeSync(opened.fd);
    }
    await rename(join(v, `..${STAMP_A}`), join(v, '..moved'));
    await symlink(host, join(v, `..${STAMP_A}`));
    expect(await readlink(join(v, '..data'))).toBe(`..${STAMP_A}`); // looks current
    expect(trustedStampSync(v)).toBeUndefined();
    await expect(openDataSubPath(v, 'app.conf')).rejects.toMatchObject({
      code: 'ERR_SUBPATH_UNSAFE',
      message: expect.stringContaining('holds no content berth wrote'),
    });
  });

  it('a ..data naming the stamp over files a container put there (an emptyDir before) is written again, not skipped', async () => {
    // The content is foreseeable (a downward API volume of the pod's own labels, a ConfigMap the
    // container saw): the container names its stamp itself, with files of its own under it.
    const v = join(work, 'volumes', 'v6');
    await mkdir(join(v, `..${STAMP_A}`), { recursive: true });
    await writeFile(join(v, `..${STAMP_A}`, 'app.conf'), 'forged');
    await symlink(`..${STAMP_A}`, join(v, '..data'));
    await symlink('..data/app.conf', join(v, 'app.conf'));
    expect(trustedStampSync(v)).toBeUndefined();
    await writeConfigVolume(v, STAMP_A, [file('app.conf', 'from the ConfigMap')]);
    expect(await view(v)).toEqual({ 'app.conf': '644 from the ConfigMap' });
    // Written under a name of its own (the planted one could not be replaced in place without a
    // moment with no content), the planted one gone.
    const now = await readlink(join(v, '..data'));
    expect(now).toMatch(new RegExp(`^\\.\\.${STAMP_A}[0-9a-f]{8}$`));
    expect((await readdir(v)).sort()).toEqual(['..data', now, 'app.conf'].sort());
    expect(trustedStampSync(v)).toBe(STAMP_A);
    expect(await readFile(join(work, 'volume-stamps', 'v6'), 'utf8')).toMatch(
      new RegExp(`^${STAMP_A}\n${now}\n`),
    );
  });

  it('a file of its content changed in place (while the volume was writable) makes it not current: written again', async () => {
    const v = join(work, 'volumes', 'v7');
    await mkdir(v);
    await writeConfigVolume(v, STAMP_A, [file('app.conf', 'from the ConfigMap'), file('other', 'o')]);
    await writeFile(join(v, `..${STAMP_A}`, 'app.conf'), 'changed'); // same inode, same names
    expect(trustedStampSync(v)).toBeUndefined();
    await writeConfigVolume(v, STAMP_A, [file('app.conf', 'from the ConfigMap'), file('other', 'o')]);
    expect(await view(v)).toEqual({ 'app.conf': '644 from the ConfigMap', other: '644 o' });
    expect(trustedStampSync(v)).toBe(STAMP_A);
    // A key added beside the links is as much a change.
    await writeFile(join(v, 'extra'), 'x');
    expect(trustedStampSync(v)).toBeUndefined();
  });
});
