// What the host has, for the planner: images in the store (name → manifest digest) that are
// wholly unpacked, those named but not unpacked (a pull unpacks them), every container with its
// annotations and live state (read from files), each pod's sandbox (what of it is mounted), and
// what the daemon's prober last found of the containers (`<state>/health.json`).
import { dirname } from 'node:path';
import { ambiguousNames } from '../content/image-names.js';
import type { ContentStore, ImageRecord } from '../content/types.js';
import { healthPath } from '../health/health-file.js';
import { describeImage } from '../images/describe.js';
import { otherRootsPorts } from '../network/host-ports.js';
import { identifyBadRecords } from '../runtime/bad-record-identity.js';
import { OWNER_STANDALONE } from '../runtime/bundle-owner.js';
import { containerStatus, type RuntimeDeps } from '../runtime/containers.js';
import { type BadRecord, type ContainerRecord, readRecordsReport } from '../runtime/record.js';
import { chainIds } from '../snapshot/chain.js';
import type { HostLayout } from './desired.js';
import { observeHealth } from './observe-health.js';
import type { ObservedContainer, ObservedState } from './plan.js';
import { OWNER_MANIFESTS } from './plan-types.js';
import { type PodView, podViews } from './pod-views.js';
import { observeSandboxes } from './pods.js';
import { isPostStartRunning, markedIds, postStartDir } from './post-start-marks.js';
import type { StatusFile } from './status-file.js';

/**
 * Whether every snapshot of the image's chain exists (`pull --no-unpack`, a changed snapshotter,
 * a pruned snapshot: named, but no container can be made from it).
 */
async function isUnpacked(rt: RuntimeDeps, store: ContentStore, image: ImageRecord): Promise<boolean> {
  const { snapshots } = await rt.images();
  try {
    const details = await describeImage(store, image);
    for (const id of chainIds(details.config.rootfs.diff_ids)) if (!(await snapshots.get(id))) return false;
    return true;
  } catch {
    return false; // its manifest or config is unreadable: a pull fetches them again
  }
}

/**
 * Containers with unreadable records: a pod's with its pod, a standalone one as such (it holds no
 * pod), one whose owner is unknown with its name if conmon still says it (plan matches it whole).
 */
export function observeBadRecords(
  rt: RuntimeDeps,
  bad: readonly BadRecord[],
): NonNullable<ObservedState['badRecords']> {
  return identifyBadRecords(rt.paths.containers, bad, rt.paths.runcRoot).map((b) => {
    if (b.owner?.owner === OWNER_STANDALONE) return { id: b.id, standalone: true };
    if (b.owner?.owner === OWNER_MANIFESTS && b.owner.pod) return { id: b.id, pod: b.owner.pod };
    return { id: b.id, ...(b.name ? { name: b.name } : {}), ...(b.mayRun ? { mayRun: true } : {}) };
  });
}

/** The store's images: what is wholly unpacked, what is named but not, and when each was pulled. */
export async function observeImages(
  rt: RuntimeDeps,
  store: ContentStore,
): Promise<Pick<ObservedState, 'images' | 'pulledAt' | 'notUnpacked' | 'ambiguousImages'>> {
  // A name index.json gives to entries of two digests names no image (content/image-names.ts):
  // nothing is made from it and what runs from it stays; a pull or import names it again.
  const listed = await store.listImages();
  const ambiguous = ambiguousNames(listed);
  const images = ambiguous.size === 0 ? listed : listed.filter((i) => !ambiguous.has(i.name));
  const unpacked = await Promise.all(images.map((i) => isUnpacked(rt, store, i)));
  return {
    images: new Map(images.filter((_, n) => unpacked[n]).map((i) => [i.name, i.target.digest])),
    pulledAt: new Map(images.map((i) => [i.name, Date.parse(i.pulledAt) || 0])),
    notUnpacked: new Set(images.filter((_, n) => !unpacked[n]).map((i) => i.name)),
    ...(ambiguous.size > 0 ? { ambiguousImages: ambiguous } : {}),
  };
}

/** The containers of `records` with their live state. */
export async function observeContainers(
  rt: RuntimeDeps,
  records: readonly ContainerRecord[],
): Promise<ObservedContainer[]> {
  const marks = postStartDir(rt.paths);
  const marked = markedIds(marks);
  return Promise.all(
    records.map(async (r) => {
      const s = await containerStatus(rt, r);
      const hooked = s.state === 'running' && marked.has(r.id) && isPostStartRunning(marks, r.id);
      return {
        id: r.id,
        name: r.name,
        state: s.state,
        exitCode: s.exitCode,
        startedAt: s.startedAt,
        finishedAt: s.finishedAt,
        annotations: r.annotations ?? {},
        reason: s.reason ?? null,
        oomKilled: s.oomKilled,
        ...(hooked ? { postStartRunning: true } : {}),
      };
    }),
  );
}

export async function observe(
  rt: RuntimeDeps,
  store: ContentStore,
  host: HostLayout,
): Promise<ObservedState> {
  // Records are read once a pass (the containers and the bad ones alike), through the daemon's cache.
  const { records, bad } = readRecordsReport(rt.paths.containers, rt.fileCache);
  const [images, sandboxes] = await Promise.all([
    observeImages(rt, store),
    observeSandboxes(host, rt.fileCache),
  ]);
  const observed: ObservedState = {
    ...images,
    containers: await observeContainers(rt, records),
    sandboxes,
    badRecords: observeBadRecords(rt, bad),
    ...(host.health ? { health: observeHealth(host.health) } : {}),
    ...observeHostPorts(host),
  };
  rt.fileCache?.sweep(); // what this pass did not read (removed containers and pods) goes
  return observed;
}

/** The host ports other roots hold: read whole on every pass (a small directory, often none). */
export const observeHostPorts = (host: HostLayout): Pick<ObservedState, 'hostPorts'> =>
  host.hostPorts ? { hostPorts: otherRootsPorts(host.hostPorts.dir, host.hostPorts.state) } : {};

/** The pods as `berth ps` shows them: the last reconcile's status merged with what exists. */
export async function observePods(rt: RuntimeDeps, status: StatusFile): Promise<PodView[]> {
  // Through the daemon's cache too: `GET /v1/pods` and each scrape of /metrics ask this.
  const { records } = readRecordsReport(rt.paths.containers, rt.fileCache);
  const marks = postStartDir(rt.paths);
  const marked = markedIds(marks);
  const observed = await Promise.all(
    records.map(async (record) => {
      const status = await containerStatus(rt, record);
      const hooked =
        status.state === 'running' && marked.has(record.id) && isPostStartRunning(marks, record.id);
      return { record, status, ...(hooked ? { postStartRunning: true } : {}) };
    }),
  );
  const attached = rt.network ? await (await rt.network()).list() : [];
  const addresses = new Map(
    attached
      .filter((a) => a.owner.kind === 'pod' && a.state === 'ready')
      .map((a) => [a.owner.name, { ip: a.ip ?? null, ips: a.ips ?? (a.ip ? [a.ip] : []), ports: a.ports }]),
  );
  // runc's root is <state>/runc: health.json sits beside it.
  return podViews(observed, status.read(), addresses, observeHealth(healthPath(dirname(rt.paths.runcRoot))));
}
