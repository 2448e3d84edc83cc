// Which cgroup hierarchy the host runs, for assertions that read limits: 2 when /sys/fs/cgroup is
// the unified cgroup2 file system (a stock Debian 12), 1 on a legacy or hybrid host (v1 controllers
// under /sys/fs/cgroup/<controller>, at most an empty v2 tree beside them).
import { statfsSync } from 'node:fs';

const CGROUP2_SUPER_MAGIC = 0x63677270;

export function cgroupVersion(path = '/sys/fs/cgroup'): 1 | 2 {
  return statfsSync(path).type === CGROUP2_SUPER_MAGIC ? 2 : 1;
}
