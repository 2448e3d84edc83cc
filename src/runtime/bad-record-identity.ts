// Who a container with an unreadable record is. Its record is gone, but while it runs its conmon
// still carries `--cid <id> --name <name>` in its argv: enough to keep the name taken (create). Who
// owns it (a pod, and which, or nobody: standalone) is read from its bundle's config.json
// (bundle-owner.ts), never from its name. A record whose container cannot be identified at all is
// reported with no name and no owner: callers must then assume any name and any owner.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type BundleOwner, readBundleOwner } from './bundle-owner.js';
import { conmonOf } from './conmon-process.js';
import { type BadRecord, readRecordsReport } from './record.js';

export interface BadRecordIdentity {
  id: string;
  path: string;
  /** The container's name, when anything on disk still says it. */
  name?: string;
  /** Who owns it, when its config.json still says (it does not for a bundle of an older berth). */
  owner?: BundleOwner;
  /** No name, yet runc still has state for it: it may be running (its conmon killed) as anything. */
  mayRun?: boolean;
}

function readName(containersDir: string, bad: BadRecord): string | undefined {
  return conmonOf(join(containersDir, bad.id, 'conmon.pid'), bad.id)?.name;
}

/** Every bad record of `containersDir`, with its container's name where it can be recovered. */
export function badRecordIdentities(containersDir: string, runcRoot?: string): BadRecordIdentity[] {
  return identifyBadRecords(containersDir, readRecordsReport(containersDir).bad, runcRoot);
}

/** Who the containers of `bad` (records of `containersDir` already read) are. */
export function identifyBadRecords(
  containersDir: string,
  bad: readonly BadRecord[],
  runcRoot?: string,
): BadRecordIdentity[] {
  return bad.map((b) => {
    const owner = readBundleOwner(join(containersDir, b.id, 'config.json'));
    const known = { id: b.id, path: b.path, ...(owner ? { owner } : {}) };
    const name = readName(containersDir, b);
    if (name) return { ...known, name };
    const mayRun = runcRoot !== undefined && existsSync(join(runcRoot, b.id));
    return { ...known, ...(mayRun ? { mayRun } : {}) };
  });
}
