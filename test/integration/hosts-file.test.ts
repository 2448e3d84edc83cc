// The pod's hosts file is bind-mounted into its containers and rewritten in place when pods come
// and go: the inode stays (a container sees every version), and a symlink or a directory put where
// the file should be is refused, never written through.
import { lstat, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rewriteInPlace, rewriteInPlaceSync } from '../../src/network/hosts-file.js';

describe.each([
  ['async', rewriteInPlace],
  ['sync', async (path: string, text: string) => rewriteInPlaceSync(path, text)],
])('hosts file rewritten in place (%s)', (_kind, rewriteInPlace) => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-hosts-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps its inode through longer and shorter versions', async () => {
    const file = join(dir, 'hosts');
    await rewriteInPlace(file, 'a long first version\n');
    const inode = (await stat(file)).ino;
    await rewriteInPlace(file, 'short\n');
    expect([await readFile(file, 'utf8'), (await stat(file)).ino]).toEqual(['short\n', inode]);
    await rewriteInPlace(file, 'a longer third version than the second\n');
    expect([await readFile(file, 'utf8'), (await stat(file)).ino]).toEqual([
      'a longer third version than the second\n',
      inode,
    ]);
  });

  it('a symlink where the file should be is refused; its target is untouched', async () => {
    const target = join(dir, 'elsewhere');
    await writeFile(target, 'precious\n');
    await symlink(target, join(dir, 'hosts'));
    await expect(rewriteInPlace(join(dir, 'hosts'), 'evil\n')).rejects.toMatchObject({ code: 'ELOOP' });
    expect(await readFile(target, 'utf8')).toBe('precious\n');
    expect((await lstat(join(dir, 'hosts'))).isSymbolicLink()).toBe(true);
  });

  it('a directory where the file should be is refused', async () => {
    await mkdir(join(dir, 'hosts'));
    await expect(rewriteInPlace(join(dir, 'hosts'), 'x\n')).rejects.toMatchObject({ code: 'EISDIR' });
  });
});
