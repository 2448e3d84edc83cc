// Mounting a volume's subPath, and a host path, race-free. A host path (a pod's hostPath, `-v`, a
// pod's own directories) is opened by descriptors and checked on the descriptor
// (host-path-open.ts); a subPath is opened inside its volume (sub-path.ts). Either way the fd
// itself is bind-mounted onto a staging point in the bundle (`<bundle>/subpaths/<i>`, root-only,
// never visible to a container); runc is then given the staging path. A path renamed or replaced
// by a link after the check is not what runc mounts: the staging point holds the inode checked.
//
// Why staging and not `/proc/<berth pid>/fd/N` as runc's source: the mount made here comes from
// the fd we checked (mount(2) on `/proc/self/fd/3` jumps to the open file, no path is looked up
// again), and runc then binds a path no container can change. A `/proc/<pid>/fd/N` string handed
// to runc is only right while this process lives and keeps exactly that fd: if berth died or gave
// up on a hung create, the pid or the fd number could name something else by the time runc looks.
// The staging bind is of the source's own mount, so it is in its peer group: mountPropagation
// (HostToContainer, Bidirectional) works through it as it does through the path.
//
// The staging mounts exist only while runc creates the container (its mount namespace keeps its
// own copy), in a staging directory that is a private mount of its own, so that none of them is
// propagated to the host's other mount namespaces (staging-dir.ts, which also unmounts them).
import { spawn } from 'node:child_process';
import { closeSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError } from '../lib/errors.js';
import { makeDirs } from '../lib/make-dirs.js';
import { openDataSubPath } from './config-volumes.js';
import { openBindSource } from './host-path-open.js';
import type { ContainerMount } from './spec.js';
import { openStagingDir } from './staging-dir.js';
import { type OpenedSubPath, openSubPath, openSubPathIn } from './sub-path.js';

/**
 * Every bind mount of a host path and every mount with a subPath, opened, checked and staged:
 * returned with the staging path as its source and no subPath. Other mounts (tmpfs, a berth volume
 * or config volume without a subPath) are returned as they are. `staged` gets each staging path as
 * soon as it is mounted (so the caller can undo a partial run); `container` names the container in errors.
 */
export async function stageMountSources(
  mounts: ContainerMount[],
  bundleDir: string,
  staged: string[],
  container: string,
): Promise<ContainerMount[]> {
  const out: ContainerMount[] = [];
  for (const [i, m] of mounts.entries()) {
    const hostBind = m.kind === 'bind' && !m.dataLink;
    if (m.subPath === undefined && !hostBind) {
      out.push(m);
      continue;
    }
    if (m.kind === 'tmpfs')
      throw new BerthError('ERR_SUBPATH_UNSAFE', 'invalid', 'a tmpfs mount has no subPath');
    if (m.kind === 'volume') await makeDirs(m.source);
    const { subPath, dataLink, hostPathType, ...rest } = m;
    const opened = hostBind ? openHostBind(m, container) : await openVolumeSubPath(m);
    try {
      const target = join(await openStagingDir(bundleDir, staged), String(i));
      if (opened.isDirectory) await mkdir(target, 0o700);
      else await writeFile(target, '', { mode: 0o600 });
      await bindFd(opened.fd, target);
      staged.push(target);
      out.push({ ...rest, source: target });
    } finally {
      closeSync(opened.fd);
    }
  }
  return out;
}

/** A host path's bind source, and its subPath inside it when it has one. */
function openHostBind(m: ContainerMount, container: string): OpenedSubPath {
  const root = openBindSource(m, container);
  if (m.subPath === undefined) return root;
  try {
    return openSubPathIn(root.fd, m.source, m.subPath);
  } finally {
    closeSync(root.fd);
  }
}

// A config volume's files live in its current `..<stamp>` (an update swaps `..data`): the subPath
// binds that content, which, as in Kubernetes, no later update changes.
async function openVolumeSubPath(m: ContainerMount): Promise<OpenedSubPath> {
  return m.dataLink
    ? openDataSubPath(m.source, m.subPath as string)
    : openSubPath(m.source, m.subPath as string);
}

/** `mount --rbind` of an open fd: mount(8) gets it as its fd 3 and is told not to canonicalize it. */
function bindFd(fd: number, target: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('mount', ['--no-canonicalize', '--rbind', '/proc/self/fd/3', target], {
      stdio: ['ignore', 'ignore', 'pipe', fd],
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => {
      stderr += d;
    });
    child.once('error', (err) =>
      reject(new BerthError('ERR_SUBPATH_MOUNT', 'internal', `mount: ${err.message}`, { cause: err })),
    );
    child.once('close', (code) => {
      if (code === 0) return resolve();
      reject(
        new BerthError(
          'ERR_SUBPATH_MOUNT',
          'internal',
          `binding a mount source onto ${target}: ${stderr.trim()}`,
        ),
      );
    });
  });
}
