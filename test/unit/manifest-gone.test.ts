// A file gone from a watched folder (git checkout, rsync, an editor saving with a gap) is held by the
// daemon's loads until the folder has been still for the settle time: put back unchanged meanwhile,
// nothing is removed; still gone after it, what it defined goes. `apply` and `plan` take it at once.
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastGoodStore } from '../../src/manifest/last-good.js';
import { loadManifests } from '../../src/manifest/load.js';
import { goneSettlesAt, SETTLE_MS } from '../../src/manifest/settle.js';
import { desiredState } from '../../src/reconcile/desired.js';
import { settleWaits } from '../../src/reconcile/settle-waits.js';
import { buildStatus } from '../../src/reconcile/status.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-gone-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const pod = (name: string) =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\nspec:\n  containers:\n    - name: main\n      image: busybox:1\n`;

describe('a file gone from the folder', () => {
  it('keeps its last good content in the daemon until the folder has been still for the settle time', async () => {
    const d = join(dir, 'watched');
    await mkdir(d);
    await writeFile(join(d, 'a.yaml'), pod('a'));
    await writeFile(join(d, 'b.yaml'), pod('b'));
    const lastGood = lastGoodStore(join(dir, 'lg'));
    const daemon = { lastGood, keepLastGood: true, holdDeleted: true };
    expect((await loadManifests(d, daemon)).docs.map((x) => x.doc.metadata.name)).toEqual(['a', 'b']);

    await rm(join(d, 'a.yaml'));
    const changed = (await stat(d)).mtimeMs;
    const held = await loadManifests(d, { ...daemon, now: changed + 100 });
    expect(held.docs.map((x) => x.doc.metadata.name)).toEqual(['a', 'b']);
    expect(held.settling).toEqual([{ file: join(d, 'a.yaml'), until: changed + SETTLE_MS, gone: true }]);
    expect(settleWaits(held)[0]?.reason).toMatch(
      /a\.yaml: gone a moment ago: what it defined is removed once/,
    );
    // ps says it is changing, not that it has errors.
    const desired = desiredState(held.docs, { volumes: '/r/volumes', pods: '/r/pods', netns: '/s/netns' });
    const status = buildStatus(
      d,
      desired,
      new Map(),
      [],
      {},
      held.fromLastGood,
      held.settling.map((s) => s.file),
    );
    expect(status.pods.a?.waiting).toBe(
      `${join(d, 'a.yaml')} is changing: its last good content applies until it settles`,
    );
    expect(status.pods.b?.waiting).toBeUndefined();
    // A one-shot apply or plan: a deletion is what its user asked for, taken at once.
    expect(
      (await loadManifests(d, { lastGood, now: changed + 100 })).docs.map((x) => x.doc.metadata.name),
    ).toEqual(['b']);

    // Still gone once the folder has been still that long: removed, and forgotten.
    const after = await loadManifests(d, { ...daemon, now: changed + SETTLE_MS + 1 });
    expect(after.docs.map((x) => x.doc.metadata.name)).toEqual(['b']);
    expect(after.settling).toEqual([]);
    expect(Object.keys(await lastGood.read(d))).toEqual(['b.yaml']);
  });

  it('goneSettlesAt: from the folder mtime; a folder dated in the future says nothing', () => {
    expect(goneSettlesAt(1000, 1500, 2000)).toBe(3000);
    expect(goneSettlesAt(1000, 3000, 2000)).toBeUndefined();
    expect(goneSettlesAt(10_000, 1000, 2000)).toBeUndefined();
  });
});
