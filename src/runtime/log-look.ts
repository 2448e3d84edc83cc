// A look at containers' log files (log-rotation.ts) with the host config's settings: what `berth
// logs`, `berth apply` and the daemon call. Without settings (RuntimeDeps.logRotation), nothing.
import type { RuntimeDeps } from './containers.js';
import { holdLiveLog, keepRotatedLogs } from './log-rotation.js';
import { containerPaths } from './paths.js';

/** One look at each container's log; a container removed meanwhile is no error. */
export async function lookAtContainerLogs(deps: RuntimeDeps, ids: readonly string[]): Promise<void> {
  const rotation = await deps.logRotation?.();
  if (!rotation) return;
  for (const id of ids)
    await keepRotatedLogs(containerPaths(deps.paths, id).log, rotation.maxFiles, rotation.lock);
}

/** Holds a container's live log and arms conmon's next file (no lock: see log-rotation.ts). */
export async function holdContainerLog(deps: RuntimeDeps, id: string): Promise<void> {
  const rotation = await deps.logRotation?.();
  if (rotation && rotation.maxFiles > 0) await holdLiveLog(containerPaths(deps.paths, id).log);
}
