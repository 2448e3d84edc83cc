// exec: the command run in the running container (its user, env and working directory, as
// `berth container exec`) under `conmon --exec --sync`, which runs `runc exec --detach`, waits for
// that one process as its subreaper and exits with its exit code (128 + the signal when one ended
// it); exit code 0 is success. The result is that exit, not the close of the output: a command that
// leaves a background process holding stdout (`sleep 99 & echo ok`) is judged by its exit code at
// once, as the kubelet judges it (plain `runc exec` copies the output through pipes of its own and
// waits for them to close, so such a command only ever timed out). Output (stdout and stderr
// together, passed through by conmon) is kept to 10 KiB, the rest read and dropped, as the kubelet
// keeps; once the process has exited, what is still buffered is read for at most DRAIN_MS (as
// containerd's drain_exec_sync_io_timeout), then our ends of the pipes are closed: the background
// process stays in the container, as in Kubernetes, and gets EPIPE if it writes.
// At the deadline the exec'd process and its descendants are killed (its host pid comes from
// conmon's --container-pidfile; before conmon wrote it, conmon's whole tree), then conmon itself
// when it does not exit, so a hung probe leaves nothing running.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { killTree } from '../../runtime/process-tree.js';
import type { ActionResult } from '../action.js';
import type { Deadline } from './deadline.js';
import { execSpecOf } from './exec-spec.js';

export const MAX_OUTPUT_BYTES = 10 * 1024;
/** How long output is still read once the exec'd process has exited. */
export const DRAIN_MS = 200;

export interface RuncCommand {
  bin: string;
  root: string;
  /** conmon's path (`conmon`, found on PATH, when absent). */
  conmon?: string;
}

export interface ExecProbe {
  runc: RuncCommand;
  containerId: string;
  command: string[];
  /** Where the process spec and its pid file go (a private directory). */
  pidDir: string;
}

export async function runExec(p: ExecProbe, deadline: Deadline): Promise<ActionResult> {
  if (p.command.length === 0) return { ok: false, message: 'no command' };
  if (deadline.signal.aborted) return deadline.reason();
  const spec = await execSpecOf(p.runc.root, p.containerId, p.command);
  if (!spec) return { ok: false, message: 'the container is not running' };
  const name = `exec-${randomBytes(6).toString('hex')}`;
  const pidFile = join(p.pidDir, `${name}.pid`);
  const specFile = join(p.pidDir, `${name}.json`);
  writeFileSync(specFile, spec.process, { mode: 0o600 });
  try {
    return await superviseExec(p, deadline, { name, pidFile, specFile, bundle: spec.bundle });
  } finally {
    rmSync(specFile, { force: true });
    rmSync(pidFile, { force: true });
  }
}

function superviseExec(
  p: ExecProbe,
  deadline: Deadline,
  f: { name: string; pidFile: string; specFile: string; bundle: string },
): Promise<ActionResult> {
  return new Promise((resolve) => {
    if (deadline.signal.aborted) return resolve(deadline.reason());
    const child = spawn(
      p.runc.conmon ?? 'conmon',
      [
        '--api-version',
        '1',
        '--sync',
        '--exec',
        '--exec-process-spec',
        f.specFile,
        '--cid',
        p.containerId,
        '--cuuid',
        f.name,
        '--runtime',
        p.runc.bin,
        '--runtime-arg',
        `--root=${p.runc.root}`,
        '--bundle',
        f.bundle,
        '--container-pidfile',
        f.pidFile,
        '--log-path',
        'passthrough',
        '--log-level',
        'error',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], cwd: p.pidDir },
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
      const pid = readPid(f.pidFile);
      // No pid yet: runc may have started the process without having said so. conmon alone killed
      // would take `runc exec` with it (its death signal) and leave the process, reparented to the
      // container's init: conmon's whole tree goes, what runc started included.
      if (pid === undefined) {
        killed = child.pid === undefined ? killed : killTree([child.pid], 2000);
        return;
      }
      // The exec'd tree first, so that conmon reaps its child and exits by itself; conmon is killed
      // only when it does not.
      killed = killTree([pid], 2000).then(() => {
        if (!exited) setTimeout(() => exited || child.kill('SIGKILL'), 1000).unref();
      });
    };
    deadline.signal.addEventListener('abort', onAbort, { once: true });
    let settled = false;
    const done = (r: ActionResult) => {
      if (settled) return;
      settled = true;
      deadline.signal.removeEventListener('abort', onAbort);
      resolve(r);
    };
    child.once('error', (err) => done({ ok: false, message: `conmon exec: ${err.message}` }));
    let drain: NodeJS.Timeout | undefined;
    const finish = (code: number | null, sig: NodeJS.Signals | null) => {
      clearTimeout(drain);
      // Our ends of the pipes: a background process may hold theirs.
      child.stdout.destroy();
      child.stderr.destroy();
      if (timedOut) {
        // conmon may have written the pid after the deadline fired: kill what it started then.
        const pid = readPid(f.pidFile);
        const result = timedOut;
        void Promise.all([killed, pid !== undefined ? killTree([pid], 2000) : undefined]).then(() =>
          done(result),
        );
        return;
      }
      const output = Buffer.concat(kept).toString('utf8').trim();
      const firstLine = output.split('\n')[0]?.slice(0, 200) ?? '';
      const exit = code ?? (sig ? `signal ${sig}` : 'unknown');
      done({ ok: code === 0, message: `exit code ${exit}${firstLine ? `: ${firstLine}` : ''}` });
    };
    // conmon exited with the exec'd process's status: the output still in the pipes is read until
    // they close, or DRAIN_MS at most when something left behind holds them.
    child.once('exit', (code, sig) => {
      exited = true;
      if (timedOut) return finish(code, sig);
      // Its result is settled: the deadline no longer kills anything (what it left runs on).
      deadline.signal.removeEventListener('abort', onAbort);
      let finished = false;
      const once = () => {
        if (finished) return;
        finished = true;
        finish(code, sig);
      };
      drain = setTimeout(once, DRAIN_MS);
      child.once('close', once);
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
