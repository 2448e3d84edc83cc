// exec: `runc exec` in the running container (its user, env and working directory, as
// `berth container exec`); exit code 0 is success. At the deadline the exec'd process and its
// descendants are killed (its host pid comes from runc's --pid-file), then runc itself, so a hung
// probe leaves nothing running. Output (stdout and stderr together) is kept to 10 KiB, the rest
// read and dropped, as the kubelet keeps.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { killTree } from '../../runtime/process-tree.js';
import type { ActionResult } from '../action.js';
import type { Deadline } from './deadline.js';

export const MAX_OUTPUT_BYTES = 10 * 1024;

export interface RuncCommand {
  bin: string;
  root: string;
}

export interface ExecProbe {
  runc: RuncCommand;
  containerId: string;
  command: string[];
  /** Where runc writes the exec'd process's pid (a private directory). */
  pidDir: string;
}

export function runExec(p: ExecProbe, deadline: Deadline): Promise<ActionResult> {
  return new Promise((resolve) => {
    if (p.command.length === 0) return resolve({ ok: false, message: 'no command' });
    if (deadline.signal.aborted) return resolve(deadline.reason());
    const pidFile = join(p.pidDir, `exec-${randomBytes(6).toString('hex')}.pid`);
    const child = spawn(
      p.runc.bin,
      ['--root', p.runc.root, 'exec', '--pid-file', pidFile, p.containerId, ...p.command],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const kept: Buffer[] = [];
    let size = 0;
    const keep = (chunk: Buffer) => {
      if (size >= MAX_OUTPUT_BYTES) return;
      const part = chunk.subarray(0, MAX_OUTPUT_BYTES - size);
      kept.push(part);
      size += part.length;
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let timedOut: ActionResult | undefined;
    let killed: Promise<unknown> = Promise.resolve();
    let exited = false;
    const onAbort = () => {
      timedOut = deadline.reason();
      const pid = readPid(pidFile);
      if (pid === undefined) return child.kill('SIGKILL');
      // The exec'd tree first, so that runc reaps its child and exits by itself; runc is killed
      // only when it does not (its orphans would be the container's init's to reap).
      killed = killTree([pid], 2000).then(() => {
        if (!exited) setTimeout(() => exited || child.kill('SIGKILL'), 1000).unref();
      });
    };
    deadline.signal.addEventListener('abort', onAbort, { once: true });
    const done = (r: ActionResult) => {
      deadline.signal.removeEventListener('abort', onAbort);
      rmSync(pidFile, { force: true });
      resolve(r);
    };
    child.once('error', (err) => done({ ok: false, message: `runc exec: ${err.message}` }));
    child.once('close', (code, sig) => {
      exited = true;
      if (timedOut) {
        // runc may have written the pid after the deadline fired: kill what it started then.
        const pid = readPid(pidFile);
        const result = timedOut;
        void Promise.all([killed, pid !== undefined ? killTree([pid], 2000) : undefined]).then(() =>
          done(result),
        );
        return;
      }
      const output = Buffer.concat(kept).toString('utf8').trim();
      const firstLine = output.split('\n')[0]?.slice(0, 200) ?? '';
      const exit = code ?? (sig ? `signal ${sig}` : 'unknown');
      done({
        ok: code === 0,
        message: `exit code ${exit}${firstLine ? `: ${firstLine}` : ''}`,
      });
    });
  });
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}
