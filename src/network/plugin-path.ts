// The PATH the CNI plugins run with on an IPv4-only network: a directory under the network lock
// directory holding only `iptables` (a link to the host's), so portmap finds no ip6tables. Its
// DEL otherwise makes, scans and removes its chains in the IPv6 tables as well, whether or not a
// pod ever had an IPv6 address: about ten more processes per removal. A dual-stack network runs
// the plugins with berth's own PATH.
import { randomBytes } from 'node:crypto';
import { readlink, rename, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode } from '../lib/errors.js';
import { makeDirs } from '../lib/make-dirs.js';
import { findOnPath } from '../runtime/tool.js';

/** The directory, made (or its link repaired) now; undefined when the host has no iptables on PATH. */
export async function ipv4OnlyPluginPath(lockDir: string): Promise<string | undefined> {
  const iptables = findOnPath('iptables');
  if (iptables === 'iptables') return undefined;
  const dir = join(lockDir, 'ipv4-plugin-path');
  const link = join(dir, 'iptables');
  const current = await readlink(link).catch((err) => {
    // Missing, or not a link (EINVAL: a file planted there): made again below, never followed.
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'EINVAL') return undefined;
    throw err;
  });
  if (current === iptables) return dir;
  await makeDirs(dir, 0o755);
  // A link made aside and renamed over: two berths making it at once both end with the right one.
  const temp = `${link}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await symlink(iptables, temp);
  await rename(temp, link);
  return dir;
}
