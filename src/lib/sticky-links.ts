// A path berth follows as root on the host (a hostPath, which the kubelet follows through links) is
// resolved as the kernel resolves it with fs.protected_symlinks=1, whatever the sysctl says: a
// symlink in a sticky directory every user can write (/tmp, /dev/shm, /var/tmp) is followed only when
// root or that directory's owner made it. One a local user planted there, where berth would make
// or mount a path, would otherwise redirect root's write or mount to a place of that user's choosing.
// Links elsewhere are followed as given (a directory only its owner can write is that owner's choice).
// The rule is applied by host-path-walk.ts, to the directory and link it holds open.
import type { Stats } from 'node:fs';
import { BerthError } from './errors.js';

/** Whether the kernel's protected_symlinks rule would refuse root the link `link` found in `dir`. */
export function isPlantedLink(dir: Pick<Stats, 'mode' | 'uid'>, link: Pick<Stats, 'uid'>): boolean {
  const open = (dir.mode & 0o1002) === 0o1002; // sticky and writable by every user
  return open && link.uid !== 0 && link.uid !== dir.uid;
}

/**
 * ERR_HOSTPATH_UNSAFE for a link `isPlantedLink` refuses: `what` names the path for the message
 * ("pod web: hostPath /tmp/x"), `link` and `dir` where the link was found, `owner` its uid.
 */
export function plantedLinkError(
  what: string,
  planted: { link: string; owner: number; dir: string },
): BerthError {
  return new BerthError(
    'ERR_HOSTPATH_UNSAFE',
    'forbidden',
    `${what}: ${planted.link} is a symlink of uid ${planted.owner} in ${planted.dir}, a sticky directory every user can write: not followed`,
    {
      hint: 'as the kernel refuses it under fs.protected_symlinks=1: give a path outside it, or remove the link',
    },
  );
}
