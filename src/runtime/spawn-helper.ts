// A long-lived process that runs the runtime's short-lived tools (runc, mount, umount, iptables…)
// for the daemon. Forking from Node copies the page tables of the whole process, and the daemon's
// resident size grows with its pods (166 MB at 10, 300 MB at 300): each runc or mount cost more as
// pods were added. The helper is small (python3, ~10 MB, spawn-helper-script.ts) and forks with
// vfork, so a spawn costs the same whatever the daemon's size. Only the daemon holds the helper's
// stdin and stdout pipes; it runs what the daemon asks and nothing else (and makes a create's network
// namespace and rootfs overlay itself, with system calls: spawn-helper-syscalls.ts), and exits when its stdin
// closes (the daemon died), so it never outlives the daemon for long.
//
// A request not answered ANSWER_GRACE_MS past its timeout fails with ERR_SPAWN_HELPER; when the
// helper answered nothing else meanwhile it is taken as hung and killed. A helper that died (killed,
// OOM) fails the requests under way with ERR_SPAWN_HELPER and is started again at the next request.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { constants } from 'node:os';
import { createInterface } from 'node:readline';
import { BerthError } from '../lib/errors.js';
import { SPAWN_HELPER_SCRIPT } from './spawn-helper-script.js';

export interface SpawnRequest {
  argv: string[];
  cwd?: string;
  timeoutMs: number;
  /** The child's whole environment (the helper's when not given). */
  env?: Record<string, string>;
  /** Text written to the child's stdin, then closed (/dev/null when not given). */
  stdin?: string;
}

export interface SpawnOutcome {
  pid: number;
  code: number | null;
  signal: number | null;
  stdout: string;
  stderr: string;
  /** Why the helper killed the child: it ran past its time, or wrote more than 16 MiB. */
  why: null | 'timeout' | 'maxBuffer';
}

/** What a conmon-style start reported (spawn-helper-script.ts): its sync pipe's text so far. */
export interface HandshakeOutcome {
  pid: number;
  /** The exit code of the process started, null while it runs. */
  code: number | null;
  sync: string;
  stderr: string;
  why: null | 'timeout';
}

interface Pending {
  resolve(o: SpawnOutcome & HandshakeOutcome): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * How long past a request's own timeout the helper may take to answer (it kills the child at the
 * timeout and answers then): past it the request fails, and the helper, if it answered nothing
 * else meanwhile, is taken as hung, killed, and started again.
 */
export const ANSWER_GRACE_MS = 10_000;

/** What ended a child that failed, in the words execFile's error uses (messages read the same either way). */
export function howItEnded(o: {
  code: number | null;
  signal: number | string | null;
  why: SpawnOutcome['why'];
}): string {
  if (o.why === 'timeout') return 'timed out';
  if (o.why === 'maxBuffer') return 'wrote more than 16 MiB';
  if (o.signal === null) return `exited with code ${o.code}`;
  const name =
    typeof o.signal === 'number'
      ? (Object.entries(constants.signals).find(([, n]) => n === o.signal)?.[0] ?? o.signal)
      : o.signal;
  return `killed by signal ${name}`;
}

/** The helper's bound on a timeout: a day. */
export const MAX_HELPER_TIMEOUT_MS = 86_400_000;

/**
 * A timeout the helper accepts: a whole number of ms in 1..a day (a host config's
 * `createTimeoutSeconds: 100000` or `0.0004` is valid there; out of range, the helper would refuse
 * the request).
 */
export const helperTimeout = (ms: number) =>
  Number.isFinite(ms) ? Math.min(MAX_HELPER_TIMEOUT_MS, Math.max(1, Math.round(ms))) : MAX_HELPER_TIMEOUT_MS;

export class SpawnHelper {
  private child: ChildProcessWithoutNullStreams | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stopped = false;
  /** When the helper last answered anything (ms epoch). */
  private answeredAt = 0;
  /** Lets the current helper go: its requests fail, the next one starts another (ensure's `gone`). */
  private forget: ((why: string) => void) | undefined;

  constructor(
    private readonly python = 'python3',
    private readonly answerGraceMs = ANSWER_GRACE_MS,
  ) {}

  /** The helper's pid (starting it if it is not running). */
  pid(): number {
    return this.ensure().pid ?? 0;
  }

  run(req: SpawnRequest): Promise<SpawnOutcome> {
    return this.send(req);
  }

  /** Starts argv conmon's way (a new session, a sync pipe) and answers once it reported. */
  handshake(req: Omit<SpawnRequest, 'stdin'> & { env: Record<string, string> }): Promise<HandshakeOutcome> {
    const { env, ...rest } = req;
    return this.send({ ...rest, handshake: { env } });
  }

  /**
   * A network namespace bound at `path` (an empty file) with loopback up, made by the helper itself
   * (spawn-helper-script.ts): no process started. Rejects with the step that failed and its errno.
   */
  async makeNetns(path: string, timeoutMs = 60_000): Promise<void> {
    await this.exchange({ netns: path }, `a network namespace at ${path}`, timeoutMs);
  }

