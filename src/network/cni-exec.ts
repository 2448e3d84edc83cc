// Calling one CNI plugin as the CNI spec says: the binary from the plugin directory, the command
// and the container in CNI_* variables, the network configuration on stdin, a result (ADD) or
// nothing (DEL, CHECK) on stdout, an error object on stdout with a non-zero exit. Every failure is
// one coded error naming the plugin and what it said. The adapter the rest of berth calls is
// attach.ts; this is its only door to the plugins.
import { spawn } from 'node:child_process';
import { BerthError } from '../lib/errors.js';

export const DEFAULT_CNI_BIN = '/usr/lib/cni';

export interface PluginCall {
  binDir: string;
  type: string;
  command: 'ADD' | 'DEL' | 'CHECK';
  containerId: string;
  /** The network namespace path; may be empty for DEL (the namespace is gone). */
  netns: string;
  ifName: string;
  stdin: string;
  timeoutMs?: number;
  /** The plugin's PATH (the tools it may exec); berth's own when not given. */
  path?: string;
}

function fail(call: PluginCall, said: string, cause?: unknown): BerthError {
  return new BerthError(
    'ERR_CNI',
    'unavailable',
    `CNI ${call.type} ${call.command} for ${call.containerId}: ${said}`,
    cause ? { cause } : {},
  );
}

/** Runs the plugin; resolves to its parsed stdout (undefined when it printed nothing). */
export function execPlugin(call: PluginCall): Promise<unknown> {
  if (!/^[a-z0-9-]+$/.test(call.type)) return Promise.reject(fail(call, 'not a plugin name'));
  return new Promise((resolve, reject) => {
    const child = spawn(`${call.binDir}/${call.type}`, [], {
      env: {
        PATH: call.path ?? process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
        CNI_COMMAND: call.command,
        CNI_CONTAINERID: call.containerId,
        CNI_NETNS: call.netns,
        CNI_IFNAME: call.ifName,
        CNI_PATH: call.binDir,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: call.timeoutMs ?? 60_000,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(fail(call, e.message, e)));
    child.on('close', (code, signal) => {
      const stdout = Buffer.concat(out).toString('utf8').trim();
      let parsed: unknown;
      try {
        parsed = stdout ? JSON.parse(stdout) : undefined;
      } catch {
        parsed = undefined;
      }
      if (code === 0) return resolve(parsed);
      const e = parsed as { msg?: unknown; details?: unknown } | undefined;
      const said =
        typeof e?.msg === 'string'
          ? `${e.msg}${typeof e.details === 'string' && e.details ? `: ${e.details}` : ''}`
          : Buffer.concat(err).toString('utf8').trim().split('\n').slice(-2).join('; ') ||
            `exit ${code ?? signal}`;
      reject(fail(call, said));
    });
    child.stdin.on('error', () => undefined); // a plugin that exits before reading: its exit says why
    child.stdin.end(call.stdin);
  });
}
