// A daemon's pass triggered by one manifest file (or one task's end) reads again only the pods that
// change touches, and reuses the last observation for the rest; a resync, and the pass after a failed
// one, read every pod (reconcile/observe-delta.ts); a container that ended with no trigger is seen by
// the next full pass, as the README promises. Real files in a temp dir: container records,
// pods' pod.json, manifests, the content store; the daemon's own pass (runPass) starting nothing.
// What each pass read is counted through the file cache the runtime is given, by pod.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContentStore } from '../../src/content/store.js';
import { createFileCache, type FileCache } from '../../src/lib/file-cache.js';
import { loadManifests, type ParseCache } from '../../src/manifest/load.js';
import { openPipelines, type PassResult, type Reconciler, runPass } from '../../src/reconcile/loop.js';
import type { ObservationMemo } from '../../src/reconcile/observe-delta.js';
import type { PassScope } from '../../src/reconcile/observe-scope.js';
import { statusFile } from '../../src/reconcile/status-file.js';
import type { RuntimeDeps } from '../../src/runtime/containers.js';
import { runtimePaths } from '../../src/runtime/paths.js';
import { startTimeOf } from '../../src/runtime/runc-state.js';
import { removeTempRoot } from '../helpers/temp-root.js';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'berth-observe-delta-'));
});
afterAll(async () => {
  await removeTempRoot(work);
});

const pod = (name: string, arg = 'a') => `apiVersion: v1
kind: Pod
metadata: { name: ${name} }
spec:
  containers:
    - { name: main, image: busybox, command: [sleep, '${arg}'] }
`;

/** A host in `dir` with pods s0…s(n-1): manifest, pod.json and one container record each. */
async function makeHost(dir: string, n: number) {
  const root = join(dir, 'root');
  const state = join(dir, 'state');
  const manifests = join(dir, 'manifests');
  const paths = runtimePaths(root, state);
  await mkdir(manifests, { recursive: true });
  await mkdir(paths.containers, { recursive: true });
  await mkdir(state, { recursive: true });
  /** Container id → pod. */
  const podOfId = new Map<string, string>();
  /** As the pod's task would: its sandbox's record and one container. */
  const addPodState = async (name: string, k: number) => {
    const file = join(manifests, `${name}.yaml`);
    await mkdir(join(root, 'pods', name), { recursive: true });
    await writeFile(join(root, 'pods', name, 'pod.json'), `${JSON.stringify({ source: file })}\n`);
    const id = k.toString(16).padStart(32, '0');
    podOfId.set(id, name);
    await mkdir(join(paths.containers, id));
    const record = {
      id,
      name: `${name}_main`,
      image: 'busybox',
      createdAt: `2026-12-01T00:00:${String(k).padStart(2, '0')}Z`,
      settings: {},
      annotations: {
        'berth.dev/owner': 'manifests',
        'berth.dev/pod': name,
        'berth.dev/container': 'main',
        'berth.dev/source': file,
      },
    };
    await writeFile(join(paths.containers, id, 'container.json'), JSON.stringify(record));
    return id;
  };
  for (let k = 0; k < n; k++) {
    await writeFile(join(manifests, `s${k}.yaml`), pod(`s${k}`));
    await addPodState(`s${k}`, k);
  }
  // What observation reads through the runtime's cache, by pod: records and pod.json files.
  const reads: string[] = [];
  const cache = createFileCache();
  const fileCache: FileCache = {
    read: (path, parse) => {
      reads.push(path);
      return cache.read(path, parse);
    },
    sweep: () => cache.sweep(),
    get size() {
      return cache.size;
    },
  };
  const podsRead = () => {
    const out = new Set<string>();
    for (const path of reads.splice(0)) {
      const m =
        /\/pods\/([^/]+)\/pod\.json$/.exec(path) ??
        /\/containers\/([0-9a-f]{32})\/container\.json$/.exec(path);
      if (m) out.add(podOfId.get(m[1] as string) ?? (m[1] as string));
    }
    return [...out].sort();
  };
  const rt = {
    paths,
    runc: { root: paths.runcRoot },
    fileCache,
    stateCache: new Map(),
  } as unknown as RuntimeDeps;
  const r: Reconciler = {
    rt,
    store: createContentStore({ root }),
    host: { volumes: paths.volumes, pods: join(root, 'pods'), netns: paths.netns },
    status: statusFile(join(state, 'reconcile.json')),
    now: Date.now,
    lock: async () => ({ release: async () => undefined }),
  };
  const pipelines = openPipelines(r, {
    pull: async () => {
      throw new Error('no registry in this test');
    },
  });
  const memo: ObservationMemo = {};
  const parsed: ParseCache = new Map();
  /** One daemon pass asked to look at `scope`; it starts nothing (no runc here). */
  const pass = async (scope: PassScope): Promise<PassResult> => {
    const loaded = await loadManifests(manifests, { cache: parsed });
    return runPass(r, manifests, pipelines, { loaded, startNothing: true, observation: memo, scope });
  };
  return { manifests, paths, root, pass, podsRead, addPodState, memo };
}

const files = (...f: string[]) => ({ files: new Set(f), pods: new Set<string>() });
const pods = (...p: string[]) => ({ files: new Set<string>(), pods: new Set(p) });
const all = (n: number) => Array.from({ length: n }, (_, k) => `s${k}`).sort();
const podsSeen = (r: PassResult) =>
  [...new Set(r.containers?.map((c) => c.annotations['berth.dev/pod']))].sort();

