// Worker thread entry: applies layers' tar bytes to directories, one job at a time. The parent
// decompresses and verifies; this thread only parses and creates files, with synchronous calls
// (see apply.ts), so the two run on separate cores. A worker serves job after job (starting one
// costs ~80 ms of CPU), and so does its python3 helper for device nodes, whiteouts and xattrs. Messages in: { job }, then tar chunks in order, then 'end' or 'abort'.
// Messages out: { ack: bytes, buffer } per chunk (the chunk's memory, handed back), then exactly one of { done }, { error }, { aborted }.
import { parentPort } from 'node:worker_threads';
import { BerthError } from '../lib/errors.js';
import { type ApplyOptions, createTarApplier } from './apply.js';
import { createHelperProcess } from './fs-helper.js';

export interface ApplyJob {
  root: string;
  options: ApplyOptions;
}

export type SerializedError = { code: string; message: string; kind?: string; hint?: string };

export type ApplyWorkerMessage = { job: ApplyJob } | Uint8Array | 'end' | 'abort';
export type ApplyWorkerReply =
  | { ack: number; buffer: ArrayBuffer }
  | { done: true }
  | { aborted: true }
  | { error: SerializedError };

function serialize(err: unknown): SerializedError {
  if (err instanceof BerthError) {
    return { code: err.code, kind: err.kind, message: err.message, ...(err.hint ? { hint: err.hint } : {}) };
  }
  const code = (err as { code?: unknown }).code;
  return {
    code: typeof code === 'string' ? code : 'ERR_UNPACK_FAILED',
    message: err instanceof Error ? err.message : String(err),
  };
}

const port = parentPort;
if (port) {
  let tar: ReturnType<typeof createTarApplier> | undefined;
  const helper = createHelperProcess(); // one python3 for every layer this thread applies
  let closing: Promise<void> | undefined;
  const reply = (m: ApplyWorkerReply) => port.postMessage(m);
  port.on('message', (m: ApplyWorkerMessage) => {
    if (m === 'abort') {
      if (closing) return; // the job's last reply (done or error) is on its way and ends it
      tar?.abandon();
      tar = undefined;
      reply({ aborted: true });
      return;
    }
    if (!tar && !(typeof m === 'object' && 'job' in m)) return; // the rest of a failed job
    try {
      if (typeof m === 'object' && 'job' in m) {
        tar = createTarApplier(m.job.root, m.job.options, helper.run);
      } else if (m === 'end') {
        closing = tar?.close();
        tar = undefined;
        closing
          ?.then(
            () => reply({ done: true }),
            (err: unknown) => reply({ error: serialize(err) }),
          )
          .finally(() => {
            closing = undefined;
          });
      } else {
        tar?.push(Buffer.from(m.buffer, m.byteOffset, m.byteLength));
        // The memory goes back for the next chunk (the tar reader keeps nothing of it).
        const memory = m.buffer as ArrayBuffer;
        port.postMessage({ ack: m.byteLength, buffer: memory } satisfies ApplyWorkerReply, [memory]);
      }
    } catch (err) {
      tar?.abandon();
      tar = undefined;
      reply({ error: serialize(err) });
    }
  });
}
