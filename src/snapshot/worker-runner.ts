// Runs UnpackJobs in worker threads, one thread per job; the caller bounds how many at once.
import { Worker } from 'node:worker_threads';
import { BerthError, type ErrorKind } from '../lib/errors.js';
import type { UnpackJob, UnpackRunner } from './unpack-image.js';
import type { WorkerReply } from './unpack-worker.js';

export function createWorkerRunner(workerUrl: URL): UnpackRunner {
  return (job: UnpackJob) =>
    new Promise<number>((resolve, reject) => {
      const worker = new Worker(workerUrl, { workerData: job });
      let settled = false;
      worker.once('message', (reply: WorkerReply) => {
        settled = true;
        if ('bytes' in reply) resolve(reply.bytes);
        else {
          const { code, kind, message, hint } = reply.error;
          reject(new BerthError(code, kind as ErrorKind, message, hint ? { hint } : {}));
        }
      });
      worker.once('error', (err) => {
        settled = true;
        reject(
          new BerthError('ERR_UNPACK_FAILED', 'internal', `layer ${job.digest}: ${err.message}`, {
            cause: err,
          }),
        );
      });
      worker.once('exit', (code) => {
        if (!settled)
          reject(
            new BerthError(
              'ERR_UNPACK_FAILED',
              'internal',
              `layer ${job.digest}: worker exited with ${code}`,
            ),
          );
      });
    });
}
