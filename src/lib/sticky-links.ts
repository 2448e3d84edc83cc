// A path berth follows as root on the host (a hostPath, which the kubelet follows through links) is
// resolved as the kernel resolves it with fs.protected_symlinks=1, whatever the sysctl says: a
// symlink in a sticky directory every user can write (/tmp, /dev/shm, /var/tmp) is followed only when
// root or that directory's owner made it. One a local user planted there, where berth would make
// or mount a path, would otherwise redirect root's write or mount to a place of that user's choosing.
// Links elsewhere are followed as given (a directory only its owner can write is that owner's choice).
import { lstatSync, readlinkSync, statSync } from 'node:fs';
import { dirname, isAbsolute, sep } from 'node:path';
import { BerthError, errnoCode } from './errors.js';

const MAX_LINKS = 40; // the kernel's own bound

/** The first link of `path` the kernel's protected_symlinks rule would refuse root, as `link in dir`, or undefined. */
export function stickyLinkIn(path: string): { link: string; owner: number; dir: string } | undefined {
  // Never normalised as text: `link/..` is the parent of where the link leads, as the kernel (and
  // runc's mount) walk it, so each `..` is taken only once the links before it are followed.
  const absolute = isAbsolute(path) ? path : `${process.cwd()}${sep}${path}`;
  let todo = absolute.split(sep).filter((p) => p !== '' && p !== '.');
  let at: string = sep;
  for (let links = 0; todo.length > 0; ) {
    const part = todo.shift() as string;
    if (part === '..') {
      at = dirname(at);
      continue;
    }
    const next = at === sep ? `${sep}${part}` : `${at}${sep}${part}`;
    let st: ReturnType<typeof lstatSync>;
    try {
      st = lstatSync(next);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined; // made by berth, or missing
      throw err;
    }
    if (!st.isSymbolicLink()) {
      at = next;
      continue;
    }
    const parent = statSync(at);
    const open = (parent.mode & 0o1002) === 0o1002; // sticky and writable by every user
    if (open && st.uid !== 0 && st.uid !== parent.uid) return { link: next, owner: st.uid, dir: at };
    if (++links > MAX_LINKS) return undefined; // ELOOP: the mount fails on its own
    const target = readlinkSync(next);
    if (isAbsolute(target)) at = sep;
    todo = [...target.split(sep).filter((p) => p !== '' && p !== '.'), ...todo];
  }
  return undefined;
}

/**
 * The one check every host path berth binds goes through (a pod's hostPath, `container create -v`,
 * the API's create): ERR_HOSTPATH_UNSAFE when `stickyLinkIn` finds a link it must not follow.
 * `what` names the path for the message ("pod web: hostPath /tmp/x").
 */
export function refuseStickyLink(path: string, what: string): void {
  const planted = stickyLinkIn(path);
  if (!planted) return;
  throw new BerthError(
    'ERR_HOSTPATH_UNSAFE',
    'forbidden',
    `${what}: ${planted.link} is a symlink of uid ${planted.owner} in ${planted.dir}, a sticky directory every user can write: not followed`,
    {
      hint: 'as the kernel refuses it under fs.protected_symlinks=1: give a path outside it, or remove the link',
    },
  );
}
