// A hostUsers: false pod's user namespace, made by berth beside the pod's network namespace and
// owning it: `<state>/netns/userns/pod-<name>`, bind-mounted as the netns is, mapped to the pod's ID
// range. Every container of the pod joins it (one user namespace per pod, as in Kubernetes).
//
// Why berth makes it and not runc: runc 1.1 joins a user namespace before every other one
// (nsexec.c), so an exec, which joins them all, is refused a network namespace the host's user
// namespace owns ("error executing setns process"), and so are namespaced sysctls. Owned by the
// pod's namespace, the netns (and so its sysfs and net.* sysctls) is the pod's root's as well.
//
// How: `unshare --user --net` makes both and waits on its stdin while the host writes the mapping
// (root may write any mapping of a child namespace; util-linux would need newuidmap for it), brings
// loopback up and binds both to their files (util-linux's own binding is refused for a netns a new
// user namespace owns).
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { BerthError } from '../lib/errors.js';
import { makeDirs } from '../lib/make-dirs.js';
import { removeNetns } from './netns.js';
import { isMountPoint } from './rootfs.js';
import { runTool } from './tool.js';

const READY_WITHIN_MS = 10_000;

/** The pod's user namespace file, kept beside its netns file (`netns/pod-<name>`). */
export const podUsernsFileOf = (netnsPath: string) => join(dirname(netnsPath), 'userns', basename(netnsPath));

/**
 * A pod container's user namespace: the pod's to join, with its mapping, when its sandbox has one
 * (one set up before berth made them has not: the container then gets its own, as it did).
 */
export async function podIdMap(range: { base: number; size: number }, netnsPath: string | undefined) {
  const path = netnsPath && podUsernsFileOf(netnsPath);
  return { hostId: range.base, size: range.size, ...(path && (await isMountPoint(path)) ? { path } : {}) };
}

/** `uid_map`/`gid_map` text: the namespace's 0…size-1 are the host's hostId…hostId+size-1. */
export const idMapText = (hostId: number, size: number) => `0 ${hostId} ${size}\n`;

/**
 * Makes the pod's user namespace and, owned by it, its network namespace (loopback up). The netns
 * file is bound last: once it is a namespace, the rest of it is there (a berth killed before then
 * leaves files that the next setup makes again).
 */
export async function createPodNamespaces(
  usernsPath: string,
  netnsPath: string,
  range: { base: number; size: number },
): Promise<void> {
  const what = `creating the pod's user and network namespaces ${usernsPath}, ${netnsPath}`;
  const tool = (cmd: string, args: string[]) => runTool(cmd, args, what, { code: 'ERR_NETNS' });
  await removeNetns(usernsPath); // one a crash left, mounted or not: it owns no live netns
  try {
    for (const path of [usernsPath, netnsPath]) {
      await makeDirs(dirname(path));
      await writeFile(path, '', { flag: 'wx' });
    }
    await whileHeld(what, async (proc) => {
      const map = idMapText(range.base, range.size);
      await writeFile(`${proc}/uid_map`, map);
      await writeFile(`${proc}/gid_map`, map);
      await tool('nsenter', [`--net=${proc}/ns/net`, 'ip', 'link', 'set', 'lo', 'up']);
      await tool('mount', ['--bind', `${proc}/ns/user`, usernsPath]);
      await tool('mount', ['--bind', `${proc}/ns/net`, netnsPath]);
    });
  } catch (err) {
    await removeNetns(netnsPath);
    await removeNetns(usernsPath);
    throw err;
  }
}

/**
 * Runs `work` with `/proc/<pid>` of a process in a new user and network namespace, which waits
 * on its stdin meanwhile (`sh` runs as the new namespace's overflow ID, unmapped yet).
 */
async function whileHeld(what: string, work: (proc: string) => Promise<void>): Promise<void> {
  const child = spawn('unshare', ['--user', '--net', '--', 'sh', '-c', 'echo ready; read -r _'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let said = '';
  child.stderr.on('data', (d: Buffer) => {
    said = (said + d.toString()).slice(-1000);
  });
  const ended = new Promise<'ended'>((resolve) => {
    child.once('close', () => resolve('ended'));
    child.once('error', (err) => {
      said ||= err.message;
      resolve('ended');
    });
  });
  try {
    const ready = await Promise.race([
      new Promise<'ready'>((resolve) => child.stdout.once('data', () => resolve('ready'))),
      ended,
      delayed(READY_WITHIN_MS),
    ]);
    if (ready !== 'ready')
      throw new BerthError('ERR_NETNS', 'internal', `${what}: unshare: ${said.trim() || 'it did not start'}`);
    await work(`/proc/${child.pid}`);
  } catch (err) {
    if (err instanceof BerthError) throw err;
    throw new BerthError('ERR_NETNS', 'internal', `${what}: ${err}`, { cause: err });
  } finally {
    child.stdin.end(); // its `read` ends, and so does it
    if ((await Promise.race([ended, delayed(READY_WITHIN_MS)])) === 'late') child.kill('SIGKILL');
  }
}

const delayed = (ms: number) => new Promise<'late'>((resolve) => setTimeout(resolve, ms, 'late').unref());
