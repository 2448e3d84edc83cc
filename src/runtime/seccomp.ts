// The default seccomp filter: the host's containers-common profile (the one podman and CRI-O use,
// /usr/share/containers/seccomp.json) converted to the OCI runtime form for this container — rules
// that need a capability the container lacks, or another architecture, are left out, and so is
// x32 where the kernel does not run it (kernel-abis.ts). Pure.
import { ALL_ABIS, type KernelAbis } from './kernel-abis.js';

interface ProfileRule {
  names?: string[];
  action: string;
  args?: object[] | null;
  errnoRet?: number;
  includes?: { caps?: string[]; arches?: string[] };
  excludes?: { caps?: string[]; arches?: string[] };
}

export interface SeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  archMap?: Array<{ architecture: string; subArchitectures?: string[] | null }>;
  syscalls?: ProfileRule[];
}

/** Node's process.arch → the profile's architecture names. */
const ARCHES: Record<string, { seccomp: string; names: string[] }> = {
  x64: { seccomp: 'SCMP_ARCH_X86_64', names: ['amd64', 'x86_64'] },
  arm64: { seccomp: 'SCMP_ARCH_AARCH64', names: ['arm64', 'aarch64'] },
  arm: { seccomp: 'SCMP_ARCH_ARM', names: ['arm'] },
  ppc64: { seccomp: 'SCMP_ARCH_PPC64LE', names: ['ppc64le'] },
  s390x: { seccomp: 'SCMP_ARCH_S390X', names: ['s390x'] },
  riscv64: { seccomp: 'SCMP_ARCH_RISCV64', names: ['riscv64'] },
};

/** An architecture whose calls a kernel of these ABIs never runs (x86-64's x32). */
export const notRun = (abis: KernelAbis) => (architecture: string) =>
  architecture === 'SCMP_ARCH_X32' && !abis.x32;

export function toOciSeccomp(
  profile: SeccompProfile,
  arch: string,
  caps: string[],
  abis: KernelAbis = ALL_ABIS,
): object {
  const a = ARCHES[arch];
  const archEntry = profile.archMap?.find((m) => m.architecture === a?.seccomp);
  const skip = notRun(abis);
  const subs = (archEntry?.subArchitectures ?? []).filter((s) => !skip(s));
  const architectures = archEntry ? [archEntry.architecture, ...subs] : [];
  const has = new Set(caps);
  const applies = (r: ProfileRule) => {
    const inc = r.includes ?? {};
    const exc = r.excludes ?? {};
    if (inc.caps && !inc.caps.every((c) => has.has(c))) return false;
    if (inc.arches && !inc.arches.some((x) => a?.names.includes(x))) return false;
    if (exc.caps?.some((c) => has.has(c))) return false;
    if (exc.arches?.some((x) => a?.names.includes(x))) return false;
    return true;
  };
  const syscalls = (profile.syscalls ?? []).filter(applies).map((r) => ({
    names: r.names ?? [],
    action: r.action,
    ...(r.args && r.args.length > 0 ? { args: r.args } : {}),
    ...(r.errnoRet !== undefined ? { errnoRet: r.errnoRet } : {}),
  }));
  return {
    defaultAction: profile.defaultAction,
    ...(profile.defaultErrnoRet !== undefined ? { defaultErrnoRet: profile.defaultErrnoRet } : {}),
    architectures,
    syscalls,
  };
}
