// One e2e file's host: a temp directory holding --root, --state and a manifests folder, a
// loopback registry with a busybox image (/bin/sh as its command), and the berth CLI bound to that
// root and state. The teardown leaves the host as found (host-cleanup.ts: pods removed the way
// users remove them, mounts under the directory unmounted, the cgroups of every container seen on
// disk after any `berth` call: leaks.ts), stops the registry and removes the
// files (temp-root.ts: mounts first); it returns what was left and what leaked, for the caller to
// assert after everything is cleaned up, so a failed run still leaves nothing behind. A setup that
// fails part way removes what it had made (the caller gets no host to tear down).
import { mkdir, mkdtemp, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CliResult, runBerth } from './cli.js';
import { cleanUpHost } from './host-cleanup.js';
import { buildImage, createLayout, type Layout, populateBusybox, pushImage } from './images.js';
import { cgroupsOf, containerIdsOnDisk } from './leaks.js';
import { startRegistry, type TestRegistry } from './registry.js';
import { removeTempRoot } from './temp-root.js';

export interface E2eHost {
  work: string;
  root: string;
  state: string;
  /** The manifests folder (made). */
  dir: string;
  registry: TestRegistry;
  layout: Layout;
  /** `<registry>/<repo>/busybox:1`, pushed. */
  image: string;
  berth(...args: string[]): Promise<CliResult>;
  /** Every container id found under root and state after a `berth` call or at teardown. */
  seenIds: Set<string>;
}

/** `prefix` names the temp directory (`berth-<prefix>-…`); `repo` the image's repository. */
export async function setUpE2eHost(prefix: string, o: { repo?: string } = {}): Promise<E2eHost> {
  const work = await mkdtemp(join(tmpdir(), `berth-${prefix}-`));
  const root = join(work, 'root');
  const state = join(work, 'state');
  const dir = join(work, 'manifests');
  let registry: TestRegistry | undefined;
  try {
    await mkdir(dir);
    registry = await startRegistry();
    const layout = await createLayout(); // removed with the test file whatever happens (images.ts)
    await buildImage(layout, 'busybox', [populateBusybox], { cmd: '/bin/sh' });
    const image = `${registry.host}/${o.repo ?? 'demo'}/busybox:1`;
    await pushImage(layout, 'busybox', image);
    const seenIds = new Set<string>();
    const berth = (...args: string[]) =>
      runBerth(['--root', root, '--state', state, ...args]).finally(() => {
        for (const id of containerIdsOnDisk(root, state)) seenIds.add(id);
      });
    return { work, root, state, dir, registry, layout, image, berth, seenIds };
  } catch (err) {
    await registry?.stop();
    await removeTempRoot(work);
    throw err;
  }
}

/**
 * Everything the host holds, removed; `undefined` (a setup that failed early) is nothing to do.
 * `berth`: the file's own CLI wrapper when it passes more (a `--config` naming its network);
 * `folders`: manifests folders of its own beside `dir` (their pods are removed too).
 */
export async function tearDownE2eHost(
  h: E2eHost | undefined,
  o: { forceFirst?: boolean; berth?: E2eHost['berth']; folders?: string[] } = {},
): Promise<{ left: string[]; leaked: string[] }> {
  if (!h) return { left: [], leaked: [] };
  const { berth = h.berth, forceFirst } = o;
  for (const id of containerIdsOnDisk(h.root, h.state)) h.seenIds.add(id);
  const found = await cleanUpHost({
    berth,
    work: h.work,
    folders: [h.dir, ...(o.folders ?? [])],
    ...(forceFirst ? { forceFirst } : {}),
  });
  // Every container is gone by now: a cgroup of one is a leak (removed here, empty once its processes are).
  const cgroups = [...h.seenIds].flatMap(cgroupsOf);
  for (const c of cgroups) await rmdir(c).catch(() => undefined);
  await h.registry.stop();
  await h.layout.cleanup();
  await removeTempRoot(h.work); // a mount made after cleanUpHost looked (a killed berth's tool) too
  return { left: found.left, leaked: [...found.leaked, ...cgroups.map((c) => `cgroup ${c} left`)] };
}
