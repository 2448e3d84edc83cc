// A postStart exec hook past the bound on a command with its container's environment (1 MiB: one
// YAML-aliased 128 KiB string nine times, in a 131 KB file), through the CLI: `validate`, `apply` and
// `plan` name it at the pod's FILE:LINE with the container and the hook (ERR_EXEC_TOO_LARGE); the file
// is not recorded as good, and its last good content is what `plan` applies and `ps` says so.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs([], { root: true });

// Nothing listens on port 9 of loopback: the pull fails at once, and nothing runs.
const pod = (image: string, command: string) =>
  `apiVersion: v1\nkind: Pod\nmetadata: {name: hook-web}\nspec:\n  hostNetwork: true\n  containers:\n    - name: main\n      image: 127.0.0.1:9/${image}:1\n` +
  `      env: [{name: MODE, value: one}]\n      lifecycle:\n        postStart:\n          exec:\n            command: ${command}\n`;
const GOOD = pod('none', '[sh, -c, "echo started"]');
// Nine 131,072-byte strings (with their NULs) after MODE=one (9 bytes): the environment counts, so
// the eighth crosses 1,048,576.
const HUGE = pod('two', `[&a '${'z'.repeat(131_071)}', ${Array(8).fill('*a').join(', ')}]`);

describe.skipIf(skip)('an exec hook past the bound, through the CLI', () => {
  let work: string;
  let dir: string;
  const berth = (...args: string[]) =>
    runBerth(['--root', join(work, 'root'), '--state', join(work, 'state'), ...args]);

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-exec-hook-total-'));
    dir = join(work, 'manifests');
    await mkdir(dir);
  });
  afterAll(async () => {
    await removeTempRoot(work);
  });

  it('is named at its file; the last good content stays recorded and applied', async () => {
    const file = join(dir, 'web.yaml');
    const saved = async () =>
      JSON.parse(
        await readFile(
          join(work, 'root/last-good', `${createHash('sha256').update(dir).digest('hex').slice(0, 32)}.json`),
          'utf8',
        ),
      );
    await writeFile(file, GOOD);
    await berth('apply', dir);
    expect(await saved()).toEqual({ dir, files: { 'web.yaml': GOOD } });
    await writeFile(file, HUGE);
    const problem = `${file}:1:1: ERR_EXEC_TOO_LARGE: Pod hook-web cannot be used: container main: lifecycle.postStart.exec.command[7] makes the postStart hook's command and the container's environment more than 1048576 bytes, the most berth passes to one container (Linux takes 2 MiB for both together)`;
    const validate = await berth('validate', dir);
    expect([validate.code, validate.stderr]).toEqual([2, `${problem}\n`]);
    const applied = await berth('apply', dir);
    expect(applied.stderr.split('\n')).toContain(problem);
    expect(await saved()).toEqual({ dir, files: { 'web.yaml': GOOD } });
    // The last good content is what is applied (its image pulled), and ps says why.
    const planned = await berth('plan', dir);
    expect([planned.code, planned.stderr.split('\n')[0]]).toEqual([1, problem]);
    expect(planned.stdout).toMatch(/^pull +127\.0\.0\.1:9\/none:1/m);
    expect(planned.stdout).not.toMatch(/two/);
    expect((await berth('ps')).stdout).toContain('web.yaml has errors: its last good content is applied');
  }, 120_000);
});
