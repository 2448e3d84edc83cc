// The warnings of the commands that list containers (`container ls`, `ps`): every container.json
// that cannot be read (left out of the list) and every runc state.json that cannot be read (its
// container shown as conmon alone tells). One damaged file is named, never a failure of the whole list.
import type { RuntimePaths } from './paths.js';
import { formatBadRecords, readRecordsReport } from './record.js';
import { formatUnreadableStates, unreadableStates } from './runc-state.js';

export function containerWarnings(paths: Pick<RuntimePaths, 'containers' | 'runcRoot'>): string {
  const { records, bad } = readRecordsReport(paths.containers);
  const states = unreadableStates(
    paths.runcRoot,
    records.map((r) => r.id),
  );
  return formatBadRecords(bad) + formatUnreadableStates(states);
}
