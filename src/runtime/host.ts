// The host facts a container's config depends on, read once per command: the hard open-files
// limit, the seccomp profile of containers-common (when installed), the host's resolv.conf.
import { readFile } from 'node:fs/promises';
import type { SeccompProfile } from './seccomp.js';

export const SECCOMP_PROFILE_PATH = '/usr/share/containers/seccomp.json';

export interface HostRuntimeFacts {
  nofileHard: number;
  seccompProfile?: SeccompProfile;
  hostResolvConf: string;
}

/** "Max open files  1024  20000  files" → 20000 (unlimited → a large number). */
export function parseNofileHard(limits: string): number {
  const m = /^Max open files\s+\S+\s+(\S+)/m.exec(limits);
  if (!m) return 1024;
  return m[1] === 'unlimited' ? 1_048_576 : Number(m[1]);
}

export async function loadHostRuntimeFacts(): Promise<HostRuntimeFacts> {
  const [limits, profile, resolv] = await Promise.all([
    readFile('/proc/self/limits', 'utf8').catch(() => ''),
    readFile(SECCOMP_PROFILE_PATH, 'utf8').catch(() => undefined),
    readFile('/etc/resolv.conf', 'utf8').catch(() => ''),
  ]);
  return {
    nofileHard: parseNofileHard(limits),
    ...(profile ? { seccompProfile: JSON.parse(profile) as SeccompProfile } : {}),
    hostResolvConf: resolv,
  };
}
