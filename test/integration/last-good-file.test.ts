// `<root>/last-good/<hash of the manifests folder>.json` as the README names it, written by `berth
// apply`: the folder's path hashed (sha256, 32 hex digits), holding each file's last clean content; a
// file that breaks later leaves its entry as it was, and a deleted file's entry goes.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs([], { root: true });

describe.skipIf(skip)('last-good file', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-last-good-'));
  });
  afterAll(async () => {
    await removeTempRoot(work);
  });

  it('is last-good/<sha256 of the folder, 32 hex>.json with each file’s last clean text', async () => {
    const dir = join(work, 'manifests');
    await mkdir(dir);
    const cm = (v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {a: "${v}"}\n`;
    const other = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\ndata: {}\n';
    await writeFile(join(dir, 'cm.yaml'), cm('one'));
    await writeFile(join(dir, 'other.yaml'), other);
    const apply = () =>
      runBerth(['--root', join(work, 'root'), '--state', join(work, 'state'), 'apply', dir]);
    expect((await apply()).code).toBe(0);
    const name = `${createHash('sha256').update(dir).digest('hex').slice(0, 32)}.json`;
    expect(await readdir(join(work, 'root/last-good'))).toEqual([name]);
    const saved = async () => JSON.parse(await readFile(join(work, 'root/last-good', name), 'utf8'));
    expect(await saved()).toEqual({ dir, files: { 'cm.yaml': cm('one'), 'other.yaml': other } });
    // Broken: the apply fails, and the entry keeps the last clean text.
    await writeFile(join(dir, 'cm.yaml'), `${cm('two')}  bad: [\n`);
    expect((await apply()).code).toBe(2); // exit 2: invalid input
    expect(await saved()).toEqual({ dir, files: { 'cm.yaml': cm('one'), 'other.yaml': other } });
    await writeFile(join(dir, 'cm.yaml'), cm('three'));
    await rm(join(dir, 'other.yaml'));
    expect((await apply()).code).toBe(0);
    expect(await saved()).toEqual({ dir, files: { 'cm.yaml': cm('three') } });
    expect(await readdir(join(work, 'root/last-good'))).toEqual([name]);
  });

  it('keeps the last clean text of a file whose pod cannot be built, and `plan` applies that text', async () => {
    const dir = join(work, 'unbuildable');
    const root = join(work, 'root-unbuildable');
    await mkdir(dir);
    // Nothing listens on port 9 of loopback: the pull fails at once, and nothing runs.
    const pod = (env: string) =>
      `apiVersion: v1\nkind: Pod\nmetadata: {name: lg-web}\nspec:\n  hostNetwork: true\n  containers:\n    - name: main\n      image: 127.0.0.1:9/none:1\n      env:\n${env}`;
    const v1 = pod('        - {name: MODE, value: one}\n');
    // Past the 128 KiB bound of an expansion: found when the pod is built, not by the schema.
    const v2 = pod(
      `        - {name: A, value: ${'x'.repeat(70_000)}}\n        - {name: B, value: '$(A)$(A)'}\n`,
    );
    const berth = (...args: string[]) =>
      runBerth(['--root', root, '--state', join(work, 'state-unbuildable'), ...args]);
    const name = `${createHash('sha256').update(dir).digest('hex').slice(0, 32)}.json`;
    const saved = async () => JSON.parse(await readFile(join(root, 'last-good', name), 'utf8'));
    await writeFile(join(dir, 'web.yaml'), v1);
    await berth('apply', dir);
    expect(await saved()).toEqual({ dir, files: { 'web.yaml': v1 } });
    await writeFile(join(dir, 'web.yaml'), v2);
    const applied = await berth('apply', dir);
    expect(applied.stderr).toContain('ERR_EXPANSION_TOO_LONG');
    expect(await saved()).toEqual({ dir, files: { 'web.yaml': v1 } });
    // Its pod is applied from that text (its image pulled), not kept as it runs, and ps says why.
    const planned = await berth('plan', dir);
    expect({ code: planned.code, stdout: planned.stdout }).toEqual({
      code: 1,
      stdout: expect.stringMatching(/^pull +127\.0\.0\.1:9\/none:1/m),
    });
    expect((await berth('ps')).stdout).toContain('web.yaml has errors: its last good content is applied');
  }, 120_000);
});
