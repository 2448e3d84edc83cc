// One pod whose planning throws does not stop the plan (plan-guard.ts). The input is a real one: a
// valid 2.9 MB manifest whose postStart hook sends one aliased string as a hundred HTTP header values
// (YAML allows a hundred aliases; an exec hook's command is bounded now: reconcile/exec-bound.ts), so
// the container's canonical spec is past V8's longest string (2^29 characters) and hashing it
// throws 'Invalid string length' once a container of the pod exists. That pod is a
// wait naming its file and the error, kept as it runs (nothing of it stopped or removed); its
// neighbour is planned as usual; `plan` reports the error at the pod's line, and status shows it.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadManifests } from '../../src/manifest/load.js';
import { type DesiredState, desiredState } from '../../src/reconcile/desired.js';
import { planOnce, type Reconciler } from '../../src/reconcile/loop.js';
import {
  ANNOTATION,
  type ObservedContainer,
  type ObservedState,
  OWNER_MANIFESTS,
} from '../../src/reconcile/plan.js';
import { canonicalSpec, specHash } from '../../src/reconcile/spec-hash.js';
import { buildStatus } from '../../src/reconcile/status.js';

const host = { volumes: '/r/volumes', pods: '/r/pods', netns: '/s/netns' };
const NOW = Date.parse('2026-12-04T04:00:00Z');
const DIGEST = 'sha256:aaa';

const podText = (name: string, hook = '') =>
  `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  hostNetwork: true\n  containers:\n    - name: main\n      image: busybox:1\n      command: [sleep, '1000']\n${hook}`;
// '"' is two characters in JSON: 2.8 M of them, a hundred times, is 560 M characters.
const headers = Array.from({ length: 99 }, (_, i) => `{name: X-${i + 1}, value: *a}`);
const hugeHook = `      lifecycle:\n        postStart:\n          httpGet:\n            port: 80\n            httpHeaders: [{name: X-0, value: &a '${'"'.repeat(2_800_000)}'}, ${headers.join(', ')}]\n`;

/** The container of pod `name` as observe reads it, made from `d`'s spec. */
function running(d: DesiredState, name: string): ObservedContainer {
  const c = d.pods.find((p) => p.name === name)?.containers[0];
  const spec = canonicalSpec(c as NonNullable<typeof c>, DIGEST);
  return {
    id: `${name}-main-id`,
    name: `${name}_main`,
    state: 'running',
    exitCode: null,
    startedAt: '2026-12-04T03:00:00Z',
    finishedAt: null,
    annotations: {
      [ANNOTATION.owner]: OWNER_MANIFESTS,
      [ANNOTATION.pod]: name,
      [ANNOTATION.container]: 'main',
      [ANNOTATION.source]: d.pods.find((p) => p.name === name)?.file ?? '',
      [ANNOTATION.hash]: specHash(spec),
      [ANNOTATION.spec]: JSON.stringify(spec),
    },
  };
}

describe('a pod whose planning throws', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-plan-guard-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is a wait naming its file and error, kept as it runs; the other pods are planned', async () => {
    const huge = join(dir, 'huge.yaml');
    await writeFile(huge, podText('huge'));
    await writeFile(join(dir, 'web.yaml'), podText('web'));
    // What ran: huge as first written. Then its postStart hook is added.
    const before = desiredState((await loadManifests(dir)).docs, host);
    const observed: ObservedState = {
      images: new Map([['docker.io/library/busybox:1', DIGEST]]),
      containers: [running(before, 'huge')],
      sandboxes: new Map(),
    };
    await writeFile(huge, podText('huge', hugeHook));
    const loaded = await loadManifests(dir);
    expect(loaded.diagnostics).toEqual([]); // a valid manifest
    // `plan` and every pass plan it so, and report it as a problem of its file, at the pod's line.
    const r = { host, now: () => NOW } as unknown as Reconciler;
    const planned = await planOnce(r, dir, { loaded, observe: async () => observed });
    const { actions, desired } = planned;
    const error = 'ERR_INTERNAL: Invalid string length';
    expect(actions.map((a) => `${a.kind} ${a.kind === 'pull' ? a.image : a.pod}: ${a.reason}`)).toEqual([
      `wait huge: huge: cannot be planned (${huge}): ${error}: kept as it runs`,
      'run web: web/main: new container',
    ]);
    expect(actions[0]).toMatchObject({
      unplannable: { file: huge, code: 'ERR_INTERNAL', message: 'Invalid string length' },
    });
    const status = buildStatus(dir, desired, new Map(), actions.slice(0, 1), {});
    expect(status.pods.huge).toMatchObject({
      file: huge,
      waiting: `huge: cannot be planned (${huge}): ${error}: kept as it runs`,
    });
    expect(planned.loaded.diagnostics).toEqual([
      {
        file: huge,
        line: 1,
        col: 1,
        code: 'ERR_INTERNAL',
        message: 'Pod huge cannot be planned: Invalid string length',
      },
    ]);
  }, 60_000);
});
