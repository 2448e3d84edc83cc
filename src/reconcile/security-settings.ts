// A container's security settings from its pod's securityContext and its own (the container's win,
// as in Kubernetes): user and group, runAsNonRoot, supplementalGroups and fsGroup as extra groups,
// hostPID/hostIPC, the pod's sysctls, seccomp Unconfined or Localhost. Fields are set only when the manifest says
// something, so a pod without them keeps its spec hash (nothing is recreated on upgrade). Pure.
import type { ContainerManifest, PodManifest } from '../manifest/kinds.js';
import type { ContainerSettings } from '../runtime/spec.js';

export function securitySettings(pod: PodManifest, c: ContainerManifest): Partial<ContainerSettings> {
  const psc = pod.spec.securityContext ?? {};
  const sc = c.securityContext ?? {};
  const uid = sc.runAsUser ?? psc.runAsUser;
  const gid = sc.runAsGroup ?? psc.runAsGroup;
  const groups = [
    ...new Set([...(psc.supplementalGroups ?? []), ...(psc.fsGroup !== undefined ? [psc.fsGroup] : [])]),
  ];
  const seccomp = sc.seccompProfile ?? psc.seccompProfile;
  const sysctls = Object.fromEntries((psc.sysctls ?? []).map((s) => [s.name, s.value ?? '']));
  return {
    ...(uid !== undefined ? { user: String(uid) } : {}),
    ...(gid !== undefined ? { gid } : {}),
    ...((sc.runAsNonRoot ?? psc.runAsNonRoot) === true ? { runAsNonRoot: true } : {}),
    ...(groups.length > 0 ? { supplementalGroups: groups } : {}),
    ...(pod.spec.hostPID === true ? { hostPID: true } : {}),
    ...(pod.spec.hostIPC === true ? { hostIPC: true } : {}),
    ...(sc.procMount === 'Unmasked' ? { procUnmasked: true } : {}),
    ...(Object.keys(sysctls).length > 0 ? { sysctls } : {}),
    ...(seccomp?.type === 'Unconfined' ? { seccomp: 'unconfined' as const } : {}),
    ...(seccomp?.type === 'Localhost' && seccomp.localhostProfile
      ? { seccompLocalhost: seccomp.localhostProfile }
      : {}),
  };
}
