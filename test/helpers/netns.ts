// Network namespaces for e2e tests that run berth as if on another host: commands and node scripts
// run in a namespace made with `ip netns add` (HTTP client and server for traffic checks), and a
// holder process whose mount namespace gives berth that namespace's view of /sys/class/net and an
// /etc/resolv.conf of the test's. Nothing here touches the real host's network.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';

export const nsPath = (ns: string) => `/run/netns/${ns}`;
/** A command's stdout, run in namespace `ns` (its network only: mounts stay the host's). */
export const inNs = (ns: string, cmd: string, ...args: string[]) =>
  execFileSync('nsenter', [`--net=${nsPath(ns)}`, cmd, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  }).toString();

/** Runs a node script in namespace `ns`; resolves to its stdout. */
export function nodeIn(ns: string, script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('nsenter', [`--net=${nsPath(ns)}`, process.execPath, '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('error', reject);
    child.on('close', () => resolve(out));
  });
}

/** What a GET of `url` from namespace `ns` answers: the body, or `ERR <code>`. */
export const getFrom = (ns: string, url: string) =>
  nodeIn(
    ns,
    `fetch(${JSON.stringify(url)}, {signal: AbortSignal.timeout(5000)}).then((r) => r.text())` +
      '.then((t) => process.stdout.write(t), (e) => process.stdout.write("ERR " + (e.cause?.code ?? e.name)))',
  );

/** An HTTP server in namespace `ns` on `addr:port` answering `from <client address>`; resolves once it listens. */
export function serveIn(ns: string, addr: string, port: number): Promise<ChildProcess> {
  const script =
    "require('node:http').createServer((q, s) => s.end('from ' + q.socket.remoteAddress))" +
    `.listen(${port}, ${JSON.stringify(addr)}, () => console.log('listening'))`;
  const child = spawn('nsenter', [`--net=${nsPath(ns)}`, process.execPath, '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout?.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`server in ${ns} exited ${code}`)));
  });
}

/**
 * A process holding a mount namespace of its own inside namespace `ns`, where the namespace's
 * links show at /sys/class/net: berth reads bridges' ports there (network/host-rules.ts), and a
 * sysfs shows the links of the namespace that mounted it, so under `nsenter --net` alone berth
 * would see the real host's links (no bridge: its rules removed at the first pod removal). Only
 * the two net folders are bound from a sysfs mounted in the namespace; the rest of /sys (cgroups)
 * stays. Its /etc/resolv.conf is `resolv` (printf's escapes). Mounts berth makes land in this namespace; SIGKILL ends it with them.
 */
export function startHolder(ns: string, work: string, resolv: string): Promise<ChildProcess> {
  const sys = join(work, 'sys');
  const script =
    `set -e; mkdir -p ${sys}; mount -t sysfs sysfs ${sys}; ` +
    `mount --bind ${sys}/class/net /sys/class/net; mount --bind ${sys}/devices/virtual/net /sys/devices/virtual/net; ` +
    `printf '${resolv}' > ${work}/resolv.conf; mount --bind ${work}/resolv.conf /etc/resolv.conf; ` +
    'echo ready; exec sleep 1000000';
  const child = spawn(
    'nsenter',
    [`--net=${nsPath(ns)}`, 'unshare', '-m', '--propagation', 'private', 'sh', '-c', script],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    child.stdout?.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`mount holder exited ${code}`)));
  });
}
