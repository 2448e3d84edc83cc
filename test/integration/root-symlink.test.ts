// --root (or --state) through a symlink: followed when root or the running user made it (an
// administrator's /var/lib/berth → /data/berth), refused when another user planted it (in a sticky
// /tmp, where the kernel follows it when fs.protected_symlinks is 0): berth would otherwise tighten
// and fill a directory of that user's choosing.
import { chmod, lchown, lstat, mkdir, mkdtemp, readdir, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const asRoot = process.geteuid?.() === 0;

describe.skipIf(!asRoot && !process.env.CI)('--root through a symlink', () => {
  let work: string;
  beforeAll(async () => {
    if (!asRoot) throw new Error('needs root (CI=true)');
    work = await mkdtemp(join(tmpdir(), 'berth-root-link-'));
  });
  afterAll(async () => {
    if (work) await removeTempRoot(work);
  });

  it("another user's link is refused and its target left as it was; root's own is followed", async () => {
    const victim = join(work, 'victim');
    await mkdir(victim);
    await chmod(victim, 0o1777); // as /tmp
    const planted = join(work, 'planted');
    await symlink(victim, planted);
    await lchown(planted, 65534, 65534);
    const refused = await runBerth(['--root', planted, '--state', join(work, 'state'), 'image', 'ls']);
    expect([refused.code, refused.stderr]).toEqual([
      5,
      `berth: ERR_UNSAFE_DIR: --root ${planted}: ${planted} is a symlink owned by uid 65534, neither root nor uid 0: not followed (give --root a path without another user's links)\n`,
    ]);
    expect((await lstat(victim)).mode & 0o7777).toBe(0o1777);
    expect(await readdir(victim)).toEqual([]);
    const own = join(work, 'own');
    await mkdir(join(work, 'real'));
    await symlink(join(work, 'real'), own);
    const followed = await runBerth(['--root', own, '--state', join(work, 'state'), 'image', 'ls']);
    expect([followed.code, followed.stderr]).toEqual([0, '']);
  });

  it("a --root holding a ':' (as given, or its link's target) is refused before anything is made", async () => {
    // conmon reads its log path as DRIVER:PATH, cut at the next ':': the logs would go elsewhere.
    const colon = join(work, 'a:b');
    const refused = await runBerth(['--root', colon, '--state', join(work, 'state'), 'image', 'ls']);
    expect([refused.code, refused.stderr]).toEqual([
      2,
      `berth: ERR_USAGE: --root ${colon}: ${colon} holds a ':', which conmon's log path cannot (give --root a path without ':')\n`,
    ]);
    await mkdir(colon);
    const link = join(work, 'to-colon');
    await symlink(colon, link);
    const linked = await runBerth(['--root', link, '--state', join(work, 'state'), 'image', 'ls']);
    expect([linked.code, linked.stderr]).toEqual([
      2,
      `berth: ERR_USAGE: --root ${link}: ${colon} holds a ':', which conmon's log path cannot (give --root a path without ':')\n`,
    ]);
    expect(await readdir(colon)).toEqual([]);
  });
});
