// The moments on disk at which the fault suite kills berth: conditions polled while a command runs
// (helpers/fault-kill.ts), each a step of the work becoming visible — a bundle appearing, its
// config.json or conmon's pid file written, its record written, a bundle going, a pod's netns
// coming or going; a blob or snapshot committed or removed, an ingest file or snapshot temp dir
// appearing, index.json replaced.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { KillAt } from './fault-kill.js';

type Draw = (lo: number, hi: number) => number;

export function countIn(dir: string, re: RegExp): number {
  return existsSync(dir) ? readdirSync(dir).filter((x) => re.test(x)).length : 0;
}

/** Counters of a store under `root`, and the snapshot-removal watch. */
export function storeWatch(root: string) {
  const snapshots = join(root, 'snapshots');
  const blobs = () => countIn(join(root, 'content/blobs/sha256'), /^[a-f0-9]{64}$/);
  const published = () => countIn(snapshots, /^[a-f0-9]{64}$/);
  /** From now on: a snapshot being removed (its snapshot.json or files gone, its directory not). */
  const shrinking = () => {
    const shape = (d: string) =>
      [
        existsSync(join(d, 'snapshot.json')),
        countIn(join(d, 'fs/many'), /./),
        countIn(join(d, 'fs/large'), /./),
      ].join(',');
    const before = new Map(
      readdirSync(snapshots)
        .filter((x) => /^[a-f0-9]{64}$/.test(x))
        .map((x) => [x, shape(join(snapshots, x))]),
    );
    // The directory must still be there after its shape was read: a snapshot renamed away in
    // the meantime reads as empty, and is not one seen half-deleted.
    return () =>
      [...before].some(([x, was]) => shape(join(snapshots, x)) !== was && existsSync(join(snapshots, x)));
  };
  return { snapshots, blobs, published, shrinking };
}

/** Points inside a pull of one image into `root`. */
export function pullPoints(root: string, draw: Draw): KillAt[] {
  const w = storeWatch(root);
  const b0 = w.blobs();
  const s0 = w.published();
  const index = join(root, 'content/index.json');
  const indexAt = statSync(index).mtimeMs;
  return [
    {
      kind: 'when',
      what: 'an ingest file appears',
      holds: () => countIn(join(root, 'ingest'), /\.active$/) > 0,
      extraMs: draw(0, 30),
    },
    {
      kind: 'when',
      what: 'a snapshot temp dir appears',
      holds: () => countIn(w.snapshots, /^\.tmp-/) > 0,
      extraMs: draw(0, 40),
    },
    { kind: 'when', what: 'a blob is committed', holds: () => w.blobs() > b0, extraMs: draw(0, 5) },
    { kind: 'when', what: 'a snapshot is published', holds: () => w.published() > s0, extraMs: draw(0, 5) },
    {
      kind: 'when',
      what: 'index.json is replaced',
      holds: () => statSync(index).mtimeMs !== indexAt,
      extraMs: 0,
    },
  ];
}

/** Points inside a garbage collection (`image rm`, `image prune`). */
export function sweepPoints(root: string, draw: Draw): KillAt[] {
  const w = storeWatch(root);
  const b0 = w.blobs();
  return [
    { kind: 'when', what: 'a snapshot is being removed', holds: w.shrinking(), extraMs: draw(0, 3) },
    { kind: 'when', what: 'a blob is removed', holds: () => w.blobs() < b0, extraMs: draw(0, 3) },
  ];
}

export interface ApplyChange {
  root: string;
  state: string;
  /** Container ids before the apply. */
  known: Set<string>;
  /** The change starts or replaces containers / removes or replaces some. */
  adds: boolean;
  removes: boolean;
  /** A pod whose sandbox (netns, emptyDirs) is set up or torn down by this change. */
  sandboxPod?: string;
}

/** Points inside an apply that makes the change described. */
export function applyPoints(c: ApplyChange, draw: Draw): KillAt[] {
  const bundles = join(c.root, 'containers');
  const fresh = () => readdirSync(bundles).filter((x) => /^[a-f0-9]{32}$/.test(x) && !c.known.has(x));
  const freshHas = (file: string) => () => fresh().some((x) => existsSync(join(bundles, x, file)));
  const out: KillAt[] = [];
  if (c.adds) {
    out.push(
      {
        kind: 'when',
        what: 'a new bundle dir appears',
        holds: () => fresh().length > 0,
        extraMs: draw(0, 10),
      },
      {
        kind: 'when',
        what: "a new bundle's config.json is written",
        holds: freshHas('config.json'),
        extraMs: draw(0, 5),
      },
      {
        kind: 'when',
        what: "a new bundle's conmon.pid appears",
        holds: freshHas('conmon.pid'),
        extraMs: draw(0, 5),
      },
      {
        kind: 'when',
        what: 'a new container.json is written',
        holds: freshHas('container.json'),
        extraMs: draw(0, 20),
      },
    );
  }
  if (c.removes) {
    out.push({
      kind: 'when',
      what: 'a bundle dir goes',
      holds: () => [...c.known].some((x) => !existsSync(join(bundles, x))),
      extraMs: draw(0, 10),
    });
  }
  if (c.sandboxPod) {
    const netns = join(c.state, 'netns', `pod-${c.sandboxPod}`);
    const had = existsSync(netns);
    out.push({
      kind: 'when',
      what: `the ${c.sandboxPod} pod's netns comes or goes`,
      holds: () => existsSync(netns) !== had,
      extraMs: draw(0, 5),
    });
  }
  return out;
}
