// Where a layer's tar stream goes to be applied (apply.ts parses and writes it): the target a
// runner hands the decompressed bytes to, and the one that applies them in this thread.
import { Writable } from 'node:stream';
import { type ApplyOptions, createTarApplier } from './apply.js';

/**
 * Where a layer's tar stream goes to be applied: a Writable, and a promise that settles once
 * nothing touches the destination any more (a worker thread has exited), so the caller may then
 * publish or remove it.
 */
export interface ApplyTarget {
  sink: Writable;
  closed: Promise<void>;
}

export type ApplyTargetFactory = (root: string, options: ApplyOptions) => ApplyTarget;

/** Apply in this thread (tests, small jobs); `applyInThread` keeps decompression and file creation apart. */
export const applyHere: ApplyTargetFactory = (root, options) => {
  const tar = createTarApplier(root, options);
  let closed!: () => void;
  const target: ApplyTarget = {
    closed: new Promise<void>((r) => {
      closed = r;
    }),
    sink: new Writable({
      highWaterMark: 1 << 20,
      write(chunk: Buffer, _enc, done) {
        try {
          tar.push(chunk);
          done();
        } catch (err) {
          done(err as Error);
        }
      },
      final(done) {
        let finishing: Promise<void>;
        try {
          finishing = tar.close();
        } catch (err) {
          done(err as Error);
          return;
        }
        finishing.then(() => done(), done);
      },
      destroy(err, done) {
        tar.abandon();
        closed();
        done(err);
      },
    }),
  };
  return target;
};
