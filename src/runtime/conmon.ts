// Creating a container under conmon: conmon forks itself off as the container's monitor (so the
// container outlives berth), runs `runc create`, reports the container's pid (or runc's error) on
// a sync pipe, and later writes the exit code to `<exits>/<id>` and, under --root, to
// `<persist>/exit` (with `oom` beside it after an OOM kill): the copy that outlives a reboot's
// empty /run. Its output goes to a CRI-format log file that conmon rotates by size.
import { spawn } from 'node:child_process';
import { BerthError } from '../lib/errors.js';
import type { ContainerPaths, RuntimePaths } from './paths.js';
import type { Runc } from './runc.js';

export interface ConmonOptions {
  id: string;
  name: string;
  paths: ContainerPaths;
  runtime: RuntimePaths;
  runc: Runc;
  logSizeMax: number;
  bin?: string;
}

export function conmonArgs(o: ConmonOptions): string[] {
  return [
    '--api-version',
    '1',
    '--cid',
    o.id,
    '--cuuid',
    o.id,
    '--name',
    o.name,
    '--runtime',
    o.runc.bin,
    '--runtime-arg',
    `--root=${o.runc.root}`,
    '--bundle',
    o.paths.dir,
    '--container-pidfile',
    o.paths.pidFile,
    '--conmon-pidfile',
    o.paths.conmonPidFile,
    '--log-path',
    `k8s-file:${o.paths.log}`,
    '--log-size-max',
    String(o.logSizeMax),
    '--exit-dir',
    o.runtime.exits,
    '--persist-dir',
    o.paths.persist,
    '--socket-dir-path',
    o.runtime.sockets,
    '--log-level',
    'error',
  ];
}

/** Resolves to the container's pid once `runc create` succeeded (the container is "created"). */
export function createWithConmon(o: ConmonOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(o.bin ?? 'conmon', conmonArgs(o), {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
      env: { ...process.env, _OCI_SYNCPIPE: '3' },
      detached: true,
    });
    let reply = '';
    let stderr = '';
    const sync = child.stdio[3] as NodeJS.ReadableStream;
    sync.setEncoding('utf8');
    sync.on('data', (d: string) => {
      reply += d;
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => {
      stderr += d;
    });
    child.once('error', (err) =>
      reject(new BerthError('ERR_CONMON', 'internal', `starting conmon: ${err.message}`, { cause: err })),
    );
    // conmon reports on the sync pipe once runc create is done: {"data": PID}, or {"data": -1,
    // "message": WHY} (API version 1).
    // Its monitor keeps running (and keeps the pipes open), so we stop listening then.
    let settled = false;
    const settle = (fromExit: boolean) => {
      if (settled) return;
      const line = reply.split('\n').find((l) => l.trim().startsWith('{') && l.trim().endsWith('}'));
      if (!line && !fromExit) return;
      settled = true;
      sync.removeAllListeners('data');
      (sync as unknown as { destroy(): void }).destroy();
      child.stderr?.destroy();
      let parsed: { data?: number; message?: string } | undefined;
      try {
        parsed = line ? (JSON.parse(line) as { data?: number; message?: string }) : undefined;
      } catch {
        parsed = undefined;
      }
      if (parsed?.data !== undefined && parsed.data > 0) return resolve(parsed.data);
      const why = (parsed?.message || stderr || 'no pid reported').trim().split('\n').slice(-2).join('; ');
      reject(new BerthError('ERR_CREATE_FAILED', 'internal', `creating container ${o.name}: ${why}`));
    };
    sync.on('data', () => settle(false));
    child.once('exit', (code) => {
      // Without a report, an exit is the answer; give a report in flight a moment to arrive.
      if (code !== 0) setTimeout(() => settle(true), 100);
    });
  });
}
