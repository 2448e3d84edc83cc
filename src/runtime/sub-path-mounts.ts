// Mounting a volume's subPath race-free. The subPath is opened inside its volume (sub-path.ts),
// and the fd itself is bind-mounted onto a staging point in the bundle (`<bundle>/subpaths/<i>`,
// root-only, never visible to a container); runc is then given the staging path.
//
// Why staging and not `/proc/<berth pid>/fd/N` as runc's source: the mount made here comes from
// the fd we checked (mount(2) on `/proc/self/fd/3` jumps to the open file, no path is looked up
// again), and runc then binds a path no container can change. A `/proc/<pid>/fd/N` string handed
// to runc is only right while this process lives and keeps exactly that fd: if berth died or gave
// up on a hung create, the pid or the fd number could name something else by the time runc looks.
//
// The staging mounts exist only while runc creates the container (its mount namespace keeps its
// own copy); they are unmounted right after, and `releaseSubPathMounts` unmounts any left by a crash
// before a bundle is removed (a recursive rm would otherwise walk into the volume).
import { spawn } from 'node:child_process';
import { closeSync } from 'node:fs';
import { mkdir, readdir, realpath, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError } from '../lib/errors.js';
import { makeDirs } from '../lib/make-dirs.js';
import { readMountPoints } from '../lib/mountinfo.js';
import { currentDataDir } from './config-volumes.js';
import type { ContainerMount } from './spec.js';
import { openSubPath } from './sub-path.js';
import { runTool } from './tool.js';

/** The bundle's staging directory for subPath mounts. */
export function subPathStagingDir(bundleDir: string): string {
  return join(bundleDir, 'subpaths');
}

/**
 * Every mount with a subPath, resolved and staged: returned with the staging path as its source
 * and no subPath. Mounts without one are returned as they are. `staged` gets each staging path
 * as soon as it is mounted (so the caller can undo a partial run).
 */
export async function stageSubPathMounts(
  mounts: ContainerMount[],
  bundleDir: string,
  staged: string[],
): Promise<ContainerMount[]> {
  const out: ContainerMount[] = [];
  for (const [i, m] of mounts.entries()) {
    if (m.subPath === undefined) {
      out.push(m);
      continue;
    }
    if (m.kind === 'tmpfs')
      throw new BerthError('ERR_SUBPATH_UNSAFE', 'invalid', 'a tmpfs mount has no subPath');
    if (m.kind === 'volume') await makeDirs(m.source);
    const { subPath, dataLink, ...rest } = m;
    // A config volume's files live in its current `..<stamp>` (an update swaps `..data`): the
    // subPath binds that content, which, as in Kubernetes, no later update changes.
    const opened = openSubPath(dataLink ? await currentDataDir(m.source) : m.source, subPath);
    try {
      const target = join(subPathStagingDir(bundleDir), String(i));
      await makeDirs(subPathStagingDir(bundleDir), 0o700);
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
        new BerthError('ERR_SUBPATH_MOUNT', 'internal', `binding a subPath onto ${target}: ${stderr.trim()}`),
      );
    });
  });
}

/** Unmount the staging points given (a busy one lazily). */
export async function unmountStaged(targets: string[]): Promise<void> {
  for (const t of [...targets].reverse()) {
    try {
      await runTool('umount', [t], `unmounting ${t}`);
    } catch {
      await runTool('umount', ['-l', t], `unmounting ${t}`); // throws: never leave a bind for rm -r to cross
    }
  }
}

/** Unmount whatever is still mounted under a bundle's staging directory (left by a crash). */
export async function releaseSubPathMounts(bundleDir: string): Promise<void> {
  const dir = subPathStagingDir(bundleDir);
  const entries = await readdir(dir).catch(() => [] as string[]);
  if (entries.length === 0) return;
  const mounted = new Set(await readMountPoints());
  const real = await realpath(dir);
  await unmountStaged(entries.map((e) => join(real, e)).filter((t) => mounted.has(t)));
}
