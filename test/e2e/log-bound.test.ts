// A container's log is bounded by the host config's logs.maxBytes (conmon's --log-size-max): a
// container that writes far more leaves, once exited, a log file no larger than that.
import { execFile } from 'node:child_process';
import { mkdtemp, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import { buildImage, createLayout, type Layout, populateBusybox } from '../helpers/images.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const run = promisify(execFile);
const skip = missingPrereqs(['runc', 'conmon', 'skopeo', 'umoci'], { root: true });

describe.skipIf(skip)('log size bound', () => {
  let layout: Layout;
  let work: string;
  const berth = (...args: string[]) =>
    runBerth([
      '--root',
      join(work, 'root'),
      '--state',
      join(work, 'state'),
      '--config',
      join(work, 'config.yaml'),
      ...args,
    ]);

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-logs-'));
    await writeFile(join(work, 'config.yaml'), 'logs:\n  maxBytes: 65536\n');
    layout = await createLayout();
    await buildImage(layout, 'busybox', [populateBusybox]);
    const file = join(work, 'busybox.tar');
    await run('skopeo', [
      'copy',
      '-q',
      `oci:${join(layout.dir, 'oci')}:busybox`,
      `oci-archive:${file}:example.com/busybox:1`,
    ]);
    expect((await berth('image', 'import', file)).code).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await berth('container', 'rm', '--force', 'chatty');
    await layout?.cleanup();
    if (work) await removeTempRoot(work);
  });

  it('keeps an exited container log under logs.maxBytes after 1 MB of output', async () => {
    const script =
      'i=0; while [ $i -lt 10000 ]; do echo "line $i of a container that talks far too much....................................."; i=$((i+1)); done';
    expect(
      (await berth('container', 'create', 'example.com/busybox:1', 'chatty', '--', '/bin/sh', '-c', script))
        .code,
    ).toBe(0);
    expect((await berth('container', 'start', 'chatty')).code).toBe(0);
    for (let i = 0; i < 300; i++) {
      const ls = JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout) as Array<{
        name: string;
        state: string;
        id: string;
      }>;
      const c = ls.find((x) => x.name === 'chatty');
      if (c?.state === 'exited') {
        const { size } = await stat(join(work, 'root', 'containers', c.id, 'container.log'));
        expect(size).toBeGreaterThan(0);
        expect(size).toBeLessThanOrEqual(65536);
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('chatty never exited');
  }, 60_000);
});
