// Starting a created container as `runc start` does, without starting runc: after `runc create`,
// runc's init waits in the container, set up, in open(<runc root>/<id>/exec.fifo, O_WRONLY) until a
// reader comes; then it writes one byte and execs the container's process. `runc start` is that
// reader: it reads the byte and removes the fifo (runc's state is "created" while the fifo is there,
// "running" after). Here this process is the reader, as runc's `start` is, so a start costs a few
// system calls instead of a Go program (30–40 ms a start on a 2-core host, most of the start's time).
//
// Only the happy path is taken here. Whenever the fifo is not what runc's created state leaves (not
// there, not a fifo, its init gone, another start read it), the answer is `false` and the caller runs `runc
// start`, whose refusal (already running, stopped) is the one users see, as before. Invariants:
// - the fifo is opened O_NONBLOCK, so an open never waits; a fifo no writer ever opened reports
//   neither data nor hang-up to epoll, so the read waits for init and nothing else;
// - while waiting, the init process is looked at every POLL_MS (runc's own interval): gone → false;
//   there is no deadline: an init that lives on without writing is waited for, as `runc start` waits;
// - a read that ends with no byte is another reader's start (two starts at once): false, and the
//   second `runc start` says the container runs already, as runc would.
import { closeSync, constants, fstatSync, openSync, readSync, unlinkSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { errnoCode } from '../lib/errors.js';
import { readLiveState } from './runc-state.js';

const POLL_MS = 100;

export interface FifoStartDeps {
  /** Whether the container's init is still there (runc's created state); the default reads runc's files. */
  alive?: () => Promise<boolean>;
  pollMs?: number;
}

/** Opens runc's exec fifo of `id` without waiting, or undefined when there is no fifo to open. */
function openFifo(path: string): number | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ELOOP') return undefined;
    throw err;
  }
  if (!fstatSync(fd).isFIFO()) {
    closeSync(fd);
    return undefined;
  }
  return fd;
}

/** Reads the fifo until its writer closes it: the bytes read, or undefined when `stop` ended the wait. */
function readAll(fd: number, stop: AbortSignal): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const pipe = new Socket({ fd, readable: true, writable: false });
    const chunks: Buffer[] = [];
    const abort = () => {
      // The init went away: a byte it wrote just before (a process that ran and ended within one
      // poll) may be in the fifo still, not yet read through the event loop.
      try {
        const b = Buffer.alloc(16);
        const n = readSync(fd, b, 0, b.length, null);
        if (n > 0) chunks.push(b.subarray(0, n));
      } catch {
        // EAGAIN: a writer that wrote nothing; anything else: nothing to read either
      }
      pipe.destroy();
      resolve(chunks.length > 0 ? Buffer.concat(chunks) : undefined);
    };
    stop.addEventListener('abort', abort, { once: true });
    pipe.on('data', (c: Buffer) => chunks.push(c));
    pipe.once('end', () => {
      stop.removeEventListener('abort', abort);
      pipe.destroy();
      resolve(Buffer.concat(chunks));
    });
    pipe.once('error', (err) => {
      stop.removeEventListener('abort', abort);
      pipe.destroy();
      reject(err);
    });
  });
}

/**
 * Starts created container `id` of runc root `runcRoot` through its exec fifo. True: started (the
 * fifo is removed, as `runc start` removes it); false: not done here, run `runc start`.
 */
export async function startThroughFifo(
  runcRoot: string,
  id: string,
  deps: FifoStartDeps = {},
): Promise<boolean> {
  const path = join(runcRoot, id, 'exec.fifo');
  const fd = openFifo(path);
  if (fd === undefined) return false;
  const alive = deps.alive ?? (async () => (await readLiveState(runcRoot, id))?.state === 'created');
  const stop = new AbortController();
  const reading = readAll(fd, stop.signal);
  let timer: NodeJS.Timeout | undefined;
  const watch = async (): Promise<void> => {
    if (!(await alive().catch(() => false))) stop.abort();
    else timer = setTimeout(() => void watch(), deps.pollMs ?? POLL_MS);
  };
  timer = setTimeout(() => void watch(), deps.pollMs ?? POLL_MS);
  let data: Buffer | undefined;
  try {
    data = await reading;
  } finally {
    clearTimeout(timer);
    stop.abort();
  }
  if (!data || data.length === 0) return false;
  try {
    unlinkSync(path);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
  return true;
}
