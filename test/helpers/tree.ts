// A comparable listing of a directory tree: type, mode, owner, size, content hash, link target,
// device numbers and link count per entry, so two unpacks can be diffed line by line; and the
// merged tree of snapshots read through an overlay mount.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { linkLowers, shortLowerdir } from '../../src/runtime/lower-links.js';

export function describeTree(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: Buffer, rel: string) => {
    for (const name of readdirSync(dir, { encoding: 'buffer' })) {
      const p = Buffer.concat([dir, Buffer.from('/'), name]);
      const r = `${rel}/${name.toString('latin1')}`;
      const st = lstatSync(p);
      let detail = '';
      if (st.isFile())
        detail = `${st.size} ${createHash('sha256').update(readFileSync(p)).digest('hex').slice(0, 16)}`;
      else if (st.isSymbolicLink())
        detail = `-> ${readlinkSync(p, { encoding: 'buffer' }).toString('latin1')}`;
      else if (st.isCharacterDevice() || st.isBlockDevice()) detail = `dev ${st.rdev}`;
      const mtime = st.isDirectory() || st.isSymbolicLink() ? '' : ` t${Math.floor(st.mtimeMs / 1000)}`;
      const links = st.isDirectory() ? '' : ` n${st.nlink}`;
      out.push(`${r} ${st.mode.toString(8)} ${st.uid}:${st.gid}${mtime}${links} ${detail}`);
      if (st.isDirectory()) walk(p, r);
    }
  };
  walk(Buffer.from(root), '');
  return out.sort();
}

/** One extended attribute's value, or undefined. */
export function xattrOf(file: string, name: string): string | undefined {
  try {
    const text = execFileSync('getfattr', ['-h', '--only-values', '-n', name, file], {
      stdio: ['ignore', 'pipe', 'ignore'],
    }).toString();
    return text.trim() || undefined;
  } catch {
    return undefined;
  }
}

export const pathIn = (root: string, ...parts: string[]) => join(root, ...parts);

/**
 * What `read` makes of the merged tree of the snapshots `lowers` (top first), seen through a
 * read-only overlay mount under `at` (an empty lowest layer: two lowers at least, for a mount
 * without upper); unmounted after.
 */
export async function readOverlay(
  at: string,
  lowers: string[],
  read: (mnt: string) => string[],
): Promise<string[]> {
  const [empty, links, mnt] = ['empty', 'links', 'mnt'].map((n) => join(at, n)) as [string, string, string];
  await mkdir(empty);
  await mkdir(mnt);
  await linkLowers(links, [...lowers, empty]);
  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `ro,${shortLowerdir(lowers.length + 1)}`, mnt], {
    cwd: links,
  });
  try {
    return read(mnt);
  } finally {
    execFileSync('umount', [mnt]);
  }
}
