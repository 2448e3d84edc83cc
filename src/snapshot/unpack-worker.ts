// Worker thread entry: runs one UnpackJob and reports its size or a coded error. Unpacking is
// synchronous file system work, so layers unpack in parallel only in separate threads.
import { parentPort, workerData } from 'node:worker_threads';
import { BerthError } from '../lib/errors.js';
import { runUnpackJob, type UnpackJob } from './unpack-image.js';

export type WorkerReply =
  | { bytes: number }
  | { error: { code: string; kind: string; message: string; hint?: string } };

runUnpackJob(workerData as UnpackJob).then(
  (bytes) => parentPort?.postMessage({ bytes } satisfies WorkerReply),
  (err: unknown) => {
    const e =
      err instanceof BerthError
        ? { code: err.code, kind: err.kind, message: err.message, ...(err.hint ? { hint: err.hint } : {}) }
        : {
            code: 'ERR_UNPACK_FAILED',
            kind: 'internal',
            message: err instanceof Error ? err.message : String(err),
          };
    parentPort?.postMessage({ error: e } satisfies WorkerReply);
  },
);
