// `<state>/reconcile.json` on disk: read (a missing or unreadable file is an empty status) and
// replaced atomically, only when it changed.
import { readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { makeDirs } from '../lib/make-dirs.js';
import type { ReconcileStatus } from './status.js';

export const statusPath = (state: string) => join(state, 'reconcile.json');

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

export function readStatus(path: string): ReconcileStatus | undefined {
  try {
    return JSON.parse(readText(path) ?? '') as ReconcileStatus;
  } catch {
    return undefined;
  }
}

export async function writeStatus(path: string, status: ReconcileStatus): Promise<void> {
  const text = `${JSON.stringify(status, null, 2)}\n`;
  if (readText(path) === text) return; // a no-op pass writes nothing
  await makeDirs(dirname(path));
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode: 0o600 });
  await rename(tmp, path);
}
