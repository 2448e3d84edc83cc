// The daemon's probing: after each reconcile pass, the containers it observed running whose
// desired spec has probes are handed to the prober (src/health/prober.ts), with their pod's
// address (the bridge attachment's, 127.0.0.1 for hostNetwork). A liveness kill stops the
// container as every stop does, its preStop hook first (container-hooks.ts); its exit triggers a
// pass, which restarts it per restartPolicy.
import { chmod } from 'node:fs/promises';
import { join } from 'node:path';
import type { EventSink } from '../events/event.js';
import { eventOfPreStopFailure } from '../events/from-reconcile.js';
import { createRunAction } from '../health/actions/run-action.js';
import { healthPath } from '../health/health-file.js';
import { probeTargets } from '../health/probe-targets.js';
import { createProber } from '../health/prober.js';
import { makeDirs } from '../lib/make-dirs.js';
import { type HookedContainer, stopWithPreStop } from '../reconcile/container-hooks.js';
import type { PassResult } from '../reconcile/loop.js';
import type { RuntimeDeps } from '../runtime/containers.js';

export interface Probing {
  onPass(result: PassResult): void;
  close(): Promise<void>;
}

export async function openProbing(o: {
  rt: RuntimeDeps;
  state: string;
  events: EventSink;
  userAgent: string;
  /** Where pods' addresses are (HostLayout.attachments): a preStop httpGet goes there. */
  attachments?: string;
  onError(err: unknown): void;
}): Promise<Probing> {
  const pidDir = join(o.state, 'probes');
  // The process specs of exec actions (the container's env) and their pid files: root's alone.
  await makeDirs(pidDir, 0o700);
  await chmod(pidDir, 0o700);
  const runAction = createRunAction({ runc: o.rt.runc, pidDir, userAgent: o.userAgent });
  const hooks = {
    rt: o.rt,
    runAction,
    ...(o.attachments ? { attachments: o.attachments } : {}),
    // A liveness kill's preStop failing is told as any other's.
    onPreStopFailed: (c: HookedContainer, reason: string) => o.events.emit(eventOfPreStopFailure(c, reason)),
  };
  const prober = createProber({
    runAction,
    stop: async (name, grace) => {
      await stopWithPreStop(hooks, name, grace);
    },
    path: healthPath(o.state),
    events: o.events,
    now: () => Date.now(),
    onError: o.onError,
  });
  let syncing = Promise.resolve();
  return {
    onPass(result) {
      const desired = result.desired;
      if (!desired) return;
      const containers = result.containers ?? [];
      const wanted = desired.pods.some((p) => [...p.initContainers, ...p.containers].some((c) => c.probes));
      // Passes come one at a time; the address lookup is not let to reorder two syncs.
      syncing = syncing.then(async () => {
        const attached = wanted && o.rt.network ? await (await o.rt.network()).list().catch(() => []) : [];
        const addresses = new Map(
          attached
            .filter((a) => a.owner.kind === 'pod' && a.state === 'ready' && a.ip)
            .map((a) => [a.owner.name, a.ip as string]),
        );
        prober.sync(probeTargets(desired, containers, addresses));
      });
      syncing = syncing.catch(o.onError);
    },
    async close() {
      await syncing;
      await prober.close();
    },
  };
}
