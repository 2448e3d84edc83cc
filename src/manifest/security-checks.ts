// What a schema cannot say about a pod's security settings: values of honoured fields the host
// cannot honour (procMount Unmasked without a user namespace, cgroupOptions.mountMode ReadWrite) are
// one ERR_MANIFEST_UNSUPPORTED each; hostUsers: false with a host namespace is invalid; sysctls must be namespaced (a container never sets the host's
// kernel), not in a namespace the pod shares with the host, and each named once (as a cluster asks); a seccomp localhostProfile only with
// type Localhost; unknown capabilities, allowPrivilegeEscalation: false beside privileged or
// CAP_SYS_ADMIN are errors at their node. runAsNonRoot beside runAsUser 0 is not: a cluster takes the
// file (ValidateSecurityContext does not compare them) and its kubelet fails that container at its
// start (CreateContainerConfigError), as berth's create does (runtime/run-as.ts: ERR_RUN_AS_ROOT). Pure.

import type { Diagnostic } from '../lib/yaml-validate.js';
import { ALL_CAPABILITIES } from '../runtime/defaults.js';
import type { ContainerManifest, PodManifest, SeccompProfile } from './kinds.js';
import { at, type ParsedDoc } from './position.js';

type Path = Array<string | number>;

const IPC_SYSCTL = /^(kernel\.(shm(all|max|mni)|shm_rmid_forced|msg(max|mnb|mni)|sem)|fs\.mqueue\.[a-z_]+)$/;
const NET_SYSCTL = /^net\.[a-z0-9_.]+$/;

/** Whether a sysctl is namespaced (Kubernetes' list: IPC ones, and net.* in the pod's network). */
export function sysctlNamespace(name: string): 'ipc' | 'net' | undefined {
  if (IPC_SYSCTL.test(name)) return 'ipc';
  if (NET_SYSCTL.test(name.replace(/\//g, '.'))) return 'net';
  return undefined;
}

/** A capability as the runtime names it (`NET_ADMIN`, `CAP_NET_ADMIN` → `CAP_NET_ADMIN`), or `ALL`. */
export function isKnownCapability(c: string): boolean {
  const up = c.toUpperCase();
  return up === 'ALL' || ALL_CAPABILITIES.includes(up.startsWith('CAP_') ? up : `CAP_${up}`);
}

export function checkPodSecurity(p: ParsedDoc): Diagnostic[] {
  const pod = p.value as PodManifest;
  const out: Diagnostic[] = [];
  const unsupported = (path: Path, why: string) =>
    out.push(at(p, path, 'ERR_MANIFEST_UNSUPPORTED', `${path.join('.')}: ${why}`));
  const invalid = (path: Path, why: string) => out.push(at(p, path, 'ERR_MANIFEST_INVALID', why));
  const psc = pod.spec.securityContext ?? {};
  // A user namespace cannot own the host's network, PID or IPC namespace (Kubernetes refuses these).
  for (const shared of ['hostNetwork', 'hostPID', 'hostIPC'] as const)
    if (pod.spec.hostUsers === false && pod.spec[shared] === true)
      invalid(['spec', 'hostUsers'], `hostUsers: false cannot be combined with ${shared}: true`);
  if (pod.spec.hostPID === true && pod.spec.shareProcessNamespace === true)
    invalid(
      ['spec', 'shareProcessNamespace'],
      'shareProcessNamespace and hostPID cannot both be true (Kubernetes rejects it): the pod would share the host PID namespace',
    );
  const seccomp = (s: SeccompProfile | undefined, path: Path) => {
    if (s?.type === 'Localhost' && !s.localhostProfile)
      invalid(
        [...path, 'type'],
        'a Localhost seccomp profile needs localhostProfile (a file in <root>/seccomp/)',
      );
    // A profile file beside another type would be dropped in silence: a cluster refuses the pair.
    if (s?.type !== undefined && s.type !== 'Localhost' && s.localhostProfile !== undefined)
      invalid(
        [...path, 'localhostProfile'],
        `localhostProfile is for type Localhost only (a cluster rejects it with type ${s.type})`,
      );
  };
  seccomp(psc.seccompProfile, ['spec', 'securityContext', 'seccompProfile']);
  const sysctls = new Set<string>();
  for (const [i, s] of (psc.sysctls ?? []).entries()) {
    const ns = sysctlNamespace(s.name);
    const path = ['spec', 'securityContext', 'sysctls', i, 'name'];
    if (sysctls.has(s.name))
      invalid(path, `sysctl ${s.name} is given twice: which value would win? (a cluster rejects it too)`);
    sysctls.add(s.name);
    if (!ns)
      invalid(
        path,
        `sysctl ${s.name} is not namespaced: a pod may set only namespaced sysctls (IPC ones, net.*)`,
      );
    else if (ns === 'net' && pod.spec.hostNetwork)
      invalid(path, `sysctl ${s.name} would set the host's network stack: the pod uses hostNetwork`);
    else if (ns === 'ipc' && pod.spec.hostIPC)
      invalid(path, `sysctl ${s.name} would set the host's IPC namespace: the pod uses hostIPC`);
  }
  for (const list of ['initContainers', 'containers'] as const) {
    for (const [i, c] of (pod.spec[list] ?? []).entries()) {
      const path: Path = ['spec', list, i, 'securityContext'];
      const sc: NonNullable<ContainerManifest['securityContext']> = c.securityContext ?? {};
      seccomp(sc.seccompProfile, [...path, 'seccompProfile']);
      if (sc.procMount === 'Unmasked' && pod.spec.hostUsers !== false)
        unsupported(
          [...path, 'procMount'],
          'Unmasked needs a user namespace: set spec.hostUsers: false (as Kubernetes asks)',
        );
      if (sc.cgroupOptions?.mountMode === 'ReadWrite')
        unsupported(
          [...path, 'cgroupOptions', 'mountMode'],
          "ReadWrite is not supported yet: berth mounts a container's cgroup file system read-only",
        );
      for (const dir of ['add', 'drop'] as const)
        for (const [k, cap] of (sc.capabilities?.[dir] ?? []).entries())
          if (!isKnownCapability(cap))
            invalid([...path, 'capabilities', dir, k], `unknown capability "${cap}"`);
      // What the user said must not be dropped in silence: a privileged container, or one with
      // CAP_SYS_ADMIN, can always gain privileges (Kubernetes refuses both pairs).
      if (sc.allowPrivilegeEscalation === false) {
        if (sc.privileged === true)
          invalid(
            [...path, 'allowPrivilegeEscalation'],
            `container ${c.name}: allowPrivilegeEscalation: false cannot be combined with privileged: true`,
          );
        // Kubernetes' rule names the one spelling; SYS_ADMIN passes there and here.
        const sysAdmin = (sc.capabilities?.add ?? []).indexOf('CAP_SYS_ADMIN');
        if (sysAdmin >= 0)
          invalid(
            [...path, 'capabilities', 'add', sysAdmin],
            `container ${c.name}: allowPrivilegeEscalation: false cannot be combined with capabilities.add ${sc.capabilities?.add?.[sysAdmin]}`,
          );
      }
    }
  }
  return out;
}
