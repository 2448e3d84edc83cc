// Which containers the prober probes, and where: every running container berth made from a
// manifest whose desired spec has probes (app containers and native sidecars; Kubernetes allows
// none on other init containers). Network actions go to the pod's bridge address, to 127.0.0.1 for
// a hostNetwork pod, and nowhere for a pod without an address (its loopback-only netns cannot be
// reached from the daemon: such probes fail saying so; exec probes work). A container whose
// postStart hook has not returned is not probed yet (as the kubelet). Pure.
import type { ActionTarget } from './action.js';
import type { ContainerProbes } from './probe-spec.js';

export interface ProbeTarget {
  runtimeName: string;
  /** `<pod>/<container>`, as events name it. */
  object: string;
  id: string;
  /** ms epoch it started. */
  startedAt: number;
  probes: ContainerProbes;
  action: ActionTarget;
  /** The pod's terminationGracePeriodSeconds: a probe's own is used over it. */
  graceSeconds: number;
}

interface DesiredLike {
  pods: Array<{
    name: string;
    graceSeconds: number;
    hostNetwork: boolean;
    initContainers: DesiredContainerLike[];
    containers: DesiredContainerLike[];
  }>;
}
interface DesiredContainerLike {
  name: string;
  runtimeName: string;
  sidecar?: true;
  probes?: ContainerProbes;
  namedPorts?: Record<string, number>;
}
interface ObservedLike {
  id: string;
  name: string;
  state: string;
  startedAt: string | null;
  postStartRunning?: boolean;
}

export function probeTargets(
  desired: DesiredLike,
  observed: readonly ObservedLike[],
  /** Pod name → its bridge address. */
  addresses: ReadonlyMap<string, string>,
): ProbeTarget[] {
  const running = new Map(
    observed.filter((o) => o.state === 'running' && !o.postStartRunning).map((o) => [o.name, o]),
  );
  const out: ProbeTarget[] = [];
  for (const pod of desired.pods) {
    const address = pod.hostNetwork ? '127.0.0.1' : (addresses.get(pod.name) ?? '');
    for (const c of [...pod.initContainers.filter((i) => i.sidecar), ...pod.containers]) {
      const o = running.get(c.runtimeName);
      if (!o || !c.probes) continue;
      out.push({
        runtimeName: c.runtimeName,
        object: `${pod.name}/${c.name}`,
        id: o.id,
        startedAt: Date.parse(o.startedAt ?? '') || 0,
        probes: c.probes,
        action: { containerId: o.id, address, namedPorts: c.namedPorts ?? {} },
        graceSeconds: pod.graceSeconds,
      });
    }
  }
  return out;
}
