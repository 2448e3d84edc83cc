// A real `berth daemon` for a test: started on the test's root and state (and the test config),
// ready once its API answers, stopped with SIGTERM (its containers keep running, as in production).
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { callDaemon } from '../../src/api/client.js';
import { CLI, testEnv, withTestConfig } from './cli.js';

export interface TestDaemon {
  pid: number;
  stop(): Promise<void>;
}

export async function startDaemon(o: {
  root: string;
  state: string;
  manifests: string;
  /** Another host config than the tests' own. */
  config?: string;
  /** A command that execs the daemon (`choom -n 500 --`): its pid stays the daemon's. */
  prefix?: string[];
  args?: string[];
}): Promise<TestDaemon> {
  const args = [
    ...(o.config ? ['--config', o.config] : []),
    '--root',
    o.root,
    '--state',
    o.state,
    'daemon',
    '--manifests',
    o.manifests,
    ...(o.args ?? []),
  ];
  const [bin = process.execPath, ...rest] = [...(o.prefix ?? []), process.execPath];
  const child: ChildProcess = spawn(bin, [...rest, CLI, ...withTestConfig(args)], {
    env: testEnv(),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const status = await callDaemon<{ pid: number }>(join(o.state, 'berth.sock'), 'GET', '/v1/status').catch(
      () => undefined,
    );
    if (status?.pid === child.pid) break; // this daemon, not another one on the same state
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`berth daemon did not come up: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    pid: child.pid as number,
    /** SIGTERM, and SIGKILL if it has not gone 30 s later (a stuck daemon fails the test, never hangs it). */
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
