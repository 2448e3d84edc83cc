// The descriptor walk every host path berth mounts goes through (lib/host-path-walk.ts), on a real
// file system: links followed as the kernel follows them (absolute, relative, chained, `..` taken
// after the link), a loop bounded, missing parts the path names made when asked and parts only a
// link names never, and what the walk returns is the inode it checked: renamed away and replaced
// by a link afterwards, the descriptor still holds the directory.
import { closeSync, fstatSync, readlinkSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type WalkedHostPath, walkHostPath } from '../../src/lib/host-path-walk.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-walk-'));
  await mkdir(join(dir, 'real/inner'), { recursive: true });
  await mkdir(join(dir, 'real/sibling'));
  await writeFile(join(dir, 'real/file'), 'x');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Where the walk ended, as the kernel names the open inode, or what was missing; the fd closed. */
const walk = (path: string, o: { makeDirs?: number; makeFile?: number } = {}) => {
  const w: WalkedHostPath = walkHostPath(path, { what: 'test', ...o });
  if ('missing' in w) return w;
  try {
    return readlinkSync(`/proc/self/fd/${w.fd}`);
  } finally {
    closeSync(w.fd);
  }
};

describe('walkHostPath', () => {
  it('follows links as the kernel does: absolute, relative, chained, and `..` after the link', async () => {
    await symlink(join(dir, 'real'), join(dir, 'abs'));
    await symlink('real/inner', join(dir, 'rel'));
    await symlink('rel', join(dir, 'chain'));
    const real = join(dir, 'real');
    expect([
      walk(join(dir, 'abs')),
      walk(join(dir, 'rel')),
      walk(join(dir, 'chain')),
      walk(`${dir}/rel/../sibling`), // beside the link's target, not beside the link
      walk(`${dir}/abs/./inner/..`),
      walk('/../..'),
    ]).toEqual([real, join(real, 'inner'), join(real, 'inner'), join(real, 'sibling'), real, '/']);
  });

  it('a loop of links ends (40 links, as the kernel), a file in the middle is not a directory', async () => {
    await symlink('loop-b', join(dir, 'loop-a'));
    await symlink('loop-a', join(dir, 'loop-b'));
    expect(() => walk(join(dir, 'loop-a'))).toThrow(`${dir}/loop-a: too many levels of symbolic links`);
    expect(() => walk(join(dir, 'real/file/x'))).toThrow(`${dir}/real/file is not a directory`);
  });

  it('an error of the file system names the host path, not the descriptor it was asked through', () => {
    const long = 'n'.repeat(300);
    expect(() => walk(join(dir, 'real', long, 'x'))).toThrow(
      `${dir}/real/${long}: ENAMETOOLONG: name too long`,
    );
  });

  it('says what is missing: one of its directories, its last part, or a part a link names', async () => {
    await symlink(join(dir, 'nowhere/at/all'), join(dir, 'dangling'));
    expect([walk(join(dir, 'no/such')), walk(join(dir, 'real/none')), walk(join(dir, 'dangling/x'))]).toEqual(
      [
        { missing: join(dir, 'no'), part: 'parent' },
        { missing: join(dir, 'real/none'), part: 'last' },
        { missing: join(dir, 'nowhere'), part: 'link' },
      ],
    );
  });

  it('makes the directories the path names, never through a dangling link; a file only in a directory there', async () => {
    expect(walk(join(dir, 'made/a/b'), { makeDirs: 0o755 })).toBe(join(dir, 'made/a/b'));
    expect((await stat(join(dir, 'made/a'))).isDirectory()).toBe(true);
    expect(walk(join(dir, 'dangling/x'), { makeDirs: 0o755 })).toEqual({
      missing: join(dir, 'nowhere'),
      part: 'link',
    });
    expect(walk(join(dir, 'made/lock'), { makeFile: 0o644 })).toBe(join(dir, 'made/lock'));
    const made = await stat(join(dir, 'made/lock'));
    expect([made.isFile(), made.size, made.mode & 0o777]).toEqual([true, 0, 0o644]);
    expect(walk(join(dir, 'none/lock'), { makeFile: 0o644 })).toEqual({
      missing: join(dir, 'none'),
      part: 'parent',
    });
  });

  it('hands back the inode it checked: renamed away and replaced by a link later, the fd still holds it', async () => {
    const app = join(dir, 'app');
    await mkdir(app);
    await writeFile(join(app, 'mine'), 'x');
    const w = walkHostPath(app, { what: 'test' });
    if ('missing' in w) throw new Error('app is there');
    try {
      const checked = statSync(app).ino;
      await rename(app, `${app}.old`);
      await symlink('/etc', app);
      expect([fstatSync(w.fd).ino, readlinkSync(`/proc/self/fd/${w.fd}`)]).toEqual([checked, `${app}.old`]);
    } finally {
      closeSync(w.fd);
    }
  });
});
