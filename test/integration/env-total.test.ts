// An environment-expansion bomb: each value under 128 KiB, 5000 of them copying the largest, in a
// 195 KB file. validate and plan report it at its pod's file with the code of a container past
// MAX_EXEC_TOTAL, exit as for any broken manifest, and the valid pod beside it is planned as always.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const container = (name: string, env: string) =>
  `spec:\n  containers:\n    - name: main\n      image: app.invalid/${name}:1\n      env:\n${env}`;
const doublings = [
  `        - {name: A0, value: "${'x'.repeat(63)}"}`,
  ...Array.from({ length: 11 }, (_, i) => `        - {name: A${i + 1}, value: "$(A${i})$(A${i})"}`),
];
const copies = Array.from({ length: 5000 }, (_, i) => `        - {name: E${i}, value: "$(A11)"}`);
const BOMB = `# a pod that must not be built\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: bomb}\n${container('bomb', `${[...doublings, ...copies].join('\n')}\n`)}`;
const WEB = `apiVersion: v1\nkind: Pod\nmetadata: {name: web}\n${container('web', '        - {name: A, value: a}\n')}`;

describe('a container whose arguments and environment are past the bound', () => {
  let work: string;
  let dir: string;
  const berth = (...args: string[]) =>
    runBerth(['--root', join(work, 'root'), '--state', join(work, 'state'), ...args]);

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-env-total-'));
    dir = join(work, 'manifests');
    await mkdir(dir);
    await writeFile(join(dir, 'bomb.yaml'), BOMB);
    await writeFile(join(dir, 'web.yaml'), WEB);
  });
  afterAll(async () => {
    await removeTempRoot(work);
  });

  it('validate and plan name it at its file; the pod beside it is planned', async () => {
    const problem = `${join(dir, 'bomb.yaml')}:3:1: ERR_EXEC_TOO_LARGE: Pod bomb cannot be used: container main: env E6 makes its arguments and environment more than 1048576 bytes, the most berth passes to one container (Linux takes 2 MiB for both together)\n`;
    const validate = await berth('validate', dir);
    expect([validate.code, validate.stdout, validate.stderr]).toEqual([
      2,
      '2 file(s), 2 pod(s), 0 image(s); 1 problem(s) in 1 file(s)\n',
      problem,
    ]);
    const plan = await berth('plan', dir);
    expect([plan.code, plan.stderr.split('\n')[0]]).toEqual([1, problem.trimEnd()]);
    expect(plan.stdout).toContain('pull         app.invalid/web:1: not in the store (web/main)\n');
    expect(plan.stdout).not.toMatch(/bomb/);
  });
});
