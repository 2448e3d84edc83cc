// What the API server checks of a container's lifecycle hooks that a schema cannot say: a `sleep`
// handler sleeps no longer than the pod's terminationGracePeriodSeconds (30 s when not given, a
// negative one counting as 1, as a cluster defaults it before it validates); 0 is taken
// (PodLifecycleSleepActionAllowZero, on by default since Kubernetes 1.33). A longer sleep would be
// cut by the grace period anyway, which is why a cluster refuses it. Pure.
import type { Diagnostic } from '../lib/yaml-validate.js';
import type { PodManifest } from './kinds.js';
import { at, type ParsedDoc } from './position.js';

type Hook = { sleep?: { seconds?: number } } | undefined;

export function checkHooks(p: ParsedDoc): Diagnostic[] {
  const pod = p.value as PodManifest;
  const given = pod.spec.terminationGracePeriodSeconds;
  const grace = given === undefined ? 30 : Math.max(given, 1);
  const out: Diagnostic[] = [];
  for (const list of ['initContainers', 'containers'] as const)
    for (const [i, c] of (pod.spec[list] ?? []).entries()) {
      const hooks = (c as { lifecycle?: Record<string, Hook> }).lifecycle ?? {};
      for (const kind of ['postStart', 'preStop'] as const) {
        const seconds = hooks[kind]?.sleep?.seconds;
        if (seconds === undefined || seconds <= grace) continue;
        out.push(
          at(
            p,
            ['spec', list, i, 'lifecycle', kind, 'sleep', 'seconds'],
            'ERR_MANIFEST_INVALID',
            `lifecycle.${kind}.sleep.seconds ${seconds} is more than the pod's terminationGracePeriodSeconds (${grace}): a cluster rejects it`,
          ),
        );
      }
    }
  return out;
}
