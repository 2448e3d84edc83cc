// The host facts a container's config depends on, read once per command: the hard open-files
// limit, the seccomp profile (containers-common's when installed, else berth's built-in one; a
// daemon parses it again only when the file changes), the host's resolv.conf.
import { readFile } from 'node:fs/promises';
import { BerthError, errnoCode, isBerthError } from '../lib/errors.js';
import type { FileCache } from '../lib/file-cache.js';
import type { SeccompProfile } from './seccomp.js';

export const SECCOMP_PROFILE_PATH = '/usr/share/containers/seccomp.json';

export interface HostRuntimeFacts {
  nofileHard: number;
  /** The capability bounding set berth runs with (containers can have no more). */
  capBound: bigint;
  hostResolvConf: string;
}

/** "CapBnd:\t000001fffeffffff" → the mask (all bits when absent). */
export function parseCapBound(status: string): bigint {
  const m = /^CapBnd:\s+([0-9a-f]+)$/m.exec(status);
  return m ? BigInt(`0x${m[1]}`) : (1n << 64n) - 1n;
}

/** "Max open files  1024  20000  files" → 20000 (unlimited → a large number). */
export function parseNofileHard(limits: string): number {
  const m = /^Max open files\s+\S+\s+(\S+)/m.exec(limits);
  if (!m) return 1024;
  return m[1] === 'unlimited' ? 1_048_576 : Number(m[1]);
}

/**
 * The seccomp profile named by the host config's containers.seccompProfile: a file that must exist,
 * 'builtin' (undefined: berth's own filter), or, unset, containers-common's when installed
 * (`usual`, passed in by tests, is where that is). With `cache` (the daemon's, kept for its life)
 * the file is parsed once per change of its identity instead of on every create: one stat then.
 */
export async function loadSeccompProfile(
  profilePath?: string,
  usual = SECCOMP_PROFILE_PATH,
  cache?: FileCache,
): Promise<SeccompProfile | undefined> {
  if (profilePath === 'builtin') return undefined;
  const path = profilePath ?? usual;
  const parse = (text: string) => {
    try {
      return JSON.parse(text) as SeccompProfile;
    } catch {
      throw new BerthError('ERR_SECCOMP_PROFILE', 'invalid', `seccomp profile ${path} is not JSON`);
    }
  };
  try {
    if (cache) {
      const profile = cache.read(path, parse);
      if (profile === undefined) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
      return profile;
    }
    return parse(await readFile(path, 'utf8'));
  } catch (err) {
    if (isBerthError(err)) throw err;
    if (profilePath === undefined) return undefined; // containers-common not installed (or unreadable)
    throw new BerthError(
      'ERR_SECCOMP_PROFILE',
      'invalid',
      `cannot read seccomp profile ${profilePath}: ${errnoCode(err) ?? err}`,
    );
  }
}

export async function loadHostRuntimeFacts(): Promise<HostRuntimeFacts> {
  const [limits, status, resolv] = await Promise.all([
    readFile('/proc/self/limits', 'utf8').catch(() => ''),
    readFile('/proc/self/status', 'utf8').catch(() => ''),
    readFile('/etc/resolv.conf', 'utf8').catch(() => ''),
  ]);
  return { nofileHard: parseNofileHard(limits), capBound: parseCapBound(status), hostResolvConf: resolv };
}
