// The store lock: a kernel-backed mutex that dies with its holder. It is an abstract unix socket
// (Linux): binding a name is atomic, a second bind fails with EADDRINUSE, and the kernel frees the
// name when the process exits however it exits, so a kill -9 never leaves a stale lock behind.
// Within one process, holders are also serialised by a promise queue (one bind per name). The same
// mechanism serves other purposes: `reconcile` serialises passes on one --state.
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { BerthError, errnoCode } from '../lib/errors.js';

export interface StoreLock {
  release(): Promise<void>;
}

export interface LockOptions {
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const queues = new Map<string, Promise<void>>();

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function lockName(root: string, purpose: string): string {
  let real = root;
  try {
    real = realpathSync(root);
  } catch {
    // not created yet: the path as given names it
  }
  return `\0berth-${purpose}-${createHash('sha256').update(real).digest('hex').slice(0, 24)}`;
}

function tryListen(name: string): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (err) => {
      if (errnoCode(err) === 'EADDRINUSE') resolve(undefined);
      else reject(err);
    });
    server.listen({ path: name }, () => {
      server.unref();
      resolve(server);
    });
  });
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
  const name = lockName(root, purpose);
  const timeoutMs = options.timeoutMs ?? 60_000;
  const sleep = options.sleep ?? defaultSleep;
  // In-process queue: wait for the previous holder in this process.
  const previous = queues.get(name) ?? Promise.resolve();
  let releaseQueue!: () => void;
  const mine = new Promise<void>((r) => {
    releaseQueue = r;
  });
  const tail = previous.then(() => mine);
  queues.set(name, tail);
  await previous;
  const started = Date.now();
  let delay = 5;
  try {
    for (;;) {
      const server = await tryListen(name);
      if (server) {
        let released = false;
        return {
          async release() {
            if (released) return;
            released = true;
            await new Promise<void>((r) => server.close(() => r()));
            if (queues.get(name) === tail) queues.delete(name);
            releaseQueue();
          },
        };
      }
      if (Date.now() - started > timeoutMs) {
        throw new BerthError(
          `ERR_${purpose.toUpperCase()}_LOCKED`,
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
    if (queues.get(name) === tail) queues.delete(name);
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
