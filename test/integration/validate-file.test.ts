// `berth validate FILE`: the first thing a person does with someone else's Pod file is check that
// one file. Only it is read (its folder's other files, broken or not, are not), whatever its name
// ends with, and its problems are reported as a folder's are; a folder is validated as before.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const POD =
  'apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n    - {name: main, image: busybox:1}\n';

describe('berth validate FILE', () => {
  let work: string;
  let dir: string;
  const berth = (...args: string[]) =>
    runBerth(['--root', join(work, 'root'), '--state', join(work, 'state'), ...args]);

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-validate-file-'));
    dir = join(work, 'manifests');
    await mkdir(dir);
    await writeFile(join(dir, 'pod.yaml'), POD);
    await writeFile(join(dir, 'pod.yaml.txt'), POD.replace('busybox:1', 'Busybox:1'));
    await writeFile(join(dir, 'broken.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata: {name: [x]}\n');
  });
  afterAll(async () => {
    await removeTempRoot(work);
  });

  it('checks that one file alone, not its folder', async () => {
    const one = await berth('validate', join(dir, 'pod.yaml'));
    expect([one.code, one.stdout, one.stderr]).toEqual([0, '1 file(s), 1 pod(s), 0 image(s): valid\n', '']);
  });

  it('reads a file named explicitly whatever its name ends with, and positions its problems', async () => {
    const r = await berth('validate', join(dir, 'pod.yaml.txt'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^${join(dir, 'pod.yaml.txt')}:6:27: ERR_REFERENCE_INVALID: `));
    expect(r.stdout).toBe('1 file(s), 0 pod(s), 0 image(s); 1 problem(s) in 1 file(s)\n');
  });

  it('still checks a whole folder, and a missing path is an error naming it', async () => {
    const all = await berth('validate', dir);
    expect(all.code).toBe(2);
    expect(all.stdout).toMatch(/^2 file\(s\), 1 pod\(s\), 0 image\(s\); \d+ problem\(s\) in 1 file\(s\)\n$/);
    const missing = await berth('validate', join(dir, 'nope.yaml'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`${join(dir, 'nope.yaml')}: ENOENT`);
  });
});

// README (CLI): a value a manifest controls, named in an error, reaches the terminal with its control
// characters escaped, and the error stays one line. A diagnostic naming an image reference with an
// ESC sequence and a carriage return printed them raw: the screen cleared, the line overwritten.
describe('a diagnostic naming a value with control characters', () => {
  let work: string;
  const berth = (...args: string[]) =>
    runBerth(['--root', join(work, 'root'), '--state', join(work, 'state'), ...args]);
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-validate-control-'));
    await mkdir(join(work, 'm'));
    await writeFile(join(work, 'm', 'x.yaml'), POD.replace('busybox:1', '"busybox:1\\e[2J\\rX"'));
  });
  afterAll(async () => {
    await removeTempRoot(work);
  });

  it('is one line in validate, plan and apply, its control characters escaped', async () => {
    const file = join(work, 'm', 'x.yaml');
    const line = `${file}:6:27: ERR_REFERENCE_INVALID: invalid reference "busybox:1\\x1b[2J\\rX": bad tag "1\\x1b[2J\\rX"\n`;
    for (const args of [['validate'], ['plan'], ['apply']]) {
      const r = await berth(...args, join(work, 'm'));
      expect([args[0], r.stderr]).toEqual([args[0], line]);
    }
  });
});
