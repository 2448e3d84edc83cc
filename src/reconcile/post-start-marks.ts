// `<state>/poststart/<container id>`: a container whose postStart hook is still running. Until it
// returns, Kubernetes counts the container neither started nor ready and runs none of its probes,
// though its process runs; `ps`, the planner's dependency gates and the prober live in other
// processes than the hook (apply, the daemon's tasks), so the fact is a file. It is written before
// the container starts (no pass can see it running without it) and removed when the hook ends;
// it holds the owner token of the berth that runs the hook (lib/process.ts), and counts only while
// that very process lives: a berth killed mid-hook leaves a mark that no longer counts, and the
// next pass sweeps it (`sweepPostStartMarks`). A mark appears under its name only once whole
// (written aside, then renamed), so a sweep never reads a half-written one as a dead owner's; and a
// container id is marked once (every start is a new create), so a swept mark is never re-marked.
import { closeSync, constants, fstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { lstat, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { makeDirs } from '../lib/make-dirs.js';
import { isOwnerAlive, OWNER_PATTERN, ownerToken } from '../lib/process.js';
import type { RuntimePaths } from '../runtime/paths.js';

/** The marks' directory: under --state (a reboot ends every hook), beside conmon's exit files. */
export function postStartDir(paths: Pick<RuntimePaths, 'exits'>): string {
  return join(dirname(paths.exits), 'poststart');
}

/** Mark container `id`'s postStart as running (by this process). */
export async function markPostStart(dir: string, id: string): Promise<void> {
  if (!isPlainName(id)) return;
  await makeDirs(dir, 0o700);
  const owner = ownerToken();
  const draft = join(dir, `.${id}.${owner}.tmp`); // never a plain name: never read as a mark
  await writeFile(draft, owner, { mode: 0o600, flag: 'w' });
  try {
    await rename(draft, join(dir, id)); // whole, at once
  } catch (err) {
    await rm(draft, { force: true });
    throw err;
  }
}

/** A draft: `.<id>.<owner>.tmp`, named by its writer so one a killed berth left is known dead. */
const DRAFT = new RegExp(`^\\.[A-Za-z0-9][A-Za-z0-9_.-]{0,127}\\.(${OWNER_PATTERN})\\.tmp$`);

/**
 * Removes every mark that no longer counts (its berth is gone, or it is not a mark at all: a FIFO,
 * a symlink, a directory planted there) and every draft of a dead writer. Checks the type before
 * it reads (isPostStartRunning opens without following or waiting), so nothing there blocks a pass.
 */
export async function sweepPostStartMarks(dir: string): Promise<string[]> {
  const swept: string[] = [];
  for (const name of markedIds(dir)) {
    const draft = DRAFT.exec(name);
    if (draft) {
      if (!isOwnerAlive(draft[1] as string)) swept.push(name);
      continue;
    }
    if (isPlainName(name) && isPostStartRunning(dir, name)) continue;
    swept.push(name);
  }
  for (const name of swept) {
    const path = join(dir, name);
    const st = await lstat(path).catch(() => undefined);
    await rm(path, { force: true, recursive: st?.isDirectory() === true });
  }
  return swept;
}

/** Its postStart has ended (or never ran). */
export async function clearPostStart(dir: string, id: string): Promise<void> {
  if (!isPlainName(id)) return;
  await rm(join(dir, id), { force: true });
}

/** An owner token is `<pid>-<start>-<boot>`: well under this. */
const MAX_MARK_BYTES = 64;

/** A container id as a file name: never a path. */
const isPlainName = (id: string) => /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(id);

/**
 * The ids that have a mark, from one listing of the directory (none when it does not exist): a pass
 * opens only those, not a missing file for every running container.
 */
export function markedIds(dir: string): ReadonlySet<string> {
  try {
    return new Set(readdirSync(dir));
  } catch {
    return new Set();
  }
}

/**
 * Whether container `id`'s postStart is running: marked by a berth that still runs. The mark is
 * read as observe-health.ts reads health.json: a regular file only, no symlink followed, no FIFO
 * waited on, a few bytes at most (a token is under 64), so nothing planted there hangs a pass.
 */
export function isPostStartRunning(dir: string, id: string): boolean {
  if (!isPlainName(id)) return false;
  let fd: number;
  try {
    fd = openSync(join(dir, id), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return false;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > MAX_MARK_BYTES) return false;
    const buf = Buffer.alloc(MAX_MARK_BYTES);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return isOwnerAlive(buf.subarray(0, n).toString('utf8').trim());
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}
