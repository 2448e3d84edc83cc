// Locks that only root can take and that die with their holder, however it dies.
//
// A lock is `<dir>/locks/<purpose>.lock`, in a directory only its owner (root) can enter, so no
// other user and no container can create, replace or hold it (the abstract unix socket names used
// before could be bound first by anyone in the host network namespace, and were listed in
// /proc/net/unix); under a directory too deep for SQLite to open a file in, it is in a root-only
// directory of /run instead (lock-place.ts). Holding it is a POSIX record lock (fcntl F_SETLK) on
// that file, which the kernel drops when the holding process exits, kill -9 included: no stale lock
// is ever left to break, so there is no "two waiters both saw it stale" race. Node has no
// flock/fcntl binding; its built-in SQLite takes exactly that lock for `BEGIN EXCLUSIVE` (with no
// busy timeout, so the event loop never blocks: a busy lock is retried with a back-off here).
//
// Invariants: POSIX locks belong to a process, not a file descriptor, so within one process the
// holders of one name are serialised by a promise queue first (one open connection per name at a
// time); SQLite's own per-inode bookkeeping keeps worker threads of one process apart. The lock
// file holds no data: it is never written, only locked. Nothing else is written either: its
// rollback journal is kept in memory (journal_mode=MEMORY; BEGIN EXCLUSIVE on an empty database
// would otherwise write a `-journal` file), so a lock is taken on a full file system too, where
// the commands that free space (image rm, image prune) need it most.
import { constants } from 'node:fs';
import { access, realpath, stat, statfs } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { BerthError, errnoCode, isBerthError, readOnlyError } from '../lib/errors.js';
import { ensurePrivateDir } from '../lib/private-dir.js';
import { LONG_LOCKS_DIR, lockDirFor, longLocksDirError } from './lock-place.js';

export interface StoreLock {
  release(): Promise<void>;
}

export interface LockOptions {
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Where locks of a directory too deep for SQLite live (lock-place.ts; tests give their own). */
  longLocksDir?: string;
}

const queues = new Map<string, Promise<void>>();
/** SQLite's "another connection holds a lock" (its primary result code). */
const SQLITE_BUSY = 5;
/** SQLite's "database or disk is full". */
const SQLITE_FULL = 13;

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Where the lock named `purpose` of directory `root` lives (as named: see placeLock). */
export function lockPath(root: string, purpose: string): string {
  if (!/^[a-z][a-z0-9-]*$/.test(purpose)) throw new Error(`bad lock purpose ${purpose}`);
  return join(root, 'locks', `${purpose}.lock`);
}

/** No free block or no free inode left on the file system of `dir`. */
async function isFull(dir: string): Promise<boolean> {
  const fs = await statfs(dir).catch(() => undefined);
  return fs !== undefined && (fs.bfree === 0 || (fs.files > 0 && fs.ffree === 0));
}

async function isReadOnly(dir: string): Promise<boolean> {
  return access(dir, constants.W_OK).then(
    () => false,
    (err) => errnoCode(err) === 'EROFS',
  );
}

/** Whether `err` is acquireLock's "another process holds it" (not a lock that could not be taken at all). */
export function isLockHeld(err: unknown): boolean {
  return isBerthError(err) && err.kind === 'unavailable' && /^ERR_[A-Z]+_LOCKED$/.test(err.code);
}

/** The lock taken, or undefined when another process holds it. */
async function tryLock(file: string): Promise<DatabaseSync | undefined> {
  const { DatabaseSync } = await import('node:sqlite');
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(file, { timeout: 0 });
    db.exec('PRAGMA journal_mode=MEMORY');
    db.exec('BEGIN EXCLUSIVE');
    return db;
  } catch (err) {
    db?.close();
    const code = ((err as { errcode?: number }).errcode ?? 0) % 256; // primary code of BUSY_*, FULL_*
    if (code === SQLITE_BUSY) return undefined;
    if (code === SQLITE_FULL || (await isFull(dirname(file)))) {
      // Creating the lock file itself needs an inode (SQLite says only "unable to open"), maybe a
      // block for its directory entry: the file is not at fault, and removing it would not help.
      throw new BerthError('ERR_NO_SPACE', 'limit', `cannot lock ${file}: the file system is full`, {
        cause: err,
      });
    }
    // A file system gone read-only: SQLite says only "unable to open".
    if (await isReadOnly(dirname(file))) throw readOnlyError(dirname(file), err);
    // Never one berth made (those stay empty): replacing it could hand the lock to two holders.
    throw new BerthError('ERR_LOCK_FILE', 'internal', `cannot lock ${file}: ${(err as Error).message}`, {
      cause: err,
      hint: 'it holds no data: remove it while no berth process runs',
    });
  }
}

