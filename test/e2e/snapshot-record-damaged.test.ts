import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import { archiveImage, buildImage, createLayout, type Layout, populateBusybox } from '../helpers/images.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['skopeo', 'umoci'], { root: true });

describe.skipIf(skip)('a damaged snapshot record', () => {
  let layout: Layout;
  let work: string;
  const berth = (...args: string[]) =>
    runBerth(['--root', join(work, 'root'), '--state', join(work, 'state'), ...args]);
  const archive = (t: string) => join(work, `${t}.tar`);

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-snap-record-'));
    layout = await createLayout();
    await buildImage(layout, 'b', [populateBusybox]);
    for (const t of ['small', 'other']) {
      await archiveImage(layout, 'b', archive(t), `example.com/${t}:1`);
      const r = await berth('image', 'import', archive(t));
      expect([r.code, r.stderr]).toEqual([0, '']);
    }
  }, 180_000);

  afterAll(async () => {
    if (work) await removeTempRoot(work);
    await layout?.cleanup();
  });

  it('is listed as not unpacked with the file named, and unpacked again by the next import', async () => {
    const dir = join(work, 'root', 'snapshots');
    const [hex] = (await readdir(dir)).filter((n) => /^[a-f0-9]{64}$/.test(n));
    const file = join(dir, hex as string, 'snapshot.json');
    await writeFile(file, '');

    const ls = await berth('image', 'ls', '-o', 'json');
    expect(ls.code).toBe(0);
    expect(ls.stderr).toContain(file);
    const images = JSON.parse(ls.stdout) as Array<{ name: string; unpackedSize: number | null }>;
    expect(images.map((i) => [i.name, i.unpackedSize])).toEqual([
      ['example.com/other:1', null],
      ['example.com/small:1', null],
    ]);

    const again = await berth('image', 'import', archive('small'));
    expect([again.code, again.stderr]).toEqual([0, '']);
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ chainId: `sha256:${hex}` });
    const after = await berth('image', 'ls', '-o', 'json');
    expect([after.code, after.stderr]).toEqual([0, '']);
    for (const i of JSON.parse(after.stdout) as Array<{ unpackedSize: number | null }>)
      expect(i.unpackedSize).toBeGreaterThan(0);
  });
});
