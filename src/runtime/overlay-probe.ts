// Whether overlayfs takes directories of a file system as a container's upper and work directories.
// Not every file system a --root lands on does: overlayfs itself (a Raspberry Pi's overlay root, a
// root inside a container), NFS, FAT, some FUSE file systems; the kernel then refuses the rootfs
// mount with nothing but EINVAL (its reason goes to dmesg). Only the kernel knows its own rule, so
// it is asked: a tiny overlay is mounted in `<dir>/.overlay-probe-<owner>-<rand>/` (a name no
// container id takes, so no sweep of containers/ touches it) and taken away again. A probe whose
// berth was killed mid-way (its overlay perhaps still mounted) is taken away by the next probe: one
// is made whenever no answer is kept, and a killed probe keeps none.
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { errnoCode } from '../lib/errors.js';
import { makeDirs } from '../lib/make-dirs.js';
import { openRegular } from '../lib/open-regular.js';
import { isOwnerAlive, OWNER_PATTERN, ownerToken } from '../lib/process.js';
import { readBounded } from '../lib/read-bounded.js';
import { writeFileAtomic } from '../lib/write-atomic.js';
import { MOUNT2_ENV } from './lower-links.js';
import { runTool } from './tool.js';

export interface OverlayRefusal {
  /** The file system's type, as `stat -f` names it (overlayfs, nfs, msdos…). */
  fsType: string;
  /** What mount said. */
  said: string;
}

/**
 * undefined when an overlay with its upper in `dir` mounts (or when `dir` cannot be written at all:
 * that fails on its own, with its own error); else what refused it.
 */
export async function probeOverlayUpper(dir: string): Promise<OverlayRefusal | undefined> {
  await sweepStaleProbes(dir);
  const probe = join(dir, `.overlay-probe-${ownerToken()}-${randomBytes(4).toString('hex')}`);
  try {
    for (const d of ['lower', 'upper', 'work', 'merged']) await mkdir(join(probe, d), { recursive: true });
  } catch (err) {
    await rm(probe, { recursive: true, force: true }).catch(() => undefined);
    if (['EROFS', 'ENOSPC', 'EACCES', 'EPERM', 'EDQUOT', 'ENOENT'].includes(errnoCode(err) ?? ''))
      return undefined;
    throw err;
  }
  try {
    // Named from the probe's directory, where the mount runs, as a rootfs's are (lower-links.ts): in
    // full, three paths of a --root past ~1.3 KB passed mount(2)'s page, and the probe's refusal
    // made native snapshots of a file system overlayfs takes.
    const options = 'lowerdir=lower,upperdir=upper,workdir=work';
    try {
      await runTool('mount', ['-t', 'overlay', 'overlay', '-o', options, join(probe, 'merged')], 'probe', {
        cwd: probe,
        env: { ...MOUNT2_ENV },
      });
    } catch (err) {
      const said = err instanceof Error ? err.message : String(err);
      const fsType = (await runTool('stat', ['-f', '-c', '%T', dir], 'probe')).stdout.trim();
      return { fsType, said };
    }
    // Its answer is had: an unmount that fails (a daemon's shutdown cut it short) leaves at most a
    // probe the next one sweeps, never an error for the command that asked.
    await runTool('umount', [join(probe, 'merged')], 'probe')
      .catch(() => runTool('umount', ['-l', join(probe, 'merged')], 'probe'))
      .catch(() => undefined);
    return undefined;
  } finally {
    await rm(probe, { recursive: true, force: true }).catch(() => undefined);
  }
}

const PROBE = new RegExp(`^\\.overlay-probe-(${OWNER_PATTERN})-[0-9a-f]{8}$`);

/** Probes of berths no longer running: their overlay unmounted (lazily: it may be busy), then removed. */
export async function sweepStaleProbes(dir: string, isAlive = isOwnerAlive): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const n of names) {
    const owner = PROBE.exec(n)?.[1];
    if (owner === undefined || isAlive(owner)) continue;
    const merged = join(dir, n, 'merged');
    await runTool('umount', ['-l', merged], 'probe').catch(() => undefined); // not mounted: nothing to do
    await rm(join(dir, n), { recursive: true, force: true }).catch(() => undefined);
  }
}

/**
 * The version of the probe whose answers are kept: raised whenever a probe that could answer
 * wrongly is fixed, so no answer of the old one is trusted. v2: the probe's options in full passed
 * mount(2)'s page under a long --root, and a `refused` kept by such a berth held native snapshots
 * (a copy of the tree per layer) until the next boot. Answers of v1 were kept as `<dev>-<ino>`
 * (dropOlderAnswers takes them away).
 */
export const PROBE_VERSION = 2;

/** Where the probe's answer for `root`'s file system and directory is kept in `state`. */
export function probeAnswerPath(state: string, st: { dev: number; ino: number }): string {
  return join(state, 'overlay-probe', `v${PROBE_VERSION}-${st.dev}-${st.ino}`);
}

/**
 * Whether overlayfs refuses an upper directory in `root`. A probe costs a mount and an unmount (a
 * tenth of a second and more), so its answer is kept in `<state>/overlay-probe/v<N>-<dev>-<ino>`
 * (the probe's version, then the root's file system and directory: another file system mounted
 * there is asked again; `--state` is emptied at boot, and a kernel update comes with one).
 * Unwritable state: asked every time.
 */
export async function overlayRefusedAt(root: string, state: string): Promise<boolean> {
  const file = probeAnswerPath(state, await stat(root));
  const known = await readFile(file, 'utf8').catch(() => '');
  if (known === 'ok\n' || known === 'refused\n') return known === 'refused\n';
  const refused = (await probeOverlayUpper(root)) !== undefined;
  await makeDirs(dirname(file), 0o700)
    .then(() => writeFileAtomic(file, refused ? 'refused\n' : 'ok\n', 0o600))
    .then(() => dropOlderAnswers(dirname(file)))
    .catch(() => undefined);
  return refused;
}

/** The name v1 kept its answers under (`<dev>-<ino>`), which no berth since reads. */
const V1_ANSWER = /^[0-9]+-[0-9]+$/;

/**
 * The answers older probes kept in `dir` (v1's `<dev>-<ino>`), taken away when this version keeps
 * its own (once per boot and --root): no berth reads them any more, and they stayed until a reboot
 * emptied --state. Only what berth wrote goes: a regular file, never followed if it is a symlink,
 * holding `ok` or `refused` and nothing else; anything else of such a name is left as it is.
 */
async function dropOlderAnswers(dir: string): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!V1_ANSWER.test(name)) continue;
    const path = join(dir, name);
    const { handle } = await openRegular(path, { noFollow: true, check: (st) => st.size <= 8n }).catch(
      () => ({ handle: undefined }),
    );
    if (!handle) continue;
    const held = await handle.stat().catch(() => undefined);
    const text = await readBounded(handle, 8)
      .catch(() => undefined)
      .finally(() => handle.close());
    if (text?.toString() !== 'ok\n' && text?.toString() !== 'refused\n') continue;
    // The file read, not one put at its name since (unlink never takes a directory).
    const now = await lstat(path).catch(() => undefined);
    if (held && now && now.dev === held.dev && now.ino === held.ino)
      await unlink(path).catch(() => undefined);
  }
}
