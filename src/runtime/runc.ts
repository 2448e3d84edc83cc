// The runc driver: every call names berth's own runc root (under --state), so berth's containers
// never mix with another tool's. create is conmon's job (conmon.ts), state is read from runc's
// files (runc-state.ts), a start reads runc's exec fifo itself when it can (exec-fifo.ts); the rest is here.
import { BerthError } from '../lib/errors.js';
import { startThroughFifo } from './exec-fifo.js';
import { findOnPath, runTool } from './tool.js';

export interface Runc {
  readonly bin: string;
  readonly root: string;
  start(id: string): Promise<void>;
  kill(id: string, signal: string): Promise<void>;
  delete(id: string): Promise<void>;
}

export function createRunc(root: string, bin = findOnPath('runc')): Runc {
  const runc = (args: string[], what: string) =>
    runTool(bin, ['--root', root, ...args], what, { code: 'ERR_RUNC' });
  return {
    bin,
    root,
    async start(id) {
      if (await startThroughFifo(root, id)) return;
      await runc(['start', id], `starting ${id}`);
    },
    async kill(id, signal) {
      try {
        await runc(['kill', id, signal], `signalling ${id}`);
      } catch (err) {
        // Already gone: nothing to signal.
        if (
          err instanceof BerthError &&
          /not running|does not exist|process already finished/.test(err.message)
        )
          return;
        throw err;
      }
    },
    async delete(id) {
      try {
        await runc(['delete', '--force', id], `deleting ${id}`);
      } catch (err) {
        if (err instanceof BerthError && /does not exist/.test(err.message)) return;
        throw err;
      }
    },
  };
}
