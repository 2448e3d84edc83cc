// Calling one CNI plugin as the CNI spec says: the binary from the plugin directory, the command
// and the container in CNI_* variables, the network configuration on stdin, a result (ADD) or
// nothing (DEL, CHECK) on stdout, an error object on stdout with a non-zero exit. Every failure is
// one coded error naming the plugin and what it said. The adapter the rest of berth calls is
// adapter.ts; this is its only door to the plugins. A plugin's output is bounded (16 MiB a stream,
// forked or through the helper): one gone wrong is killed, not held in memory whole. In the daemon a plugin is started through its
// spawn helper (runtime/spawn-helper.ts), as runc is: a fork from the daemon costs more as its pods
// add up, and a pod's attach runs two or three plugins.
import { spawn } from 'node:child_process';
import { BerthError } from '../lib/errors.js';
import { howItEnded, type SpawnHelper } from '../runtime/spawn-helper.js';
import { spawnHelperInUse } from '../runtime/tool.js';

export const DEFAULT_CNI_BIN = '/usr/lib/cni';

/**
 * The plugins are short-lived Go programs (the bridge plugin runs host-local, which inherits
 * these): one P and no collector spare them the runtime's extra threads and GC work on a host whose
 * cores `runc create` needs meanwhile. The bridge plugin's ADD with host-local, CPU by `perf stat -e
 * task-clock`, medians of 15 and 30 alternated runs on the 2-core host: 40.5/41.9 ms as they were,
 * 37.6/39.0 with GOMAXPROCS=1, 36.2/37.6 with GOGC=off as well (GOGC=off alone: 41.1/42.3).
 * GOMEMLIMIT bounds what no collector would: host-local's ADD scanning a /16 of 65,000 allocations
 * peaked at 110 MB with GOGC=off alone, 28 MB with a 32 MiB limit (11 MB with the default GOGC).
 */
export const GO_PLUGIN_ENV = { GOMAXPROCS: '1', GOGC: 'off', GOMEMLIMIT: '64MiB' } as const;

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
export async function execPlugin(call: PluginCall): Promise<unknown> {
  if (!/^[a-z0-9-]+$/.test(call.type)) throw fail(call, 'not a plugin name');
  const argv0 = `${call.binDir}/${call.type}`;
  const env = {
    PATH: call.path ?? process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    CNI_COMMAND: call.command,
    CNI_CONTAINERID: call.containerId,
    CNI_NETNS: call.netns,
    CNI_IFNAME: call.ifName,
    CNI_PATH: call.binDir,
    ...GO_PLUGIN_ENV,
  };
  const timeoutMs = call.timeoutMs ?? 60_000;
  const helper = spawnHelperInUse();
  const o = helper
    ? await throughHelper(helper, call, argv0, env, timeoutMs)
    : await forked(call, argv0, env, timeoutMs);
  let parsed: unknown;
  try {
    parsed = o.stdout.trim() ? JSON.parse(o.stdout) : undefined;
  } catch {
    parsed = undefined;
  }
  if (o.code === 0) return parsed;
  const e = parsed as { msg?: unknown; details?: unknown } | undefined;
  const said =
    typeof e?.msg === 'string'
      ? `${e.msg}${typeof e.details === 'string' && e.details ? `: ${e.details}` : ''}`
      : o.stderr.trim().split('\n').slice(-2).join('; ') || o.how;
  throw fail(call, said);
}

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  /** What ended it, when it failed: "timed out", "exited with code 2"… */
  how: string;
}

async function throughHelper(
  helper: SpawnHelper,
  call: PluginCall,
  argv0: string,
  env: Record<string, string>,
  timeoutMs: number,
): Promise<Ran> {
  try {
    const o = await helper.run({ argv: [argv0], env, stdin: call.stdin, timeoutMs });
    return { ...o, code: o.why === null ? o.code : null, how: howItEnded(o) };
  } catch (err) {
    throw fail(call, (err as Error).message, err);
  }
}

/** What a forked plugin may write on each stream, as the spawn helper bounds it: past it, it is killed. */
export const MAX_PLUGIN_OUTPUT = 16 << 20;

function forked(
  call: PluginCall,
  argv0: string,
  env: Record<string, string>,
  timeoutMs: number,
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv0, [], { env, stdio: ['pipe', 'pipe', 'pipe'], timeout: timeoutMs });
    let flooded = false;
    const collect = (stream: NodeJS.ReadableStream) => {
      const parts: Buffer[] = [];
      let size = 0;
      stream.on('data', (b: Buffer) => {
        if (flooded) return;
        size += b.length;
        if (size <= MAX_PLUGIN_OUTPUT) return void parts.push(b);
        flooded = true; // a plugin gone wrong: bounded, as a helper's run is, never all in memory
        child.kill('SIGKILL');
        // Its pipes let go too: a process it started may hold them and write on (the helper closes them).
        child.stdout.destroy();
        child.stderr.destroy();
      });
      return parts;
    };
    const out = collect(child.stdout);
    const err = collect(child.stderr);
    child.on('error', (e) => reject(fail(call, e.message, e)));
    child.on('close', (code, signal) =>
      resolve({
        code: flooded ? null : code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        // Killed by Node itself at the timeout (SIGTERM), or here past the output bound.
        how: howItEnded({
          code,
          signal,
          why: flooded ? 'maxBuffer' : child.killed && signal === 'SIGTERM' ? 'timeout' : null,
        }),
      }),
    );
    child.stdin.on('error', () => undefined); // a plugin that exits before reading: its exit says why
    child.stdin.end(call.stdin);
  });
}
