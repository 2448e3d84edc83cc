// What a cluster takes but its kubelet fails at one container's start (CreateContainerConfigError):
// berth loads the file too, and fails only that container. An env resourceFieldRef to no container of
// the pod is the container's `refused` (its run fails with ERR_CONTAINER_CONFIG before anything is
// touched), and the executor goes on with the pod's other app containers; an init container's refusal
// still holds what follows it. A downwardAPI volume's such ref leaves the pod waiting, as the kubelet's
// mount of it fails.
import { describe, expect, it } from 'vitest';
import { BerthError, isBerthError } from '../../src/lib/errors.js';
import type { PodManifest } from '../../src/manifest/kinds.js';
import { parseFile } from '../../src/manifest/parse.js';
import { desiredState } from '../../src/reconcile/desired.js';
import { createExecutor } from '../../src/reconcile/execute.js';
import type { Action } from '../../src/reconcile/plan.js';
import { createTasks } from '../../src/reconcile/tasks.js';
import type { RuntimeDeps } from '../../src/runtime/containers.js';

const host = { volumes: '/r/volumes', pods: '/r/pods', netns: '/s/netns' };

const CPU_OF_NOPE =
  '      env:\n        - name: CPU\n          valueFrom:\n            resourceFieldRef: {containerName: nope, resource: limits.cpu}\n';

const podText = (init: string, containers: string, volumes = '') =>
  `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n${init}  containers:\n${containers}${volumes}`;

const container = (name: string, extra = '') => `    - name: ${name}\n      image: busybox:1\n${extra}`;

function load(text: string) {
  const r = parseFile(text, 'p.yaml');
  expect(r.diagnostics).toEqual([]);
  return desiredState([{ doc: r.parsed[0]?.value as PodManifest, file: '/m/p.yaml', line: 1 }], host);
}

const run = (container: string, waitForExit = false): Action => ({
  kind: 'run',
  pod: 'p',
  container,
  restarts: 0,
  backoffMs: 0,
  waitForExit,
  reason: container,
});

/** A runtime whose store cannot be read: every create that is tried fails with ERR_STUB_RUNTIME. */
const rt = {
  images: async () => {
    throw new BerthError('ERR_STUB_RUNTIME', 'internal', 'a stub');
  },
} as unknown as RuntimeDeps;

/** The failed actions of the pod's task: which container, its error's code, and 'alone' when it failed alone. */
async function failures(text: string, actions: Action[]) {
  const tasks = createTasks();
  const executor = createExecutor({ rt, host, pull: async () => undefined }, tasks);
  executor.start(actions, load(text));
  await tasks.join('pod/p');
  return tasks
    .drain()
    .failed.map((f) => [
      f.action.kind === 'run' ? f.action.container : f.action.kind,
      isBerthError(f.error) ? f.error.code : String(f.error),
      ...(f.alone ? ['alone'] : []),
    ]);
}

describe('an env resourceFieldRef to no container of the pod', () => {
  it('loads, and only that container is refused, saying which variable names what', () => {
    const desired = load(podText('', container('bad', CPU_OF_NOPE) + container('good')));
    const [bad, good] = desired.pods[0]?.containers ?? [];
    expect([bad?.refused, good?.refused]).toEqual([
      'container bad: env CPU: resourceFieldRef names container "nope", which is not in the pod',
      undefined,
    ]);
    expect(desired.unusable).toBeUndefined();
  });

  it("fails its run alone: the pod's next app container is still tried", async () => {
    const text = podText('', container('bad', CPU_OF_NOPE) + container('good'));
    expect(await failures(text, [run('bad'), run('good')])).toEqual([
      ['bad', 'ERR_CONTAINER_CONFIG', 'alone'],
      ['good', 'ERR_STUB_RUNTIME'],
    ]);
  });

  it("an init container's refusal holds the containers after it, as the kubelet's does", async () => {
    const text = podText(`  initContainers:\n${container('setup', CPU_OF_NOPE)}`, container('good'));
    expect(await failures(text, [run('setup', true), run('good')])).toEqual([
      ['setup', 'ERR_CONTAINER_CONFIG'],
    ]);
  });
});

describe('a downwardAPI volume resourceFieldRef to no container of the pod', () => {
  it('loads, and the pod waits, as it waits for the kubelet mount that fails', () => {
    const volumes =
      '  volumes:\n    - name: info\n      downwardAPI:\n        items:\n' +
      '          - path: cpu\n            resourceFieldRef: {containerName: nope, resource: limits.cpu}\n';
    const desired = load(podText('', container('main'), volumes));
    expect(desired.pods[0]?.waitingFor).toEqual([
      `container "nope" of volume info's resourceFieldRef (not in the pod)`,
    ]);
  });
});