describe('a scoped pass observes only what its trigger touched', () => {
  it('a one-file drop reads one pod, a resync reads all; the merged view is every pod', async () => {
    const h = await makeHost(join(work, 'drop'), 10);
    const first = await h.pass('all');
    expect(h.podsRead()).toEqual(all(10));

    // A changed file: its pod, and nothing else, is read again.
    await writeFile(join(h.manifests, 's3.yaml'), pod('s3', 'b'));
    const edited = await h.pass(files(join(h.manifests, 's3.yaml')));
    expect(h.podsRead()).toEqual(['s3']);
    expect(podsSeen(edited)).toEqual(all(10));

    // A dropped file: nothing of its pod exists yet, and no other pod is read.
    await writeFile(join(h.manifests, 'extra.yaml'), pod('extra'));
    const dropped = await h.pass(files(join(h.manifests, 'extra.yaml')));
    expect(h.podsRead()).toEqual([]);
    // Its task made its sandbox and container, and ended: the next pass reads that pod alone.
    await h.addPodState('extra', 10);
    const ended = await h.pass(pods('extra'));
    expect(h.podsRead()).toEqual(['extra']);
    expect(podsSeen(ended)).toEqual([...all(10), 'extra'].sort());

    // The resync reads every pod.
    const resync = await h.pass('all');
    expect(h.podsRead()).toEqual([...all(10), 'extra'].sort());
    // What each pass says it read (`daemon --stats`).
    expect([first, edited, dropped, ended, resync].map((r) => r.observedPods)).toEqual([
      { pods: 10, of: 10 },
      { pods: 1, of: 10 },
      { pods: 0, of: 10 },
      { pods: 1, of: 11 },
      { pods: 11, of: 11 },
    ]);
  });

  it('a container removed out of scope is gone from the next pass (the directory is listed every time)', async () => {
    const h = await makeHost(join(work, 'removed'), 4);
    await h.pass('all');
    h.podsRead();
    await rm(join(h.paths.containers, (2).toString(16).padStart(32, '0')), { recursive: true });
    await rm(join(h.root, 'pods', 's2'), { recursive: true, force: true });
    const after = await h.pass(files(join(h.manifests, 's0.yaml')));
    expect(h.podsRead()).toEqual(['s0']);
    expect(podsSeen(after)).toEqual(['s0', 's1', 's3']);
  });

  it('orphans are looked for by full passes only: a scoped pass leaves a bundle with no record, the next full one reaps it', async () => {
    const h = await makeHost(join(work, 'orphan'), 3);
    await h.pass('all');
    const orphan = join(h.paths.containers, 'f'.repeat(32)); // a bundle a killed `berth run` left
    await mkdir(orphan);
    await writeFile(join(orphan, 'config.json'), '{}');
    const scoped = await h.pass(files(join(h.manifests, 's0.yaml')));
    expect(existsSync(orphan)).toBe(true);
    expect(podsSeen(scoped)).toEqual(all(3));
    await h.pass('all');
    expect(existsSync(orphan)).toBe(false);
  });

  it('a failure to observe one pod fails the pass, and the next pass reads every pod', async () => {
    const h = await makeHost(join(work, 'failed'), 5);
    await h.pass('all');
    h.podsRead();
    // s4's container has not run (no runc state): its exit file is read, and a directory there fails the read.
    const exit = join(h.paths.exits, (4).toString(16).padStart(32, '0'));
    await mkdir(exit, { recursive: true });
    await expect(h.pass(files(join(h.manifests, 's4.yaml')))).rejects.toThrow(/EISDIR/);
    expect(h.memo.last).toBeUndefined();
    await rm(exit, { recursive: true });
    h.podsRead();
    const next = await h.pass(files(join(h.manifests, 's1.yaml')));
    expect(h.podsRead()).toEqual(all(5));
    expect(next.observedPods).toEqual({ pods: 5, of: 5 });
  });

  it('a container that died with no exit file (its conmon killed too) is reused as running by scoped passes and seen exited by the next full one', async () => {
    const h = await makeHost(join(work, 'silent'), 3);
    // s1's container runs: runc's state names a live process of ours (started, so no exec.fifo).
    const child = spawn('sleep', ['60'], { stdio: 'ignore' });
    await new Promise((res) => child.once('spawn', res));
    const ended = new Promise((res) => child.once('exit', res));
    try {
      const pid = child.pid as number;
      const start = startTimeOf(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      const id = (1).toString(16).padStart(32, '0');
      await mkdir(join(h.paths.runcRoot, id), { recursive: true });
      await writeFile(
        join(h.paths.runcRoot, id, 'state.json'),
        JSON.stringify({ init_process_pid: pid, init_process_start: start }),
      );
      const stateOf = (r: PassResult) =>
        r.containers?.find((c) => c.annotations['berth.dev/pod'] === 's1')?.state;
      expect(stateOf(await h.pass('all'))).toBe('running');
      child.kill('SIGKILL');
      await ended; // reaped: gone from /proc
      expect(stateOf(await h.pass(files(join(h.manifests, 's0.yaml'))))).toBe('running');
      expect(stateOf(await h.pass(pods('s2')))).toBe('running');
      expect(stateOf(await h.pass('all'))).toBe('exited');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