/**
 * The file the lock is taken on: `lockPath`'s, unless its resolved path is too long for SQLite
 * (lock-place.ts); then one in a root-only directory of `longDir`, made here.
 */
async function placeLock(root: string, purpose: string, longDir = LONG_LOCKS_DIR): Promise<string> {
  const locks = join(root, 'locks');
  const resolved = await realpath(locks);
  const { dev, ino } = await stat(resolved);
  const dir = lockDirFor(resolved, `${dev}-${ino}`, purpose, longDir);
  if (dir === resolved) return lockPath(root, purpose);
  // Each named as itself when it is the one that cannot be made.
  for (const made of [longDir, dir])
    await ensurePrivateDir(made, { mode: 0o700 }).catch((err) => {
      throw longLocksDirError(made, root, err);
    });
  return join(dir, `${purpose}.lock`);
}

export function acquireStoreLock(root: string, options: LockOptions = {}): Promise<StoreLock> {
  return acquireLock(root, 'store', options);
}

/** The lock named `purpose` of directory `root` (`store` of --root, `reconcile` of --state). */
export async function acquireLock(
  root: string,
  purpose: string,
  options: LockOptions = {},
): Promise<StoreLock> {
  const file = lockPath(root, purpose);
  const timeoutMs = options.timeoutMs ?? 60_000;
  const sleep = options.sleep ?? defaultSleep;
  // In-process queue: wait for the previous holder in this process.
  const previous = queues.get(file) ?? Promise.resolve();
  let releaseQueue!: () => void;
  const mine = new Promise<void>((r) => {
    releaseQueue = r;
  });
  const tail = previous.then(() => mine);
  queues.set(file, tail);
  await previous;
  const started = Date.now();
  let delay = 5;
  try {
    await ensurePrivateDir(join(root, 'locks'), { mode: 0o700, parentMode: 0o711 }).catch((err) => {
      if (errnoCode(err) === 'ENOTDIR')
        throw new BerthError('ERR_NOT_DIRECTORY', 'invalid', `${root} is not a directory`, { cause: err });
      throw errnoCode(err) === 'EROFS' ? readOnlyError(root, err) : err;
    });
    const placed = await placeLock(root, purpose, options.longLocksDir);
    for (;;) {
      const db = await tryLock(placed);
      if (db) {
        let released = false;
        return {
          async release() {
            if (released) return;
            released = true;
            db.close(); // ends the transaction: the kernel lock goes with the descriptor
            if (queues.get(file) === tail) queues.delete(file);
            releaseQueue();
          },
        };
      }
      if (Date.now() - started > timeoutMs) {
        throw new BerthError(
          `ERR_${(purpose.split('-')[0] as string).toUpperCase()}_LOCKED`, // ERR_BRIDGE_LOCKED, not its hex
          'unavailable',
          `the ${purpose} lock of ${root} is held by another berth process`,
          {
            hint: `waited ${Math.round(timeoutMs / 1000)} s`,
          },
        );
      }
      await sleep(delay);
      delay = Math.min(delay * 2, 100);
    }
  } catch (err) {
    if (queues.get(file) === tail) queues.delete(file);
    releaseQueue();
    throw err;
  }
}

export async function withStoreLock<T>(
  root: string,
  fn: () => Promise<T>,
  options?: LockOptions,
): Promise<T> {
  const lock = await acquireStoreLock(root, options);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
