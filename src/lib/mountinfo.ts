// Reading /proc/self/mountinfo. The kernel writes mount points resolved (no symlinks, absolute)
// and octal-escaped (`\040` for a space, `\011` tab, `\012` newline, `\134` backslash), so every
// check of "is this path mounted" must decode them here and compare against a resolved path.
import { readFile } from 'node:fs/promises';

/** A mountinfo field with its octal escapes decoded. */
export function decodeMountinfoField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** The decoded mount points of a mountinfo text, in the order listed. */
export function parseMountPoints(mountinfo: string): string[] {
  const out: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const field = line.split(' ')[4];
    if (field) out.push(decodeMountinfoField(field));
  }
  return out;
}

/** The decoded mount points of this mount namespace. */
export async function readMountPoints(): Promise<string[]> {
  return parseMountPoints(await readFile('/proc/self/mountinfo', 'utf8'));
}

/** The mount points strictly under directory `dir` (an absolute, resolved path). */
export function mountsUnder(mounts: readonly string[], dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return mounts.filter((m) => m.startsWith(prefix));
}
