// Removing a container whose record cannot be read (record.ts skips and reports it): without the
// record its settings are unknown, so everything that is named by its id goes, as `rm` would take
// it: runc's container (killed), its cgroups, its rootfs mount, its own netns, exit file, attach
// sockets and bundle. Only with --force: whatever it still runs is killed.
import { existsSync } from 'node:fs';
import { removeById } from './orphans.js';
import type { RuntimePaths } from './paths.js';
import { readRecordsReport } from './record.js';
import type { Runc } from './runc.js';

/** Remove the container `idOrPrefix` names if its record is a bad one; false when it is not. */
export async function removeUnreadableContainer(
  deps: { paths: RuntimePaths; runc: Runc },
  idOrPrefix: string,
): Promise<boolean> {
  if (!/^[a-f0-9]{12,32}$/.test(idOrPrefix)) return false;
  const matches = readRecordsReport(deps.paths.containers).bad.filter((b) => b.id.startsWith(idOrPrefix));
  const bad = matches.length === 1 ? matches[0] : undefined;
  if (!bad || !existsSync(bad.path.slice(0, -'/container.json'.length))) return false;
  await removeById(deps, bad.id);
  return true;
}
