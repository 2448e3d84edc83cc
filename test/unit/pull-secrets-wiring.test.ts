// Which pulls carry a pod's imagePullSecrets: the executor hands each pull the secrets of the pods
// that want it (an Image or a pod without secrets adds none), through the puller seam (deps.pull).
import { describe, expect, it } from 'vitest';
import type { LoadedDoc, ManifestDoc } from '../../src/manifest/kinds.js';
import { desiredState } from '../../src/reconcile/desired.js';
import { createExecutor } from '../../src/reconcile/execute.js';
import type { Action } from '../../src/reconcile/plan.js';
import { createTasks } from '../../src/reconcile/tasks.js';
import type { RuntimeDeps } from '../../src/runtime/containers.js';

const host = { volumes: '/r/volumes', pods: '/r/pods', netns: '/s/netns' };
const doc = (d: ManifestDoc): LoadedDoc => ({ doc: d, file: '/m/all.yaml', line: 1 });
const config = (host: string) => JSON.stringify({ auths: { [host]: { auth: 'dTpw' } } });
const pullSecret = (name: string, registry: string) =>
  doc({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name },
    type: 'kubernetes.io/dockerconfigjson',
    stringData: { '.dockerconfigjson': config(registry) },
  });
const pod = (name: string, image: string, secrets: string[]) =>
  doc({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { containers: [{ name: 'main', image }], imagePullSecrets: secrets.map((s) => ({ name: s })) },
  });

describe('imagePullSecrets reach the pulls of their pods only', () => {
  it('each pull gets the secrets of the pods that want it', async () => {
    const desired = desiredState(
      [
        pullSecret('a-creds', 'a.lan'),
        pullSecret('b-creds', 'b.lan'),
        pod('one', 'a.lan/app:1', ['a-creds']),
        pod('two', 'a.lan/app:1', ['b-creds']),
        pod('three', 'c.lan/app:1', []),
      ],
      host,
    );
    const calls: Array<[string, string[] | undefined]> = [];
    const tasks = createTasks();
    const executor = createExecutor(
      {
        rt: {} as RuntimeDeps, // pulls only: the runtime is never reached
        host,
        pull: async (image, from) => {
          calls.push([image, from?.pullSecrets]);
        },
      },
      tasks,
    );
    const pull = (image: string, who: string[]): Action => ({ kind: 'pull', image, for: who, reason: image });
    executor.start(
      [pull('a.lan/app:1', ['one/main', 'two/main']), pull('c.lan/app:1', ['three/main', 'Image c'])],
      desired,
    );
    for (const key of ['image/a.lan/app:1', 'image/c.lan/app:1']) await tasks.join(key);
    expect(calls.sort()).toEqual([
      ['a.lan/app:1', [config('a.lan'), config('b.lan')]],
      ['c.lan/app:1', undefined],
    ]);
  });
});
