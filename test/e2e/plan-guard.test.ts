// A pod whose planning throws, through the real CLI, as root with real runc and conmon: a valid
// manifest whose postStart hook sends one aliased string as a hundred HTTP header values (YAML allows
// a hundred aliases; an exec hook's command is bounded, reconcile/exec-bound.ts, and refused at load)
// makes its container's spec longer than V8's longest string, so hashing it throws
// 'Invalid string length' once the pod's container exists. Before plan-guard.ts that ended every
// plan and pass: no pod was reconciled. Now that pod is kept as it runs (its container untouched),
// `plan` and `ps` name its file and error, and the folder's other pods are applied.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import { cleanUpHost } from '../helpers/host-cleanup.js';
import { buildImage, createLayout, type Layout, populateBusybox } from '../helpers/images.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const run = promisify(execFile);
const skip = missingPrereqs(['runc', 'conmon', 'skopeo', 'umoci', 'unshare', 'findmnt'], { root: true });

describe.skipIf(skip)('a pod whose planning throws, through the CLI', () => {
  let layout: Layout;
  let work: string;
  let dir: string;
  const berth = (...args: string[]) =>
    runBerth(['--root', join(work, 'root'), '--state', join(work, 'state'), ...args]);
  const ids = async () =>
    Object.fromEntries(
      (
        JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout) as Array<{
          name: string;
          id: string;
          state: string;
        }>
      ).map((c) => [c.name, `${c.id} ${c.state}`]),
    );
  const image = '127.0.0.1:1/guard/busybox:1'; // nothing listens there: only the archive provides it
  const pod = (name: string, hook = '') =>
    `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  hostNetwork: true\n  terminationGracePeriodSeconds: 1\n  containers:\n` +
    `    - name: main\n      image: ${image}\n      command: ["/bin/sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]\n${hook}`;
  // '"' is two characters in JSON: 2.8 M of them, a hundred times, is 560 M characters (2.9 MB of file).
  const headers = Array.from({ length: 99 }, (_, i) => `{name: X-${i + 1}, value: *a}`);
  const hugeHook = `      lifecycle:\n        postStart:\n          httpGet:\n            port: 80\n            httpHeaders: [{name: X-0, value: &a '${'"'.repeat(2_800_000)}'}, ${headers.join(', ')}]\n`;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-plan-guard-'));
    dir = join(work, 'manifests');
    await mkdir(dir);
    layout = await createLayout();
    await buildImage(layout, 'busybox', [populateBusybox], { cmd: '/bin/sh' });
    const archive = join(work, 'busybox.tar');
    await run('skopeo', [
      'copy',
      '-q',
      `oci:${join(layout.dir, 'oci')}:busybox`,
      `oci-archive:${archive}:${image}`,
    ]);
    await writeFile(
      join(dir, 'image.yaml'),
      `apiVersion: berth.dev/v1alpha1\nkind: Image\nmetadata: {name: busybox}\nspec:\n  ref: ${image}\n  source: file://${archive}\n`,
    );
  }, 120_000);

  afterAll(async () => {
    const { left, leaked } = await cleanUpHost({ berth, work, folders: [dir] });
    await layout?.cleanup();
    await removeTempRoot(work);
    expect(left).toEqual([]);
    expect(leaked).toEqual([]);
  });

  it('is kept as it runs, named with its file and error; the other pods are applied', async () => {
    const huge = join(dir, 'huge.yaml');
    await writeFile(huge, pod('huge'));
    expect((await berth('apply', dir)).code).toBe(0);
    const before = await ids();
    expect(before.huge_main).toMatch(/ running$/);
    // The hook added, and a new pod beside it.
    await writeFile(huge, pod('huge', hugeHook));
    await writeFile(join(dir, 'web.yaml'), pod('web'));
    expect((await berth('validate', dir)).code).toBe(0); // a valid folder
    const why = `huge: cannot be planned (${huge}): ERR_INTERNAL: Invalid string length: kept as it runs`;
    const planned = await berth('plan', dir);
    expect(planned).toMatchObject({ code: 1 });
    expect(planned.stdout.split('\n')).toEqual([
      `wait         ${why}`,
      'run          web/main: new container',
      '',
    ]);
    expect(planned.stderr).toContain(
      `${huge}:1:1: ERR_INTERNAL: Pod huge cannot be planned: Invalid string length`,
    );
    await berth('apply', dir);
    const after = await ids();
    expect(after.huge_main).toBe(before.huge_main); // not stopped, not made again
    expect(after.web_main).toMatch(/ running$/);
    expect((await berth('ps')).stdout).toContain(why);
  }, 300_000);
});
