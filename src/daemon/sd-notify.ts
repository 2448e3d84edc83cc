// systemd's notify protocol (sd_notify(3)) without libsystemd: `READY=1`, `STATUS=…`, `WATCHDOG=1`
// as datagrams to the socket NOTIFY_SOCKET names (a path, or `@name` for an abstract socket).
// Node cannot send unix datagrams, so each message goes through `systemd-notify --pid=<ours>`,
// which every systemd host has: the message is credited to berth's PID, not the helper's, so the
// unit needs no NotifyAccess=all and systemd-notify's exit race does not apply.
//
// Invariants: messages go out one at a time, in order; while one is being sent, plain updates
// (STATUS, WATCHDOG) coalesce, newer replacing older, so a slow helper never queues more than one
// of them; a milestone (READY, STOPPING) goes out as it was asked, with its own STATUS, never
// merged with what follows (a loaded host once sent STOPPING=1 with the later "stopped" status). A failure to notify is reported once and never stops the daemon.
// NOTIFY_SOCKET and the watchdog variables are removed from the environment once read, as
// sd_notify(unset_environment) does: conmon and runc must not inherit them.
import { spawn } from 'node:child_process';

export interface Notifier {
  /** `{ READY: '1', STATUS: '…' }` */
  notify(fields: Record<string, string>): void;
  /** Ping interval when the unit sets WatchdogSec= (half of it, as sd_watchdog_enabled(3) advises). */
  readonly watchdogMs: number | undefined;
  /** Resolves once every message asked for has been sent (or failed). */
  flush(): Promise<void>;
}

export interface NotifierOptions {
  env: Record<string, string | undefined>;
  pid: number;
  onError?(message: string): void;
  /** `systemd-notify` (a test may name another). */
  command?: string;
}

/** A NOTIFY_SOCKET worth sending to: an absolute path or an abstract name, no NUL, bounded. */
export function isNotifySocket(v: string | undefined): v is string {
  return v !== undefined && /^[/@][^\0]{1,106}$/.test(v);
}

/** The watchdog ping interval from WATCHDOG_USEC/WATCHDOG_PID, if it is meant for `pid`. */
export function watchdogInterval(env: Record<string, string | undefined>, pid: number): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isSafeInteger(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID !== undefined && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 2000));
}

/** None when systemd did not ask (no NOTIFY_SOCKET): then every call is a no-op to skip. */
export function createNotifier(o: NotifierOptions): Notifier | undefined {
  const socket = o.env.NOTIFY_SOCKET;
  const watchdogMs = watchdogInterval(o.env, o.pid);
  for (const name of ['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID']) delete o.env[name];
  if (!isNotifySocket(socket)) return undefined;
  /** Messages not sent yet: at most the milestones asked for and one plain update after them. */
  const queue: Array<Record<string, string>> = [];
  const milestone = (f: Record<string, string>) => 'READY' in f || 'STOPPING' in f;
  let sending: Promise<void> | undefined;
  let reported = false;

  const sendOne = (fields: Record<string, string>) =>
    new Promise<void>((resolve) => {
      // One line per value: a newline in STATUS would start another assignment.
      const args = Object.entries(fields).map(([k, v]) => `${k}=${v.replace(/[\r\n]+/g, ' ')}`);
      const child = spawn(o.command ?? 'systemd-notify', [`--pid=${o.pid}`, '--no-block', ...args], {
        env: { PATH: o.env.PATH ?? '/usr/bin:/bin', NOTIFY_SOCKET: socket },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (c: Buffer) => {
        if (err.length < 500) err += c.toString('utf8');
      });
      const fail = (why: string) => {
        if (!reported) o.onError?.(`cannot notify systemd on ${socket}: ${why}`);
        reported = true;
      };
      child.on('error', (e) => {
        fail(e.message);
        resolve();
      });
      child.on('close', (code) => {
        if (code !== 0) fail(err.trim() || `systemd-notify exited with ${code}`);
        resolve();
      });
    });

  const pump = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) await sendOne(next);
    sending = undefined;
  };

  return {
    watchdogMs,
    notify(fields) {
      const last = queue.at(-1);
      if (last && !milestone(last) && !milestone(fields)) Object.assign(last, fields);
      else queue.push({ ...fields });
      sending ??= pump();
    },
    flush: () => sending ?? Promise.resolve(),
  };
}
