// Kubernetes' Localhost seccomp profiles: `localhostProfile` names a file under `<root>/seccomp/`
// (the kubelet's `<root>/seccomp/` too), in the same JSON form as the host's default profile. The
// name is a relative path without `..` (the schema says so); the directory is the host admin's.
import { dirname, join } from 'node:path';
import { loadSeccompProfile } from './host.js';
import type { RuntimePaths } from './paths.js';
import type { SeccompProfile } from './seccomp.js';

/** `<root>/seccomp`, beside `<root>/containers`. */
export function seccompDir(paths: RuntimePaths): string {
  return join(dirname(paths.containers), 'seccomp');
}

export async function loadLocalhostProfile(
  paths: RuntimePaths,
  name: string,
): Promise<SeccompProfile | undefined> {
  return loadSeccompProfile(join(seccompDir(paths), name));
}
