// A container that cannot be made from its own settings though its file loaded, as the kubelet's
// CreateContainerConfigError: a cluster takes the file and fails only that container at its start
// (an env resourceFieldRef to no container of the pod, runAsNonRoot beside uid 0, a relative
// workingDir), and starts the pod's other app containers beside it. So does the executor
// (execute.ts): such a failed run of an app container is reported and the rest of the pod's actions
// go on; it backs off alone, its failure holding only its own run (plan-waits.ts heldByFailure), as
// the kubelet keeps a back-off per container. An init container's or a sidecar's holds the rest, as
// its failure holds the kubelet's next containers. Pure.
import { BerthError, isBerthError } from '../lib/errors.js';

/** What a container's create refuses before anything of it is made (create.ts undoes every step). */
const CONFIG_CODES = new Set([
  'ERR_CONTAINER_CONFIG',
  'ERR_RUN_AS_ROOT',
  'ERR_CONTAINER_INVALID',
  'ERR_WORKDIR_INVALID',
  'ERR_WORKDIR_UNSAFE',
]);

export const isContainerConfigError = (err: unknown): boolean =>
  isBerthError(err) && CONFIG_CODES.has(err.code);

/** Throws the container's `refused` (desired.ts) as the failure of its run. */
export function checkNotRefused(c: { refused?: string }): void {
  if (c.refused !== undefined)
    throw new BerthError('ERR_CONTAINER_CONFIG', 'invalid', c.refused, {
      hint: "fix it in the manifest: the pod's other containers run meanwhile",
    });
}
