// DEST of `berth image unpack`: run as root, the unpack writes the image's setuid-root files and
// device nodes as they are, so no other user may reach them. A DEST berth makes is its user's alone
// (0700, as umoci's bundle directory); one that exists must be empty, that user's, writable by no
// one else, and reached through no link another user planted (one made in /tmp ahead of the admin).
import { mkdir, readdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { BerthError, errnoCode } from '../lib/errors.js';
import { makeDirs } from '../lib/make-dirs.js';
import { refusePlantedLinks } from '../lib/planted-links.js';

/** Makes DEST, or checks the one there; true when berth made it (so a failure removes it). */
export async function prepareUnpackDest(dest: string, uid = process.geteuid?.() ?? 0): Promise<boolean> {
  refusePlantedLinks(dest, 'DEST', uid);
  let entries: string[];
  try {
    entries = await readdir(dest);
  } catch (err) {
    if (errnoCode(err) === 'ENOTDIR') {
      throw new BerthError('ERR_DEST_NOT_DIRECTORY', 'invalid', `${dest} exists and is not a directory`);
    }
    if (errnoCode(err) !== 'ENOENT') throw err;
    await makeDirs(dirname(dest));
    await mkdir(dest, 0o700); // EEXIST if one appeared meanwhile: never taken over
    return true;
  }
  if (entries.length > 0) throw new BerthError('ERR_DEST_NOT_EMPTY', 'invalid', `${dest} is not empty`);
  const st = await stat(dest);
  const why =
    st.uid !== uid
      ? `is owned by uid ${st.uid}, not uid ${uid}`
      : st.mode & 0o022
        ? 'is writable by others'
        : '';
  if (why)
    throw new BerthError(
      'ERR_UNSAFE_DIR',
      'forbidden',
      `DEST ${dest} ${why}: the image's setuid files and devices would be in their hands`,
      { hint: 'give a DEST that does not exist: berth makes it for this user alone' },
    );
  return false;
}