  /**
   * The namespace bound at `from` bound at `to` (an empty file) instead, by the helper itself
   * (spawn-helper-syscalls.ts): all or nothing. Rejects with the step that failed and its errno.
   */
  async rebindNetns(from: string, to: string, timeoutMs = 60_000): Promise<void> {
    await this.exchange(
      { rebind: { from, to } },
      `the network namespace at ${from} moved to ${to}`,
      timeoutMs,
    );
  }

  /**
   * `mount -t overlay overlay -o OPTIONS TARGET` run in `cwd`, done by the helper itself with
   * mount(2) (spawn-helper-syscalls.ts): no process started. Rejects with the errno.
   */
  async mountOverlay(o: { options: string; target: string; cwd: string }, timeoutMs = 60_000): Promise<void> {
    await this.exchange({ overlay: o }, `the overlay at ${o.target}`, timeoutMs);
  }

  private send(
    req: SpawnRequest & { handshake?: { env: Record<string, string> } },
  ): Promise<SpawnOutcome & HandshakeOutcome> {
    if (this.stopped) return Promise.reject(helperError('the spawn helper was stopped'));
    if (req.argv.length === 0) return Promise.reject(helperError('nothing to run'));
    const line = {
      argv: req.argv,
      cwd: req.cwd ?? null,
      timeoutMs: helperTimeout(req.timeoutMs),
      env: req.env ?? null,
      stdin: req.stdin?.toWellFormed() ?? null,
      handshake: req.handshake ?? null,
    };
    return this.exchange(line, req.argv[0] as string, req.timeoutMs);
  }

  /** One request line (given its id here) and its answer; `what` names it when none comes in time. */
  private exchange(
    req: Record<string, unknown>,
    what: string,
    timeoutMs: number,
  ): Promise<SpawnOutcome & HandshakeOutcome> {
    if (this.stopped) return Promise.reject(helperError('the spawn helper was stopped'));
    const child = this.ensure();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const deadline = Date.now() + helperTimeout(timeoutMs);
      const timer = setTimeout(
        () => {
          if (!this.pending.delete(id)) return;
          // Nothing answered since this request's deadline: the helper is hung, not only this child
          // (one stuck in the kernel, unkillable, holds its own request alone).
          const hung = this.child === child && this.answeredAt < deadline;
          reject(
            helperError(
              `the spawn helper did not answer for ${what} in time${hung ? ': killed, to be started again' : ''}`,
            ),
          );
          if (hung) {
            // Forgotten at once, its requests failed: its 'exit' may come late (a thread of it in
            // the kernel, uninterruptible, keeps it until that call returns), and every request
            // until then would go to it. The next one starts a new helper.
            child.kill('SIGKILL');
            this.forget?.('did not answer in time: killed');
          }
        },
        deadline + this.answerGraceMs - Date.now(),
      );
      this.pending.set(id, { resolve, reject, timer });
      child.ref();
      child.stdin.write(`${JSON.stringify({ id, ...req })}\n`);
    });
  }

  /** Closes the helper's stdin (it exits) and waits for it. */
  async stop(): Promise<void> {
    this.stopped = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((res) => child.once('exit', res));
    child.ref(); // an unref'd child would let this process exit before the helper is reaped
    child.stdin.end();
    await gone;
  }

  private ensure(): ChildProcessWithoutNullStreams {
    if (this.child) return this.child;
    // -I: no PYTHON* variables, no user site: nothing from the environment runs as root here.
    // detached: a terminal's ^C reaches the daemon (which stops cleanly), not the helper.
    const child = spawn(this.python, ['-I', '-c', SPAWN_HELPER_SCRIPT], {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    this.child = child;
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      stderr = (stderr + d).slice(-2000);
    });
    child.stdin.on('error', () => {}); // a dead helper: its 'exit' fails the requests
    // A helper let go (forget) may still write, or leave a cut line as it dies: not to the next one's.
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (this.child === child) this.settle(line);
    });
    const gone = (why: string) => {
      if (this.child !== child) return;
      this.child = undefined;
      child.unref(); // one killed but not yet gone (a thread in the kernel) holds no process open
      const err = helperError(`the spawn helper ${why}${stderr ? `: ${stderr.trim()}` : ''}`);
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.reject(err);
      }
      this.pending.clear();
    };
    this.forget = gone;
    child.once('error', (err) => gone(`could not start (${err.message})`));
    child.once('exit', (code, signal) => gone(`exited (${signal ?? code})`));
    child.unref(); // idle, it keeps nothing alive; run() refs it while requests are under way
    for (const s of [child.stdin, child.stdout, child.stderr]) (s as unknown as { unref?(): void }).unref?.();
    return child;
  }

  private settle(line: string): void {
    this.answeredAt = Date.now();
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      this.child?.kill('SIGKILL'); // not our helper's words: its 'exit' fails what is under way
      return;
    }
    const msg = parsed as { id: number; error?: string; errno?: number | null } & SpawnOutcome &
      HandshakeOutcome;
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    clearTimeout(p.timer);
    if (this.pending.size === 0) this.child?.unref();
    if (msg.error !== undefined) {
      const err = Object.assign(new Error(msg.error), { errno: msg.errno });
      p.reject(err);
      return;
    }
    const { id: _id, error: _e, errno: _n, ...outcome } = msg;
    p.resolve(outcome);
  }
}

function helperError(message: string): BerthError {
  return new BerthError('ERR_SPAWN_HELPER', 'internal', message);
}
