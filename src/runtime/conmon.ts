// Creating a container under conmon: conmon forks itself off as the container's monitor (so the
// container outlives berth), runs `runc create`, reports the container's pid (or runc's error) on
// a sync pipe, and later writes the exit code to `<exits>/<id>` and, under --root, to
// `<persist>/exit` (with `oom` beside it after an OOM kill): the copy that outlives a reboot's
// empty /run. Its output goes to a CRI-format log file that conmon rotates by size.
//
// The handshake is bounded (`timeoutMs`): a `runc create` that hangs (a mount source on a dead NFS
// server or a stuck FUSE, a dead monitor) fails the create with ERR_CREATE_TIMEOUT after conmon and
// everything under it (runc, its init) are killed by pid; the caller then undoes the rest (runc
// state, rootfs, netns, bundle), and the cgroup runc may have made is removed here.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { BerthError } from '../lib/errors.js';
import { SUN_PATH_MAX } from '../lib/sun-path.js';
import { removeContainerCgroups } from './cgroups.js';
import { isConmonOf } from './conmon-process.js';
import type { ContainerPaths, RuntimePaths } from './paths.js';
import { killTree } from './process-tree.js';
import type { Runc } from './runc.js';
import type { SpawnHelper } from './spawn-helper.js';
import { spawnHelperInUse } from './tool.js';

/** How long conmon and `runc create` may take to report, unless the host config says otherwise. */
export const HANDSHAKE_TIMEOUT_MS = 60_000;

export interface ConmonOptions {
  id: string;
  name: string;
  paths: ContainerPaths;
  runtime: RuntimePaths;
  runc: Runc;
  logSizeMax: number;
  bin?: string;
  /** How long the handshake may take (HANDSHAKE_TIMEOUT_MS by default). */
  timeoutMs?: number;
  /** The process has a terminal: conmon makes the console socket and reads the pty's master. */
  terminal?: boolean;
}

/**
 * What conmon's environment adds: TMPDIR, the container's bundle (under the root-only --root). A
 * terminal's console socket is made by conmon at `$TMPDIR/conmon-term.XXXXXX`: a name mkstemp
 * makes, then unlinks, then binds. In the /tmp berth inherits, every local user can watch that name
 * appear (inotify) and make it first once it is unlinked, failing the bind and with it the create
 * of every tty container, for as long as they keep at it. conmon unlinks the socket only once runc
 * has connected to it: when `runc create` fails first, conmon leaves it where it made it, so it is
 * made in the bundle, which a failed create removes with everything else it made. A bundle so deep
 * that the socket's path would not fit sun_path (a --root past 44 bytes) is named `.`: conmon runs
 * in the bundle (its cwd) and binds `./conmon-term.XXXXXX` there, and runc, which works in the
 * bundle too (it changes to it), connects to that name. A shared directory in its place (the
 * sockets directory did) kept every failed create's socket, beside those of creates under way.
 */
export function conmonEnv(bundle: string): Record<string, string> {
  const fits = Buffer.byteLength(`${bundle}/conmon-term.XXXXXX`) <= SUN_PATH_MAX;
  return { TMPDIR: fits ? bundle : '.' };
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
    ...(o.terminal ? ['--terminal'] : []),
  ];
}

