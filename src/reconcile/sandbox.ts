// A pod's sandbox as the planner sees it: its network namespace and its emptyDirs, and the folder
// of manifests it was set up from. Whole only when everything the pod needs is mounted: after a
// reboot `/run` (the netns) and every tmpfs are gone while `<root>/pods/<name>/` is still there.
// A sandbox made again means, as in Kubernetes, every container of the pod is made again (init
// containers run again), except what the restart policy says is finished. Pure.
import { dirname } from 'node:path';
import type { HostEntry } from '../network/names.js';
import type { PortMapping } from '../network/ports.js';
import type { RestartPolicy } from '../runtime/restart.js';
import type { DesiredPod } from './desired.js';

/** When a pod first started, for which manifest (its digest): active-record.ts. */
export interface ActiveRecord {
  since: number;
  manifest: string;
}

export interface ObservedSandbox {
  /** `<state>/netns/pod-<name>` is a mounted namespace (not just a file left behind). */
  netns: boolean;
  /** Its PID namespace holder (shareProcessNamespace) is recorded and still that process. */
  pidns?: boolean;
  /** The pod's emptyDir directories that exist, by path: true when a mount point (tmpfs). */
  volumes: Record<string, boolean>;
  /** Config volumes' content stamps (their `..data`), by path. */
  stamps?: Record<string, string>;
  /** The manifest file it was set up from (`<root>/pods/<name>/pod.json`), when recorded. */
  source?: string;
  /** Its place on the bridge network, when it has one (`adding`: a setup that did not finish). */
  network?: {
    state: 'adding' | 'ready';
    ports: PortMapping[];
    names?: string[];
    aliases?: HostEntry[];
    /** Its bridge or veth is gone from the host (deleted by someone): network/links-here.ts. */
    lost?: boolean;
  };
  /** Its first start (activeDeadlineSeconds), when recorded. */
  active?: ActiveRecord;
  /** A hostUsers: false ID range is recorded (`userns.json`). */
  userns?: boolean;
}

export type SandboxCheck = 'none-needed' | 'whole' | 'missing' | 'broken';

// A DirectoryOrCreate hostPath made a sandbox before the other types were checked: those are
// prepared at each container's create (execute.ts), so a pod that ran without one keeps running.
export const needsSandbox = (pod: DesiredPod) =>
  Boolean(pod.netnsPath) ||
  Boolean(pod.pidHolder) ||
  pod.podDirs.length > 0 ||
  pod.hostPaths.some((h) => h.type === 'DirectoryOrCreate');

/** Whether the pod's sandbox is there and whole; `broken` when something of it is left but not all. */
export function checkSandbox(pod: DesiredPod, s: ObservedSandbox | undefined): SandboxCheck {
  if (!needsSandbox(pod)) return 'none-needed';
  if (!s) return 'missing';
  if (pod.netnsPath && !s.netns) return 'broken';
  // A holder that died took the pod's processes with it; one no longer asked for goes with a new sandbox.
  if (Boolean(pod.pidHolder) !== (s.pidns === true)) return 'broken';
  if (pod.userns && !s.userns) return 'broken';
  if (pod.network && !isAttachedAsAsked(pod.network, s.network)) return 'broken';
  const whole = pod.podDirs.every((d) => (d.memory ? s.volumes[d.path] === true : d.path in s.volumes));
  return whole ? 'whole' : 'broken';
}

/**
 * When all the sandbox lacks is its place on the bridge, its links deleted under it, why it is put
 * back there (same address) with its containers kept: a pod whose veth a firewall script or an
 * admin deleted has lost nothing else.
 */
export function relinkReason(pod: DesiredPod, s: ObservedSandbox | undefined): string | undefined {
  if (!s?.network?.lost || !pod.network) return undefined;
  const whole = checkSandbox(pod, { ...s, network: { ...s.network, lost: false } }) === 'whole';
  return whole
    ? 'its bridge or veth was deleted: put back on the network, its address and containers kept'
    : undefined;
}

/**
 * Why a broken sandbox is set up again, for the plan's reason: its namespace is there but its place
 * on the network is not what the pod asks (its ports or names changed, or the host config's
 * network did), or else something of it is gone (a reboot takes the namespace and tmpfs mounts).
 */
export function brokenBecause(pod: DesiredPod, s: ObservedSandbox | undefined): string {
  // The network alone: the rest of the sandbox would be whole were the pod on it as asked.
  const asAsked = pod.network && { state: 'ready' as const, ...pod.network };
  const offNetwork = s && asAsked && checkSandbox(pod, { ...s, network: asAsked }) === 'whole';
  return offNetwork
    ? "not on the network as it asks (its ports or names, or the host config's network, changed)"
    : 'sandbox gone (host rebooted?)';
}

/** On the network, fully, with the ports it asks for now (other ports: set up again). */
const isAttachedAsAsked = (want: NonNullable<DesiredPod['network']>, n: ObservedSandbox['network']) =>
  n?.state === 'ready' &&
  n.lost !== true &&
  JSON.stringify(n.ports) === JSON.stringify(want.ports) &&
  // Names and hostAliases are the pod's (Kubernetes makes a new pod for a change of them): an
  // older record says nothing of them and is taken as it is.
  (n.aliases === undefined || JSON.stringify(n.aliases) === JSON.stringify(want.aliases)) &&
  (n.names === undefined || JSON.stringify(n.names) === JSON.stringify(want.names));

/** The folder a pod came from: its manifest file's directory. */
export const folderOf = (source: string | undefined) => (source ? dirname(source) : undefined);

export interface EndedContainer {
  name: string;
  init: boolean;
  state: 'created' | 'running' | 'exited';
  exitCode: number | null;
}

/**
 * When the sandbox of a pod that ran is made again: the app containers that start again, each by
 * the restart policy it exits under (its own, or the pod's: the kubelet's rule, none under Never
 * once the pod ran, under OnFailure all but those that exited 0; a reboot leaves no exit code for
 * restartPolicyRules to match). Empty: the pod has finished and stays as it ended, with no sandbox.
 */
export function containersToStartAgain(
  app: { name: string; policy: RestartPolicy }[],
  observed: EndedContainer[],
): string[] {
  const succeeded = (n: string) =>
    observed.some((o) => o.name === n && !o.init && o.state === 'exited' && o.exitCode === 0);
  const again = ({ name, policy }: { name: string; policy: RestartPolicy }) =>
    policy === 'Always' || (policy === 'OnFailure' ? !succeeded(name) : observed.length === 0);
  return app.filter(again).map((c) => c.name);
}
