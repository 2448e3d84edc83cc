// Which snapshot form a host uses: overlay (one directory per layer, stacked by overlayfs) or
// native (whole trees, for kernels without overlayfs). Pure.
import type { SnapshotterSetting } from '../config/host-config.js';

export type SnapshotForm = 'overlay' | 'native';

/** The form `setting` means on a kernel whose /proc/filesystems reads `filesystems`. */
export function chooseSnapshotForm(setting: SnapshotterSetting, filesystems: string): SnapshotForm {
  if (setting !== 'auto') return setting;
  return /^nodev\s+overlay$/m.test(filesystems) ? 'overlay' : 'native';
}
