import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import { archiveImage, buildImage, createLayout, type Layout, populateBusybox } from '../helpers/images.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['runc', 'conmon', 'skopeo', 'umoci'], { root: true });

describe.skipIf(skip)('a damaged runc state file', () => {
  let layout: Layout;
  let work: string;
  const tag = randomBytes(3).toString('hex');
  const one = `one-${tag}`;
  const two = `two-${tag}`;
  const berth = (...args: string[]) =>
    runBerth(['--root', join(work, 'root'), '--state', join(work, 'state'), ...args]);

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-runc-state-'));
    layout = await createLayout();
    await buildImage(layout, 'b', [populateBusybox]);
    const file = join(work, 'b.tar');
    await archiveImage(layout, 'b', file, 'example.com/b:1');
    expect((await berth('image', 'import', file)).code).toBe(0);
    const dir = join(work, 'pods');
    await mkdir(dir);
    for (const name of [one, two]) {
      await writeFile(
        join(dir, `${name}.yaml`),
        `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  hostNetwork: true\n  containers:\n` +
          `    - {name: main, image: example.com/b:1, imagePullPolicy: Never, command: [sleep, '1000']}\n`,
      );
    }
    const applied = await berth('apply', dir);
    expect([applied.code, applied.stderr]).toEqual([0, '']);
  }, 180_000);

  afterAll(async () => {
    if (work) {
      for (const c of JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout || '[]') as Array<{
        id: string;
      }>)
        await berth('container', 'rm', '--force', c.id);
      await removeTempRoot(work);
    }
    await layout?.cleanup();
  });

  it('leaves every other container and pod as it is, and names the file', async () => {
    const ls = JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout) as Array<{
      id: string;
      name: string;
      state: string;
    }>;
    const victim = ls.find((c) => c.name.includes(one)) as { id: string };
    const file = join(work, 'state', 'runc', victim.id, 'state.json');
    const saved = await readFile(file);
    await writeFile(file, '');
    try {
      const after = await berth('container', 'ls', '-o', 'json');
      expect(after.code).toBe(0);
      expect(after.stderr).toContain(file);
      const states = JSON.parse(after.stdout) as Array<{ name: string; state: string }>;
      // conmon still watches it: running, as far as anyone can tell; the other one untouched.
      expect(states.map((c) => c.state)).toEqual(['running', 'running']);

      const ps = await berth('ps', '-o', 'json');
      expect(ps.code).toBe(0);
      expect(ps.stderr).toContain(file);
      const pods = JSON.parse(ps.stdout) as Array<{ name: string; phase: string }>;
      expect(pods.map((p) => [p.name, p.phase]).sort()).toEqual([
        [one, 'Running'],
        [two, 'Running'],
      ]);

      const plan = await berth('plan', join(work, 'pods'));
      expect(plan.stderr).not.toContain('ERR_INTERNAL');
      expect(plan.code).toBe(0);
    } finally {
      await writeFile(file, saved);
    }
  });
});
