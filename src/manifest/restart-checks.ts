// What the API server checks of a container's restartPolicyRules that a schema cannot say: they
// need the container's own restartPolicy, even one equal to the pod's (Kubernetes 1.34
// ContainerRestartRules); the action RestartAllContainers (1.35 alpha, RestartAllContainersOnContainerExits)
// is refused by name: berth restarts only the container that exited. The rules' shape (exitCodes In or
// NotIn, at most 20 rules of at most 255 codes) is the schema's. Pure.
import type { Diagnostic } from '../lib/yaml-validate.js';
import type { PodManifest } from './kinds.js';
import { at, type ParsedDoc } from './position.js';

export function checkRestartRules(p: ParsedDoc): Diagnostic[] {
  const pod = p.value as PodManifest;
  const out: Diagnostic[] = [];
  for (const list of ['initContainers', 'containers'] as const) {
    for (const [i, c] of (pod.spec[list] ?? []).entries()) {
      for (const [j, r] of (c.restartPolicyRules ?? []).entries())
        if (r.action !== 'Restart')
          out.push(
            at(
              p,
              ['spec', list, i, 'restartPolicyRules', j, 'action'],
              'ERR_MANIFEST_UNSUPPORTED',
              `restartPolicyRules action ${r.action} (Kubernetes 1.35 alpha, RestartAllContainersOnContainerExits) is not supported by berth: a rule restarts only the container that exited (action Restart)`,
            ),
          );
      if (c.restartPolicyRules === undefined || c.restartPolicy !== undefined) continue;
      out.push(
        at(
          p,
          ['spec', list, i, 'restartPolicyRules'],
          'ERR_MANIFEST_INVALID',
          "restartPolicyRules needs the container's own restartPolicy (Always, OnFailure or Never), as Kubernetes requires",
        ),
      );
    }
  }
  return out;
}
