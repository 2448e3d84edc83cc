// The stamp file beside a parked partial: `ingest/<alg>-<hex>.partial.stamp`, JSON PartialStamp
// (content/partial-age.ts). Best effort: a stamp that cannot be written or read back is no stamp,
// and a partial without one is judged by its mtime or aged from the first time a prune sees it.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { errnoCode } from '../lib/errors.js';
import { isPartialStamp, type PartialStamp } from './partial-age.js';

const SUFFIX = '.stamp';

export function stampPathOf(partial: string): string {
  return `${partial}${SUFFIX}`;
}

/** The partial a stamp file's name belongs to (undefined for any other name). */
export function partialOfStampName(name: string): string | undefined {
  return name.endsWith(`.partial${SUFFIX}`) ? name.slice(0, -SUFFIX.length) : undefined;
}

export async function readPartialStamp(partial: string): Promise<PartialStamp | undefined> {
  try {
    const v: unknown = JSON.parse(await readFile(stampPathOf(partial), 'utf8'));
    return isPartialStamp(v) ? v : undefined;
  } catch {
    return undefined; // missing, torn or unreadable: no stamp
  }
}

export async function writePartialStamp(partial: string, stamp: PartialStamp): Promise<void> {
  await writeFile(stampPathOf(partial), JSON.stringify(stamp)).catch(() => undefined);
}

export async function removePartialStamp(partial: string): Promise<void> {
  await rm(stampPathOf(partial), { force: true }).catch((err: unknown) => {
    if (errnoCode(err) !== 'ENOENT') throw err;
  });
}
