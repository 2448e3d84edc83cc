// Applying layers in worker threads (unpack-worker.ts): this thread reads, decompresses and
// hashes, and posts the tar bytes; a worker creates the files. In one thread the two take turns
// (a decompressor schedules its next round only once its output has been applied); apart, they
// use two cores. A few MiB may be in flight; the sink waits for acknowledgements beyond that.
// Workers are kept for the next layer (unref'd while idle, so they never hold the process open).
import { Writable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { BerthError, type ErrorKind } from '../lib/errors.js';
import type { ApplyTarget, ApplyTargetFactory } from './apply-here.js';
import { CHUNK_BYTES } from './decompress.js';
import { runUnpackJob, type UnpackRunner } from './unpack-image.js';
import type { ApplyWorkerMessage, ApplyWorkerReply, SerializedError } from './unpack-worker.js';

const MAX_IN_FLIGHT_BYTES = 8 << 20;
/** Chunk memory kept for reuse, shared by the pool's jobs. */
const MAX_SPARE = 32;

function revive(e: SerializedError): Error {
  if (e.kind) return new BerthError(e.code, e.kind as ErrorKind, e.message, e.hint ? { hint: e.hint } : {});
  return Object.assign(new Error(e.message), { code: e.code });
}

function threadFailed(why: string, cause?: unknown): BerthError {
  return new BerthError('ERR_UNPACK_FAILED', 'internal', `unpack thread ${why}`, cause ? { cause } : {});
}

interface PooledWorker {
  worker: Worker;
  /** The job in progress gets replies here; a dead worker reports its failure here too. */
  onReply?: (m: ApplyWorkerReply | { failed: Error }) => void;
  dead: boolean;
}

export interface ApplyPool {
  target: ApplyTargetFactory;
  /** Start a worker now, while there is other waiting to do (it is then ready for the first layer). */
  warm(): void;
}

export function createApplyPool(workerUrl: URL): ApplyPool {
  const idle: PooledWorker[] = [];
  const spawn = (): PooledWorker => {
    const pw: PooledWorker = { worker: new Worker(workerUrl), dead: false };
    pw.worker.on('message', (m: ApplyWorkerReply) => pw.onReply?.(m));
    const die = (err: Error) => {
      pw.dead = true;
      const i = idle.indexOf(pw);
      if (i >= 0) idle.splice(i, 1);
      pw.onReply?.({ failed: err });
    };
    pw.worker.once('error', (err) => die(threadFailed(`failed: ${err.message}`, err)));
    pw.worker.once('exit', () => die(threadFailed('exited')));
    pw.worker.unref();
    return pw;
  };

  const spare: ArrayBuffer[] = [];
  const target: ApplyTargetFactory = (root, options): ApplyTarget => {
    const pw = idle.pop() ?? spawn();
    pw.worker.ref();
    let inFlight = 0;
    let failure: Error | undefined;
    let finished = false;
    let resume: (() => void) | undefined;
    let release!: () => void;
    const closed = new Promise<void>((r) => {
      release = r;
    });
    const wake = () => {
      const r = resume;
      resume = undefined;
      r?.();
    };
    /** The job is over (done, failed or aborted): the destination is no longer touched. */
    const finish = () => {
      if (finished) return;
      finished = true;
      pw.onReply = undefined;
      pw.worker.unref();
      if (!pw.dead && !failure) idle.push(pw);
      else if (!pw.dead) void pw.worker.terminate(); // after an error, start clean next time
      release();
      wake();
    };
    let endCallback: ((err?: Error) => void) | undefined;
    pw.onReply = (m) => {
      if ('ack' in m) {
        inFlight -= m.ack;
        if (m.buffer.byteLength === CHUNK_BYTES && spare.length < MAX_SPARE) spare.push(m.buffer);
      } else if ('failed' in m) failure ??= m.failed;
      else if ('error' in m) failure ??= revive(m.error);
      if ('ack' in m) {
        if (inFlight <= MAX_IN_FLIGHT_BYTES) wake();
        return;
      }
      // done, error, aborted or a dead worker: this job is over.
      const cb = endCallback;
      endCallback = undefined;
      finish();
      cb?.(failure);
    };
    const post = (m: ApplyWorkerMessage) => pw.worker.postMessage(m);
    post({ job: { root, options } });
    const sink = new Writable({
      highWaterMark: 1 << 20,
      write(chunk: Buffer, _enc, callback) {
        if (failure || finished) return callback(failure ?? threadFailed('stopped'));
        inFlight += chunk.length;
        // Copied into memory of our own and handed over, not cloned (half the cost); the worker
        // hands it back with the ack, so a layer reuses a few buffers instead of allocating
        // (and collecting) one per chunk.
        const memory =
          chunk.length <= CHUNK_BYTES
            ? (spare.pop() ?? new ArrayBuffer(CHUNK_BYTES))
            : new ArrayBuffer(chunk.length);
        const view = new Uint8Array(memory, 0, chunk.length);
        view.set(chunk);
        pw.worker.postMessage(view, [memory]);
        if (inFlight <= MAX_IN_FLIGHT_BYTES) return callback();
        resume = () => callback(failure);
      },
      final(callback) {
        if (failure || finished) return callback(failure ?? threadFailed('stopped'));
        endCallback = callback;
        post('end');
      },
      destroy(err, callback) {
        if (!finished) post('abort');
        void closed.then(() => callback(err));
      },
    });
    return { sink, closed };
  };

  return {
    target,
    warm() {
      if (idle.length === 0) idle.push(spawn());
    },
  };
}

/** Unpack jobs whose files are created in worker threads (the CLI's way). */
export function createWorkerRunner(workerUrl: URL): UnpackRunner & { warm(): void } {
  const pool = createApplyPool(workerUrl);
  return Object.assign((job: Parameters<UnpackRunner>[0]) => runUnpackJob(job, pool.target), {
    warm: pool.warm,
  });
}
