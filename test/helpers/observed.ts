// Observed state for plan tests built from loaded manifests: every desired container as berth
// would have created it (owner, pod, source file, spec hash), running unless said otherwise.
import type { LoadedDoc } from '../../src/manifest/kinds.js';
import { desiredState, type HostLayout } from '../../src/reconcile/desired.js';
import {
  ANNOTATION,
  type ObservedContainer,
  type ObservedState,
  OWNER_MANIFESTS,
} from '../../src/reconcile/plan.js';
import type { ObservedSandbox } from '../../src/reconcile/sandbox.js';
import { canonicalSpec, specHash } from '../../src/reconcile/spec-hash.js';

export const TEST_HOST: HostLayout = { volumes: '/r/volumes', pods: '/r/pods', netns: '/s/netns' };
export const TEST_DIGEST = 'sha256:aaa';

export function observedFrom(
  docs: LoadedDoc[],
  /** Per `pod/container`: fields to change (an exited one, say). */
  over: Record<string, Partial<ObservedContainer>> = {},
): ObservedState {
  const desired = desiredState(docs, TEST_HOST);
  const containers = desired.pods.flatMap((p) =>
    p.containers.map((c): ObservedContainer => {
      const spec = canonicalSpec(c, TEST_DIGEST);
      return {
        id: `${p.name}-${c.name}-id`,
        name: c.runtimeName,
        state: 'running',
        exitCode: null,
        startedAt: '2026-11-30T11:00:00Z',
        finishedAt: null,
        annotations: {
          [ANNOTATION.owner]: OWNER_MANIFESTS,
          [ANNOTATION.pod]: p.name,
          [ANNOTATION.container]: c.name,
          [ANNOTATION.source]: p.file,
          [ANNOTATION.hash]: specHash(spec),
          [ANNOTATION.spec]: JSON.stringify(spec),
        },
        ...over[`${p.name}/${c.name}`],
      };
    }),
  );
  const images = new Map(
    desired.pods.flatMap((p) => p.containers.map((c) => [c.image, TEST_DIGEST] as [string, string])),
  );
  const sandboxes = new Map(
    desired.pods.map((p): [string, ObservedSandbox] => [
      p.name,
      {
        netns: true,
        volumes: Object.fromEntries(p.podDirs.map((d) => [d.path, d.memory])),
        source: p.file,
        ...(p.network ? { network: { state: 'ready' as const, ports: p.network.ports } } : {}),
      },
    ]),
  );
  return { images, containers, sandboxes };
}
