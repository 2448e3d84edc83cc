// Running the host tools the runtime drives (runc, conmon, mount, umount, unshare, nsenter): one
// place that turns a failure into a coded error naming the tool and what it said.
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { BerthError, type ErrorKind } from '../lib/errors.js';

export interface ToolResult {
  stdout: string;
  stderr: string;
}

export function runTool(
  cmd: string,
  args: string[],
  what: string,
  options: { code?: string; kind?: ErrorKind; timeoutMs?: number; cwd?: string } = {},
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      {
        timeout: options.timeoutMs ?? 60_000,
        maxBuffer: 16 << 20,
        ...(options.cwd ? { cwd: options.cwd } : {}),
      },
      (err, stdout, stderr) => {
        if (!err) return resolve({ stdout, stderr });
        const said = (stderr || err.message).trim().split('\n').slice(-3).join('; ');
        reject(
          new BerthError(
            options.code ?? 'ERR_RUNTIME',
            options.kind ?? 'internal',
            `${what}: ${cmd} failed: ${said}`,
            {
              cause: err,
            },
          ),
        );
      },
    );
  });
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
