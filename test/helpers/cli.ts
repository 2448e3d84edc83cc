// Runs the built `berth` CLI (dist/cli/berth.mjs) as a user would: a real process, real exit code.
// Every run reads the tests' own host config, never the host's: a call that names no --config gets
// one (an empty config whose credentials file is an empty one of its own), and BERTH_CONFIG is not
// passed on. So a real /etc/berth/config.yaml or auth.json (snapshotter, seccomp profile, limits,
// plain-HTTP registries, credentials) cannot change what a test sees.
import { type ChildProcess, type SpawnSyncReturns, spawn, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { writeTestConfig } from './test-config.js';

export const CLI = fileURLToPath(new URL('../../dist/cli/berth.mjs', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

let ownConfig: string | undefined;

/**
 * The tests' host config: the run's (global-setup.ts writes it once and removes it at the end), or,
 * in a process started without that setup, one of its own, removed when the process exits.
 */
export function testConfigFile(): string {
  if (ownConfig) return ownConfig;
  const shared = process.env.BERTH_TEST_CONFIG;
  if (shared && existsSync(shared)) {
    ownConfig = shared;
    return shared;
  }
  const { file, dir } = writeTestConfig();
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  ownConfig = file;
  return file;
}

/** `args` with the tests' --config in front, unless they name one (before any `--`) already. */
export function withTestConfig(args: string[]): string[] {
  const end = args.indexOf('--');
  const flags = end === -1 ? args : args.slice(0, end);
  if (flags.some((a) => a === '--config' || a.startsWith('--config='))) return args;
  return ['--config', testConfigFile(), ...args];
}

/** The environment a CLI run gets: the test's, minus what would point it at the host's config. */
export function testEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  if (!('BERTH_CONFIG' in extra)) delete env.BERTH_CONFIG;
  return env;
}

/** The CLI run to its end with the process umask `umask` (a unit's UMask=0000, a loose shell). */
export function runBerthUnderUmask(umask: string, args: string[]): SpawnSyncReturns<string> {
  return spawnSync(
    'sh',
    ['-c', `umask ${umask} && exec "$@"`, 'sh', process.execPath, CLI, ...withTestConfig(args)],
    { encoding: 'utf8', env: testEnv() },
  );
}

export function runBerth(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  return runCollected(process.execPath, [CLI, ...withTestConfig(args)], testEnv(env));
}

/** Runs `command` to its end with the output collected (for a CLI started some other way: nsenter). */
export function runCollected(command: string, argv: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    // Decoded as a stream: a character cut between two pipe reads stays one.
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Start the CLI and hand back the child, for tests that kill it mid-work. */
export function spawnBerth(args: string[], env: Record<string, string> = {}) {
  return spawn(process.execPath, [CLI, ...withTestConfig(args)], {
    env: testEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Sends `signal` to a child still running and resolves with its exit code once it has exited. */
export async function endChild(d: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  if (d.exitCode !== null || d.signalCode !== null) return d.exitCode;
  const exited = new Promise<number | null>((r) => d.once('exit', (code) => r(code)));
  d.kill(signal);
  return exited;
}

/** Ends (SIGKILL) every child of `started` a test left running, and forgets them all. */
export async function endStarted(started: Set<ChildProcess>): Promise<void> {
  for (const d of started) await endChild(d, 'SIGKILL');
  started.clear();
}
