// Running the host tools the runtime drives (runc, conmon, mount, umount, unshare, nsenter): one
// place that turns a failure into a coded error naming the tool and what it said.
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { BerthError, type ErrorKind } from '../lib/errors.js';
import { howItEnded, type SpawnHelper } from './spawn-helper.js';

export interface ToolResult {
  stdout: string;
  stderr: string;
}

// The daemon runs its tools through a spawn helper (spawn-helper.ts: a fork from the daemon costs
// more as its pods add up); one-shot commands fork themselves. Process-wide, as the choice is the
// process's: set by the daemon when it starts, cleared when it stops.
let helper: SpawnHelper | undefined;

/** Runs every later runTool through `h` (undefined: fork directly again). */
export function useSpawnHelper(h: SpawnHelper | undefined): void {
  helper = h;
}

/** The helper runTool goes through now, if any (conmon.ts starts conmon through it too). */
export function spawnHelperInUse(): SpawnHelper | undefined {
  return helper;
}

export function runTool(
  cmd: string,
  args: string[],
  what: string,
  options: {
    code?: string;
    kind?: ErrorKind;
    timeoutMs?: number;
    cwd?: string;
    direct?: boolean;
    /** Variables set for the tool, over this process's environment. */
    env?: Record<string, string>;
  } = {},
): Promise<ToolResult> {
  const fail = (err: Error, stderr: string) => {
    const said = (stderr || err.message).trim().split('\n').slice(-3).join('; ');
    return new BerthError(
      options.code ?? 'ERR_RUNTIME',
      options.kind ?? 'internal',
      `${what}: ${cmd} failed: ${said}`,
      {
        cause: err,
      },
    );
  };
  // `direct`: forked from this process even while a helper is in use (a cleanup after the helper died).
  if (helper && !options.direct) return runThroughHelper(helper, cmd, args, options, fail);
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      {
        timeout: options.timeoutMs ?? 60_000,
        maxBuffer: 16 << 20,
        ...(options.cwd ? { cwd: options.cwd } : {}),
        ...(options.env ? { env: { ...process.env, ...options.env } } : {}),
      },
      (err, stdout, stderr) => {
        if (!err) return resolve({ stdout, stderr });
        reject(fail(err, stderr));
      },
    );
  });
}

async function runThroughHelper(
  h: SpawnHelper,
  cmd: string,
  args: string[],
  options: { timeoutMs?: number; cwd?: string; env?: Record<string, string> },
  fail: (err: Error, stderr: string) => BerthError,
): Promise<ToolResult> {
  let o: Awaited<ReturnType<SpawnHelper['run']>>;
  try {
    o = await h.run({
      argv: [cmd, ...args],
      timeoutMs: options.timeoutMs ?? 60_000,
      ...(options.cwd ? { cwd: options.cwd } : {}),
      // The helper takes a whole environment: this process's (the helper's own) with the additions.
      ...(options.env ? { env: { ...definedEnv(process.env), ...options.env } } : {}),
    });
  } catch (err) {
    throw fail(err as Error, '');
  }
  if (o.code === 0 && o.why === null) return { stdout: o.stdout, stderr: o.stderr };
  throw fail(new Error(`Command failed: ${[cmd, ...args].join(' ')}: ${howItEnded(o)}`), o.stderr);
}

function definedEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

/** The absolute path of `cmd` on PATH (conmon wants its runtime's full path), or `cmd` unchanged. */
export function findOnPath(cmd: string, path = process.env.PATH ?? ''): string {
  if (cmd.includes('/')) return cmd;
  for (const dir of [...path.split(':').filter(Boolean), '/usr/local/sbin', '/usr/sbin', '/sbin']) {
    const full = `${dir}/${cmd}`;
    try {
      accessSync(full, constants.X_OK);
      return full;
    } catch {
      // not here
    }
  }
  return cmd;
}
