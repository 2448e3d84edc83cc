// Killing berth at a chosen point (the points drawn from helpers/random.ts, so a run replays from its seed):
// a spawn of the CLI that is sent SIGKILL either after a delay or as soon as a condition on disk
// holds (polled every 2 ms), plus a small extra delay. The kill lands on the berth process only:
// what it started (conmon, runc, unshare) lives on, as after a crash.
import { spawn } from 'node:child_process';
import { CLI, testEnv, withTestConfig } from './cli.js';

export type KillAt =
  | { kind: 'delay'; ms: number }
  | { kind: 'when'; what: string; holds: () => boolean; extraMs: number };

export interface KillOutcome {
  /** True when the process was killed; false when it finished first. */
  killed: boolean;
  code: number | null;
  /** When the condition of a `when` point held (ms after spawn), if it did. */
  heldAfterMs?: number;
  ms: number;
  stderr: string;
}

export function describeKillAt(k: KillAt): string {
  return k.kind === 'delay' ? `after ${k.ms} ms` : `when ${k.what} (+${k.extraMs} ms)`;
}

/** Run `berth args` and SIGKILL it at `at`; resolves once it is gone. */
export function runKilled(args: string[], at: KillAt): Promise<KillOutcome> {
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, ...withTestConfig(args)], {
    env: testEnv(),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  let heldAfterMs: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  if (at.kind === 'delay') {
    timer = setTimeout(kill, at.ms);
  } else {
    const poll = () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      let holds = false;
      try {
        holds = at.holds();
      } catch {
        // what it looks at is not there yet
      }
      if (holds) {
        heldAfterMs = Math.round(performance.now() - started);
        timer = setTimeout(kill, at.extraMs);
        return;
      }
      timer = setTimeout(poll, 2);
    };
    poll();
  }
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({
        killed: signal === 'SIGKILL',
        code,
        ...(heldAfterMs !== undefined ? { heldAfterMs } : {}),
        ms: Math.round(performance.now() - started),
        stderr,
      });
    });
  });
}

/** Run `berth args` to the end, SIGKILLed after `timeoutMs` (a hang is a finding, not a stuck suite). */
export function runBounded(
  args: string[],
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string; ms: number; timedOut: boolean }> {
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, ...withTestConfig(args)], {
    env: testEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Math.round(performance.now() - started), timedOut });
    });
  });
}
