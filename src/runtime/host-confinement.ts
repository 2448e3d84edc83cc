// What the host offers to confine containers beyond namespaces, seccomp and capabilities: a
// cgroup namespace (so a container sees its own cgroup as `/`), and AppArmor with the default
// container profile loaded (podman's containers-default-*, Docker's docker-default). Read once
// per process; the parsers are pure.
import { access, readFile } from 'node:fs/promises';

export interface HostConfinement {
  cgroupNamespace: boolean;
  /** The loaded profile containers run under; undefined without AppArmor or without a profile. */
  apparmorProfile?: string;
}

/**
 * The profile to use from AppArmor's `enabled` parameter ("Y") and its list of loaded profiles
 * ("NAME (MODE)" a line): podman's newest containers-default-VERSION, else docker-default.
 */
export function pickApparmorProfile(enabled: string, profiles: string): string | undefined {
  if (enabled.trim() !== 'Y') return undefined;
  const names = profiles
    .split('\n')
    .map((l) => /^(\S+) \((enforce|complain)\)$/.exec(l.trim())?.[1])
    .filter((n): n is string => n !== undefined);
  const podman = names.filter((n) => /^containers-default-[0-9][0-9.]*$/.test(n)).sort(compareVersions);
  if (podman.length > 0) return podman[podman.length - 1];
  return names.includes('docker-default') ? 'docker-default' : undefined;
}

function compareVersions(a: string, b: string): number {
  const pa = a.slice('containers-default-'.length).split('.').map(Number);
  const pb = b.slice('containers-default-'.length).split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

let loaded: Promise<HostConfinement> | undefined;

export function loadHostConfinement(): Promise<HostConfinement> {
  loaded ??= (async () => {
    const cgroupNamespace = await access('/proc/self/ns/cgroup').then(
      () => true,
      () => false,
    );
    const [enabled, profiles] = await Promise.all([
      readFile('/sys/module/apparmor/parameters/enabled', 'utf8').catch(() => ''),
      readFile('/sys/kernel/security/apparmor/profiles', 'utf8').catch(() => ''),
    ]);
    const apparmorProfile = pickApparmorProfile(enabled, profiles);
    return { cgroupNamespace, ...(apparmorProfile ? { apparmorProfile } : {}) };
  })();
  return loaded;
}