/** Resolves to the container's pid once `runc create` succeeded (the container is "created"). */
export function createWithConmon(o: ConmonOptions): Promise<number> {
  const helper = spawnHelperInUse();
  if (helper) return createThroughHelper(helper, o);
  return new Promise((resolve, reject) => {
    const child = spawn(o.bin ?? 'conmon', conmonArgs(o), {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...conmonEnv(o.paths.dir), _OCI_SYNCPIPE: '3' },
      // conmon also writes an `oom` file into its working directory after an OOM kill: the bundle,
      // not wherever berth was started (it used to land in the caller's directory).
      cwd: o.paths.dir,
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
    const stopListening = () => {
      settled = true;
      clearTimeout(timer);
      sync.removeAllListeners('data');
      (sync as unknown as { destroy(): void }).destroy();
      child.stderr?.destroy();
    };
    const timeoutMs = o.timeoutMs ?? HANDSHAKE_TIMEOUT_MS;
    const timer = setTimeout(() => {
      if (settled) return;
      stopListening();
      const failed = new BerthError(
        'ERR_CREATE_TIMEOUT',
        'unavailable',
        `creating container ${o.name}: conmon and runc did not report within ${timeoutMs / 1000} s (a mount source that hangs?)`,
      );
      abandonHandshake(o, child.pid).then(
        () => reject(failed),
        (err: unknown) => reject(new BerthError(failed.code, failed.kind, failed.message, { cause: err })),
      );
    }, timeoutMs);
    const settle = (fromExit: boolean) => {
      if (settled) return;
      const line = reply.split('\n').find((l) => l.trim().startsWith('{') && l.trim().endsWith('}'));
      if (!line && !fromExit) return;
      stopListening();
      const answer = answerOf(reply, stderr, o.name);
      if (typeof answer === 'number') resolve(answer);
      else reject(answer);
    };
    sync.on('data', () => settle(false));
    child.once('exit', (code) => {
      // Without a report, an exit is the answer; give a report in flight a moment to arrive.
      if (code !== 0) setTimeout(() => settle(true), 100);
    });
    // The sync pipe closed without a report: its monitor is gone, as when runc failed without a
    // word (conmon reports runc's stderr, and only when there is some). Whatever conmon wrote on
    // its stderr is read to its end first (both close as it exits).
    sync.once('end', () => {
      const late = setTimeout(() => settle(true), 500);
      if (!child.stderr || child.stderr.readableEnded) return settle(true);
      child.stderr.once('end', () => {
        clearTimeout(late);
        settle(true);
      });
    });
  });
}

const SILENT = 'runc create failed without a word on stderr (conmon ended without reporting a pid)';

/** The container's pid from conmon's sync pipe text, or the error it (or its stderr) reported. */
function answerOf(reply: string, stderr: string, name: string): number | BerthError {
  const line = reply.split('\n').find((l) => l.trim().startsWith('{') && l.trim().endsWith('}'));
  let parsed: { data?: number; message?: string } | undefined;
  try {
    parsed = line ? (JSON.parse(line) as { data?: number; message?: string }) : undefined;
  } catch {
    parsed = undefined;
  }
  if (parsed?.data !== undefined && parsed.data > 0) return parsed.data;
  // conmon passes on what runc wrote on stderr, and sends nothing when runc wrote nothing (its
  // monitor's own stderr is /dev/null): a pipe closed without a word is such a runc.
  const why = (parsed?.message || conmonSaid(stderr) || SILENT).trim().split('\n').slice(-2).join('; ');
  return new BerthError('ERR_CREATE_FAILED', 'internal', `creating container ${name}: ${why}`);
}

/** conmon's stderr without its `[conmon:e]: ` marks. */
function conmonSaid(stderr: string): string {
  return stderr
    .split('\n')
    .map((l) => l.replace(/^\[conmon:[a-z]\]: /, '').trim())
    .filter(Boolean)
    .join('\n');
}

/** The same handshake, with conmon started by the daemon's spawn helper (spawn-helper.ts). */
async function createThroughHelper(h: SpawnHelper, o: ConmonOptions): Promise<number> {
  const timeoutMs = o.timeoutMs ?? HANDSHAKE_TIMEOUT_MS;
  let r: Awaited<ReturnType<SpawnHelper['handshake']>>;
  try {
    r = await h.handshake({
      argv: [o.bin ?? 'conmon', ...conmonArgs(o)],
      cwd: o.paths.dir,
      timeoutMs,
      env: conmonEnv(o.paths.dir),
    });
  } catch (err) {
    throw new BerthError('ERR_CONMON', 'internal', `starting conmon: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (r.why === 'timeout') {
    const failed = new BerthError(
      'ERR_CREATE_TIMEOUT',
      'unavailable',
      `creating container ${o.name}: conmon and runc did not report within ${timeoutMs / 1000} s (a mount source that hangs?)`,
    );
    try {
      await abandonHandshake(o, r.pid);
    } catch (err) {
      throw new BerthError(failed.code, failed.kind, failed.message, { cause: err });
    }
    throw failed;
  }
  const answer = answerOf(r.sync, r.stderr, o.name);
  if (typeof answer === 'number') return answer;
  throw answer;
}

/**
 * After a handshake that never came: kill conmon (the one started and the monitor it forked, by
 * its pid file) with everything under it, then remove the cgroups runc may have made (`runc
 * delete` cannot, when runc died before writing its state). A pid counts only while it is still a
 * process started for this container (its argv names the id): by now either pid may be reused.
 */
async function abandonHandshake(o: ConmonOptions, spawned: number | undefined): Promise<void> {
  let monitor = 0;
  try {
    monitor = Number(readFileSync(o.paths.conmonPidFile, 'utf8').trim()) || 0;
  } catch {
    // conmon never got as far as its pid file
  }
  const ours = [spawned ?? 0, monitor].filter((pid) => pid > 0 && isConmonOf(pid, o.id));
  if (!(await killTree(ours))) {
    throw new BerthError('ERR_CREATE_TIMEOUT', 'internal', `conmon of ${o.name} outlived SIGKILL`);
  }
  await removeContainerCgroups(o.id);
}
