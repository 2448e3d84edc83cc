// Who besides root can change what the manifests folder runs: its manifests start containers as
// root, so a user who can write the folder, a manifest in it or a directory above it (to swap the
// folder) controls root on this host. Each is one WARN_MANIFESTS_WRITABLE naming the path and who
// (its owner, its group, everyone), never an error: a sync tool running as its own user may be
// meant. A directory above whose sticky bit keeps others from renaming root's entries (/tmp) is no
// such path; the folder itself is, sticky or not (anyone may add a manifest to it). A manifest that
// is a link puts the directories above its target (and above each link on the way) in that chain.
import { lstat, readlink, realpath } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Diagnostic } from '../lib/yaml-validate.js';

export const WRITABLE_CODE = 'WARN_MANIFESTS_WRITABLE';

/** Who other than root and `self` can write a file or directory of this owner and mode, or undefined. */
export function otherWriters(
  st: { uid: number; gid: number; mode: number },
  self: number,
): string | undefined {
  const who: string[] = [];
  if (st.uid !== 0 && st.uid !== self) who.push(`its owner (uid ${st.uid})`);
  if (st.mode & 0o020 && st.gid !== 0) who.push(`its group (gid ${st.gid})`);
  if (st.mode & 0o002) who.push('every user');
  return who.length === 0 ? undefined : who.join(', ');
}

function warning(path: string, what: string, who: string): Diagnostic {
  return {
    file: path,
    line: 1,
    col: 1,
    code: WRITABLE_CODE,
    message: `${what} can be written by ${who}: whoever writes it runs containers as root on this host`,
  };
}

/** A manifest file's warning, from the stat berth took to read it. */
export function fileWriters(
  file: string,
  st: { uid: number; gid: number; mode: number },
  self = process.geteuid?.() ?? 0,
): Diagnostic[] {
  const who = otherWriters(st, self);
  return who ? [warning(file, 'this manifest', who)] : [];
}

/** `path` and every directory above it. */
function chain(path: string): string[] {
  const out = [path];
  while (dirname(out[out.length - 1] as string) !== out[out.length - 1])
    out.push(dirname(out[out.length - 1] as string));
  return out;
}

/** The folder (`real`: links resolved) and every directory above it, as given and with links resolved. */
export interface FolderChain {
  real: string;
  dirs: Set<string>;
}

export async function folderChain(dir: string): Promise<FolderChain> {
  const given = resolve(dir);
  const real = await realpath(given).catch(() => given);
  return { real, dirs: new Set([...chain(real), ...chain(given)]) };
}

/** A directory of a folder's chain that someone else can write: the folder itself or one above it. */
export interface ChainWriter {
  path: string;
  folder: boolean;
  who: string;
}

/**
 * Who else can write a folder or a directory above it, as given and with links resolved (a user who
 * can write the directory holding a link, as git-sync swaps one, picks the folder too).
 */
export async function chainWriters(
  { real, dirs }: FolderChain,
  self = process.geteuid?.() ?? 0,
): Promise<ChainWriter[]> {
  const out: ChainWriter[] = [];
  for (const at of dirs) {
    const st = await lstat(at).catch(() => undefined);
    if (!st || st.isSymbolicLink()) continue; // a link is changed through the directory holding it
    const folder = at === real;
    // Others can write /tmp, but its sticky bit keeps them from renaming root's folder in it.
    if (!folder && st.mode & 0o1000) continue;
    const who = otherWriters(st, self);
    if (who) out.push({ path: at, folder, who });
  }
  return out;
}

/** The manifests folder's warnings: itself and every directory above it (chainWriters). */
export async function folderWriters(
  chain: FolderChain,
  self = process.geteuid?.() ?? 0,
): Promise<Diagnostic[]> {
  return (await chainWriters(chain, self)).map(({ path, folder, who }) =>
    warning(path, folder ? 'the manifests folder' : 'a directory above the manifests folder', who),
  );
}

/** How many links a manifest may go through before the walk stops (the kernel's own bound). */
const MAX_HOPS = 40;

/**
 * A manifest that is a link: the directories above its target and above each link on the way that
 * someone else can write (they could swap the target), each named once across calls (`seen`, which
 * starts as the folder's chain, checked by folderWriters). A plain file adds nothing.
 */
export async function linkedFileWriters(
  file: string,
  seen: Set<string>,
  self = process.geteuid?.() ?? 0,
): Promise<Diagnostic[]> {
  const out: Diagnostic[] = [];
  let at = file;
  for (let hop = 0; hop < MAX_HOPS; hop++) {
    const st = await lstat(at).catch(() => undefined);
    if (!st?.isSymbolicLink()) break;
    const target = resolve(dirname(at), await readlink(at));
    const holder = await realpath(dirname(target)).catch(() => undefined);
    for (const d of holder ? chain(holder) : []) {
      if (seen.has(d)) continue;
      seen.add(d);
      const ds = await lstat(d).catch(() => undefined);
      if (!ds || ds.isSymbolicLink() || ds.mode & 0o1000) continue;
      const who = otherWriters(ds, self);
      if (who) out.push(warning(d, `a directory above a file a manifest links to (${file})`, who));
    }
    at = target;
  }
  return out;
}
