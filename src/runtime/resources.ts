// A container's cgroup settings as berth holds them (a Kubernetes container's or pod's requests and
// limits, `--memory`/`--cpus`) and as the OCI runtime config's `linux.resources` says them. Pod
// cgroups (pod-cgroup.ts) take the same settings. Pure.
import { DEVICE_RULES } from './defaults.js';

/** The CFS period berth uses: a quota of `milliCpus` is that many thousandths of it. */
export const CPU_PERIOD_US = 100_000;

/** A CFS quota in µs for `milliCpus` (at least 1 ms, as the kernel wants). */
export const cpuQuotaOf = (milliCpus: number) =>
  Math.max(1000, Math.round((milliCpus * CPU_PERIOD_US) / 1000));

export interface ContainerResources {
  memoryBytes?: number;
  milliCpus?: number; // CPU in thousandths of a core
  pids?: number;
  /** Relative CPU weight (a Kubernetes cpu request). */
  cpuShares?: number;
  /** Memory kept for the container under pressure (a Kubernetes memory request). */
  memoryReservationBytes?: number;
}

/** A pod's own cgroup (pod-level resources), parent of its containers': runtime/pod-cgroup.ts. */
export interface PodCgroup {
  /** Its directory under `/berth` in each hierarchy (cgroups.ts podCgroupName). */
  name: string;
  resources: ContainerResources;
}

/** The OCI config's `linux.resources` for a container's settings (runc writes them to its own cgroup). */
export function resourcesOf(r: ContainerResources | undefined): object {
  // The same device rules for privileged containers: what runc gave them before (it denies by
  // default); they have no host /dev to use either.
  const out: Record<string, object> = { devices: DEVICE_RULES };
  if (!r) return out;
  const memory: Record<string, number> = {};
  if (r.memoryBytes !== undefined) Object.assign(memory, { limit: r.memoryBytes, swap: r.memoryBytes });
  if (r.memoryReservationBytes !== undefined)
    memory.reservation = Math.min(r.memoryReservationBytes, r.memoryBytes ?? r.memoryReservationBytes);
  if (Object.keys(memory).length > 0) out.memory = memory;
  const cpu: Record<string, number> = {};
  if (r.milliCpus !== undefined) {
    Object.assign(cpu, { period: CPU_PERIOD_US, quota: cpuQuotaOf(r.milliCpus) });
  }
  if (r.cpuShares !== undefined) cpu.shares = r.cpuShares;
  if (Object.keys(cpu).length > 0) out.cpu = cpu;
  if (r.pids !== undefined) out.pids = { limit: r.pids };
  return out;
}
