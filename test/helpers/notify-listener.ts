// A stand-in for systemd's end of the notify protocol: a unix datagram socket (a path, or an
// abstract name) that records each datagram with the PID the kernel says sent it (SCM_CREDENTIALS).
// Node has no unix datagram sockets, so python3 listens and reports one JSON line per datagram.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const LISTENER = `
import json, socket, struct, sys
addr = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind('\\0' + addr[1:] if addr.startswith('@') else addr)
print(json.dumps({"listening": True}), flush=True)
while True:
    data, anc, flags, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
    pid = None
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack('iii', payload[:12])[0]
    print(json.dumps({"pid": pid, "data": data.decode('utf8', 'replace')}), flush=True)
`;

export interface NotifyMessage {
  pid: number | null;
  fields: Record<string, string>;
}

export interface NotifyListener {
  /** The NOTIFY_SOCKET value. */
  socket: string;
  messages: NotifyMessage[];
  /** The first message that `match` accepts, waiting up to `timeoutMs` for it. */
  waitFor(match: (m: NotifyMessage) => boolean, timeoutMs?: number): Promise<NotifyMessage>;
  close(): void;
}

export async function startNotifyListener(o: { dir: string; abstract?: boolean }): Promise<NotifyListener> {
  const name = `berth-test-${randomBytes(6).toString('hex')}`;
  const socket = o.abstract ? `@${name}` : join(o.dir, `${name}.sock`);
  const child: ChildProcess = spawn('python3', ['-c', LISTENER, socket], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // A test that fails before its close() must not leave the listener holding the test process (and
  // the run) open: it goes with the test process whatever happens.
  const stop = () => child.kill();
  process.once('exit', stop);
  child.unref();
  (child.stdout as unknown as { unref?(): void }).unref?.();
  child.once('exit', () => process.removeListener('exit', stop));
  const messages: NotifyMessage[] = [];
  const waiters = new Set<() => void>();
  let listening: () => void = () => {};
  const up = new Promise<void>((resolve, reject) => {
    listening = resolve;
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`notify listener exited with ${code}`)));
  });
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    const v = JSON.parse(line) as { listening?: boolean; pid: number | null; data: string };
    if (v.listening) return listening();
    const fields: Record<string, string> = {};
    for (const l of v.data.split('\n')) {
      const eq = l.indexOf('=');
      if (eq > 0) fields[l.slice(0, eq)] = l.slice(eq + 1);
    }
    messages.push({ pid: v.pid, fields });
    for (const w of waiters) w();
  });
  await up;
  return {
    socket,
    messages,
    waitFor(match, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = messages.find(match);
          if (!found) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching notify message in ${timeoutMs} ms; got ${JSON.stringify(messages)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close() {
      child.kill();
    },
  };
}
