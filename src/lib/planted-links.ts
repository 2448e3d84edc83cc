// A path berth will make private and fill (--root, --state) is followed through a symlink only when
// root or the running user made that link: one another user planted (a link in /tmp, followed by
// the kernel where fs.protected_symlinks is 0) would hand berth a directory of that user's choosing
// to tighten and write into. Each existing component of the path is looked at, as given.
import { lstatSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { BerthError, errnoCode } from './errors.js';

export function refusePlantedLinks(path: string, flag: string, uid = process.geteuid?.() ?? 0): void {
  const parts = resolve(path).split(sep).filter(Boolean);
  for (let i = 1; i <= parts.length; i++) {
    const prefix = `${sep}${parts.slice(0, i).join(sep)}`;
    let st: ReturnType<typeof lstatSync>;
    try {
      st = lstatSync(prefix);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return; // the rest is made by berth
      throw err;
    }
    if (st.isSymbolicLink() && st.uid !== 0 && st.uid !== uid)
      throw new BerthError(
        'ERR_UNSAFE_DIR',
        'forbidden',
        `${flag} ${path}: ${prefix} is a symlink owned by uid ${st.uid}, neither root nor uid ${uid}: not followed`,
        { hint: `give ${flag} a path without another user's links` },
      );
  }
}
