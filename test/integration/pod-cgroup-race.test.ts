// A pod cgroup (pod-level resources) taken away while it is being set up is made again and written
// whole. Any container's removal rmdirs every idle pod cgroup under /berth (cgroups.ts), another
// pod's or another root's as well, and a pod cgroup just made is idle until runc puts a container
// in it: before, a removal between ensurePodCgroup's mkdir and its writes failed that pod's create
// with ERR_POD_CGROUP "cannot write … to cpu.shares (ENOENT)". Real cgroupfs (root): its control
// files do not keep a cgroup from rmdir, as plain files in a temp dir would.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cgroupMountPoints, podCgroupName } from '../../src/runtime/cgroups.js';
import { ensurePodCgroup, weightOf } from '../../src/runtime/pod-cgroup.js';
import { missingPrereqs } from '../helpers/prereqs.js';

const skip = missingPrereqs([], { root: true });
const run = `/tmp/berth-cgroup-race-${randomBytes(4).toString('hex')}/pods`;
const names = Array.from({ length: 60 }, (_, i) => podCgroupName(join(run, `p${i}`)));
const resources = { milliCpus: 500, cpuShares: 512, memoryBytes: 64 * 2 ** 20 };

/** The pod cgroups' directories in the hierarchies ensurePodCgroup writes: cpu and memory. */
async function podDirs(): Promise<string[]> {
  const mounts = cgroupMountPoints(await readFile('/proc/self/mountinfo', 'utf8'));
  const controlled = await Promise.all(
    mounts.map(async (m) =>
      /(^|[/,])(cpu|memory)(,|$)/.test(m) ||
      /\bcpu\b/.test(await readFile(join(m, 'cgroup.controllers'), 'utf8').catch(() => ''))
        ? [m]
        : [],
    ),
  );
  return controlled.flat().flatMap((m) => names.map((n) => join(m, 'berth', n)));
}

describe.skipIf(skip)('a pod cgroup removed while it is set up', () => {
  afterAll(async () => {
    for (const d of await podDirs()) await rmdir(d).catch(() => undefined);
  });

  it('is made again with every limit, never a failed create', async () => {
    const dirs = await podDirs();
    let stop = false;
    // Other removals finding each one idle: up to three times each, as soon as it is there.
    const removed = new Map<string, number>();
    const sweeper = (async () => {
      while (!stop) {
        const open = dirs.filter((d) => (removed.get(d) ?? 0) < 3);
        if (open.length === 0) break;
        await new Promise((r) => setImmediate(r));
        await Promise.all(
          open.map((d) =>
            rmdir(d).then(
              () => removed.set(d, (removed.get(d) ?? 0) + 1),
              () => undefined,
            ),
          ),
        );
      }
    })();
    const failures: string[] = [];
    try {
      for (const name of names)
        await ensurePodCgroup({ name, resources }).catch((err: Error) => failures.push(err.message));
    } finally {
      stop = true;
      await sweeper;
    }
    expect(failures.slice(0, 3)).toEqual([]);
    expect([...removed.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(names.length);
    // Once nothing removes them, a create's ensure leaves every file written.
    await ensurePodCgroup({ name: names[0] as string, resources });
    // v1: cpu.shares as given; v2: the weight runc's conversion makes of it.
    const cpu = dirs.find((d) => d.endsWith(names[0] as string) && /cpu/.test(d)) ?? dirs[0];
    const v1 = existsSync(join(cpu as string, 'cpu.shares'));
    const [file, want] = v1 ? ['cpu.shares', '512'] : ['cpu.weight', String(weightOf(512))];
    expect((await readFile(join(cpu as string, file), 'utf8')).trim()).toBe(want);
  });
});
