// Shifted copies of an image's snapshots for a `hostUsers: false` pod (runc 1.1 has no idmapped
// mounts): `<pod home>/shifted/<chainID hex>/`, a `cp -a` of the snapshot whose every uid and gid
// is moved up by the pod's base, made once per snapshot and pod, published by rename, and removed
// with the pod's directory (so with its ID range).
//
// The walk is one python3 process (Node has neither lchown-by-dirfd nor xattrs): it never follows a
// symlink (fwalk without following; lchown on the entry through its parent's fd), shifts a hard-
// linked inode once, puts back the setuid/setgid bits chown clears, and rewrites file capabilities
// as v3 with the pod's root as their owner (a v2 capability would not apply inside the namespace,
// and chown drops it). An ID outside 0–65535 cannot be mapped: like podman ("insufficient UIDs or
// GIDs available in user namespace"), the copy fails naming the file and the ID.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { BerthError, errnoCode } from '../lib/errors.js';
import { makeDirs } from '../lib/make-dirs.js';
import { copyTree } from '../snapshot/copy-tree.js';
import type { IdRange } from './id-range.js';

const SCRIPT = `
import os, stat, struct, sys
root, base, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
CAP = 'security.capability'
seen = set()
def shift_caps(path, value):
    magic = struct.unpack_from('<I', value)[0]
    rev = magic & 0xff000000
    if rev == 0x02000000 and len(value) >= 20:
        return struct.pack('<I', 0x03000000 | (magic & 0xffffff)) + value[4:20] + struct.pack('<I', base)
    if rev == 0x03000000 and len(value) >= 24:
        rootid = struct.unpack_from('<I', value, 20)[0]
        if rootid >= size:
            raise ValueError('%s: file capabilities owned by uid %d' % (path, rootid))
        return value[:20] + struct.pack('<I', base + rootid)
    return None
def shift(rel, name, fd):
    st = os.stat(name, dir_fd=fd, follow_symlinks=False)
    key = (st.st_dev, st.st_ino)
    if key in seen:
        return
    seen.add(key)
    for what, i in (('uid', st.st_uid), ('gid', st.st_gid)):
        if i >= size:
            raise ValueError('/%s is owned by %s %d, outside the pod user namespace 0-%d' % (os.fsdecode(rel), what, i, size - 1))
    link = stat.S_ISLNK(st.st_mode)
    proc = b'/proc/self/fd/%d/%s' % (fd, name) if fd is not None else name
    caps = None
    if not link:
        try:
            caps = os.getxattr(proc, CAP, follow_symlinks=False)
        except OSError:
            caps = None
    os.chown(name, st.st_uid + base, st.st_gid + base, dir_fd=fd, follow_symlinks=False)
    if not link:
        os.chmod(name, stat.S_IMODE(st.st_mode), dir_fd=fd)
        if caps:
            v3 = shift_caps(rel, caps)
            if v3:
                os.setxattr(proc, CAP, v3, follow_symlinks=False)
try:
    top = os.fsencode(root)
    shift(b'', top, None)
    for dirpath, dirnames, filenames, dirfd in os.fwalk(top, follow_symlinks=False):
        rel = os.path.relpath(dirpath, top)
        for n in dirnames + filenames:
            shift(n if rel == b'.' else rel + b'/' + n, n, dirfd)
except (OSError, ValueError) as e:
    sys.stderr.write(str(e))
    sys.exit(1)
`;

/** Python in isolated mode without site: nothing from the environment changes what it runs. */
function shiftInPlace(dir: string, range: IdRange): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn('python3', ['-I', '-S', '-c', SCRIPT, dir, String(range.base), String(range.size)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    c.stderr.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-2000);
    });
    c.on('error', reject);
    c.on('exit', (code) => {
      if (code === 0) return resolve();
      const outside = err.includes('outside the pod user namespace');
      reject(
        new BerthError(
          outside ? 'ERR_USERNS_IMAGE_IDS' : 'ERR_USERNS_SHIFT',
          outside ? 'invalid' : 'internal',
          outside
            ? `the image cannot run with hostUsers: false: ${err.trim()}`
            : `shifting the owners of ${dir} by ${range.base}: ${err.trim() || `python3 exited with ${code}`}`,
        ),
      );
    });
  });
}

/** The shifted copy of snapshot `fs` (its `<snapshot>/fs` path) for `range`, made if missing. */
export async function shiftedSnapshot(podHome: string, fs: string, range: IdRange): Promise<string> {
  const dir = join(podHome, 'shifted');
  const dest = join(dir, basename(dirname(fs)));
  const tmp = join(dir, `.tmp-${randomBytes(6).toString('hex')}`);
  await makeDirs(dir, 0o700);
  try {
    await rename(dest, dest); // exists: made before (a rename onto itself changes nothing)
    return dest;
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
  try {
    await makeDirs(tmp, 0o700);
    await copyTree(fs, tmp);
    await shiftInPlace(tmp, range);
    try {
      await rename(tmp, dest);
    } catch (err) {
      // Another container of the pod published it first: the same content, ours goes.
      if (!['ENOTEMPTY', 'EEXIST'].includes(errnoCode(err) ?? '')) throw err;
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return dest;
}
