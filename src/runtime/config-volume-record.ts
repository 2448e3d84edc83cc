// berth's own record of a config volume it wrote, kept outside the volume where no container
// reaches (`<pod>/volume-stamps/<volume>`, beside `<pod>/volumes/<volume>`): the stamp it wrote,
// the content directory `..data` named then, and the identity of every entry under the volume as it
// left them (each one's path, inode, size and times: ctime no process sets back, utimes sets the
// others, never ctime; size and mtime for a write within one tick of coarse ctime). A volume is
// current only when it is as berth left it: its `..data`, the content and every link unchanged
// since the record.
//
// Why: the volume's own `..data -> ..<stamp>` is no proof. A container that could write the
// directory (an emptyDir of that name before it became a ConfigMap, Secret, downward API or
// projected volume; or the volume itself while it was an emptyDir in between) can put there a
// `..data` naming the stamp of content it can foresee (its own pod's labels in a downward API
// volume, a ConfigMap it saw), with files of its own under it, or change the files of a content
// berth wrote; berth took that stamp for its own, skipped the write, and the next container read the
// container's files as the ConfigMap or Secret. Reads are synchronous: observation reads every
// volume on every pass (a few lstats each).
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { writeFileAtomic } from '../lib/write-atomic.js';

export const DATA_LINK = '..data';
/** A content directory's name: `..` and the stamp, or the stamp and a suffix of its own. */
const CONTENT_NAME = /^\.\.[0-9a-f]{8,64}$/;

/** Where berth keeps the record of `volume` (`<pod>/volumes/<name>` → `<pod>/volume-stamps/<name>`). */
export const recordPathOf = (volume: string): string =>
  join(dirname(dirname(volume)), 'volume-stamps', basename(volume));

/** The content directory `..data` names (`..<hex>`), or undefined when it names nothing of that form. */
export function dataTargetSync(volume: string): string | undefined {
  try {
    const target = readlinkSync(join(volume, DATA_LINK));
    return CONTENT_NAME.test(target) ? target : undefined;
  } catch {
    return undefined;
  }
}

/** Every entry under `volume` (never through a link) by path, inode and change time, as one digest. */
function identityOf(volume: string): string {
  const lines: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(volume, rel)).sort()) {
      const path = rel === '' ? name : `${rel}/${name}`;
      const st = lstatSync(join(volume, path), { bigint: true });
      // size and mtime too: a write in the same clock tick as berth's last chmod leaves ctime as it was
      lines.push(`${path}\0${st.ino}\0${st.ctimeNs}\0${st.mode}\0${st.size}\0${st.mtimeNs}`);
      if (st.isDirectory()) walk(path);
    }
  };
  walk('');
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

const recordText = (stamp: string, target: string, identity: string) => `${stamp}\n${target}\n${identity}\n`;

/**
 * The stamp `volume` holds and the content `..data` names, when it is as berth last wrote it (its
 * record matches `..data` and every entry), else undefined: not written yet, written by a berth
 * before the record, or changed since. The link is read once: what is checked is what is used.
 */
export function trustedContentSync(
  volume: string,
  record = recordPathOf(volume),
): { stamp: string; target: string } | undefined {
  const target = dataTargetSync(volume);
  if (!target) return undefined;
  try {
    const text = readFileSync(record, 'utf8');
    const [stamp, recorded] = text.split('\n');
    if (!stamp || recorded !== target) return undefined;
    return text === recordText(stamp, target, identityOf(volume)) ? { stamp, target } : undefined;
  } catch {
    return undefined; // no record, or an entry went while it was read: not as berth left it
  }
}

/** The stamp of trustedContentSync. */
export const trustedStampSync = (volume: string, record = recordPathOf(volume)): string | undefined =>
  trustedContentSync(volume, record)?.stamp;

/** Record `volume` as it is now, holding `stamp` under `target`: after a write, once nothing else is to change. */
export async function recordVolume(
  volume: string,
  stamp: string,
  target: string,
  record = recordPathOf(volume),
): Promise<void> {
  await writeFileAtomic(record, recordText(stamp, target, identityOf(volume)), 0o600);
}
