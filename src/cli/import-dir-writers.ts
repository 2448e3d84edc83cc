// Who besides root can choose what the daemon imports from `images.importDir`: an archive dropped
// there is imported under whatever references it names, a tag pods already run included (the next
// pass makes them again from the new image), so a user who can write the directory, a directory
// above it, or an archive in it (root's `mv` from a home directory keeps the file's owner, who can
// then rewrite it and have it imported again) picks what runs as root on this host. Each is one
// WARN_IMPORT_DIR_WRITABLE line naming the path and who (its owner, its group, everyone), never an
// error, as the manifests folder's (manifest/writers.ts, whose rules it shares: a sticky directory
// above, as /tmp, does not count; the directory itself does).
import { chainWriters, folderChain, otherWriters } from '../manifest/writers.js';

export const IMPORT_WRITABLE_CODE = 'WARN_IMPORT_DIR_WRITABLE';
const WHY = 'whoever writes it chooses the images containers run as root on this host';

/** The import directory and every directory above it, as given and with links resolved. */
export async function importDirWriters(dir: string, self = process.geteuid?.() ?? 0): Promise<string[]> {
  return (await chainWriters(await folderChain(dir), self)).map(
    ({ path, folder, who }) =>
      `${IMPORT_WRITABLE_CODE}: ${path}: ${folder ? 'the import directory' : 'a directory above the import directory'} can be written by ${who}: ${WHY}`,
  );
}

/** An archive in it, from the stat berth took before importing it. */
export function archiveWriters(
  file: string,
  st: { uid: number; gid: number; mode: number },
  self = process.geteuid?.() ?? 0,
): string[] {
  const who = otherWriters(st, self);
  return who ? [`${IMPORT_WRITABLE_CODE}: ${file}: this archive can be written by ${who}: ${WHY}`] : [];
}
