// `berth apply` while a manifest is still being written (a process holds it open for writing: scp,
// cp between two pieces), end to end as root with real runc, conmon and overlayfs: the pass applies
// every other file, names the held one on stderr and in `-o json` (`held`), and exits 8 (try again),
// so a script knows not everything was applied; once the writer is done, apply takes it and exits 0.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PodView } from '../../src/reconcile/pod-views.js';
import { type E2eHost, setUpE2eHost, tearDownE2eHost } from '../helpers/e2e-host.js';
import { missingPrereqs } from '../helpers/prereqs.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'unshare', 'findmnt'], {
  root: true,
});

describe.skipIf(skip)('apply while a manifest is being written', () => {
  let e2e: E2eHost | undefined;
  const tag = randomBytes(3).toString('hex');
  const [one, two] = [`one${tag}`, `two${tag}`];
  const berth = (...args: string[]) => (e2e as E2eHost).berth(...args);
  const ps = async () => JSON.parse((await berth('ps', '-o', 'json')).stdout) as PodView[];
  const podText = (name: string) =>
    `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  terminationGracePeriodSeconds: 1\n` +
    `  containers:\n    - name: main\n      image: ${(e2e as E2eHost).image}\n      command: [/bin/sleep, '1000']\n`;

  beforeAll(async () => {
    e2e = await setUpE2eHost('apply-held');
  }, 180_000);
  afterAll(async () => {
    const { leaked } = await tearDownE2eHost(e2e);
    expect(leaked).toEqual([]);
  });

  it('applies the rest, names the held file on stderr and in JSON, exits 8; then takes it once written', async () => {
    const dir = (e2e as E2eHost).dir;
    await writeFile(join(dir, 'one.yaml'), podText(one));
    const file = join(dir, 'two.yaml');
    const writer = spawn('sh', ['-c', 'exec cat > "$0"', file], { stdio: ['pipe', 'ignore', 'ignore'] });
    const exited = new Promise((r) => writer.once('exit', r));
    try {
      const text = podText(two);
      writer.stdin.write(text);
      for (let i = 0; i < 100 && (await stat(file).catch(() => undefined))?.size !== text.length; i++)
        await new Promise((r) => setTimeout(r, 20));
      const apply = await berth('apply', dir);
      expect(apply.stderr).toBe(
        `held ${file}: still being written (open for writing, or cut short a moment ago): not applied; its last good content, if any, stays applied; apply again once it is written\n`,
      );
      expect(apply.code).toBe(8);
      expect((await ps()).map((p) => p.name)).toEqual([one]);
      const json = await berth('apply', dir, '-o', 'json');
      expect(json.code).toBe(8);
      expect(JSON.parse(json.stdout)).toMatchObject({ done: [], failed: [], held: [file] });
    } finally {
      writer.stdin.end();
      await exited;
    }
    const after = await berth('apply', dir);
    expect([after.code, after.stderr]).toEqual([0, '']);
    expect((await ps()).map((p) => p.name).sort()).toEqual([one, two].sort());
  }, 90_000);
});
