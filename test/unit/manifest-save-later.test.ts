// The daemon's loads return before the folder's last good record is on disk (`saveLater`): the
// write is handed back (`saving`), made only when the clean texts changed, and its failure is the
// caller's to see (never an unhandled rejection).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lastGoodStore } from '../../src/manifest/last-good.js';
import { loadManifests } from '../../src/manifest/load.js';

let root: string;
let dir: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'berth-save-later-'));
  dir = join(root, 'manifests');
  await mkdir(dir);
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const pod = (name: string) =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\nspec:\n  containers:\n    - name: main\n      image: busybox:1\n`;

describe('last good record written later', () => {
  it('hands the write back, on disk once awaited; nothing to write when nothing changed', async () => {
    const lastGood = lastGoodStore(join(root, 'last-good'));
    await writeFile(join(dir, 'web.yaml'), pod('web'));
    const o = { lastGood, keepLastGood: true, saveLater: true };
    const first = await loadManifests(dir, o);
    expect(first.saving).toBeInstanceOf(Promise);
    await first.saving;
    // A fresh store (another process, a restart) reads it from disk.
    expect(await lastGoodStore(join(root, 'last-good')).read(dir)).toEqual({ 'web.yaml': pod('web') });
    expect((await loadManifests(dir, o)).saving).toBeUndefined();
    await writeFile(join(dir, 'api.yaml'), pod('api'));
    const third = await loadManifests(dir, o);
    await third.saving;
    expect(await lastGoodStore(join(root, 'last-good')).read(dir)).toEqual({
      'api.yaml': pod('api'),
      'web.yaml': pod('web'),
    });
  });

  it('a write that fails is seen by the caller who awaits it', async () => {
    await writeFile(join(root, 'not-a-dir'), '');
    const lastGood = lastGoodStore(join(root, 'not-a-dir'));
    await writeFile(join(dir, 'web.yaml'), pod('web'));
    const loaded = await loadManifests(dir, { lastGood, keepLastGood: true, saveLater: true });
    expect(loaded.docs.map((d) => d.doc.metadata.name)).toEqual(['web']);
    await expect(loaded.saving).rejects.toMatchObject({ code: 'ENOTDIR' });
    await expect(loadManifests(dir, { lastGood, keepLastGood: true })).rejects.toMatchObject({
      code: 'ENOTDIR',
    });
  });
});
