// The manifests folder runs containers as root: a local user (a throwaway account) who can write
// the folder, a manifest in it or a directory above it controls root, so validate, plan, apply and
// the daemon warn (WARN_MANIFESTS_WRITABLE, never an error); root's own folder in /tmp is quiet.
import { chmod, chown, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import { createLocalUser, type LocalUser } from '../helpers/local-user.js';
import { missingPrereqs } from '../helpers/prereqs.js';

const skip = missingPrereqs(['useradd', 'setpriv'], { root: true });

const POD =
  'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: busybox}]\n';
const why = 'whoever writes it runs containers as root on this host';

describe.skipIf(skip)('a manifests folder other users can write', () => {
  let work: string;
  let user: LocalUser;
  let n = 0;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-writable-'));
    await chmod(work, 0o1777); // as /tmp: others may write it, but not rename root's folder in it
    user = createLocalUser();
  });
  afterAll(async () => {
    user?.remove();
    await rm(work, { recursive: true, force: true });
  });

  /** A folder (in a root-owned 0755 parent) with one manifest; `change` alters it first. */
  const folder = async (change: (parent: string, dir: string) => Promise<void> = async () => {}) => {
    const parent = join(work, `p${++n}`);
    const dir = join(parent, 'manifests');
    await mkdir(dir, { recursive: true });
    await chmod(parent, 0o755);
    await chmod(dir, 0o755);
    await writeFile(join(dir, 'pod.yaml'), POD, { mode: 0o644 });
    await change(parent, dir);
    return { parent, dir };
  };
  const validate = async (dir: string) => {
    const r = await runBerth(['validate', dir]);
    return { code: r.code, stderr: r.stderr };
  };

  it("root's folder, in a sticky world-writable directory, is quiet", async () => {
    const { dir } = await folder();
    expect(await validate(dir)).toEqual({ code: 0, stderr: '' });
  });

  it('the folder, a manifest or a directory above it that a local user can write is named, once each', async () => {
    const cases = {
      everyone: await folder(async (_, dir) => chmod(dir, 0o777)),
      group: await folder(async (_, dir) => {
        await chown(dir, 0, user.gid);
        await chmod(dir, 0o775);
      }),
      file: await folder(async (_, dir) => chown(join(dir, 'pod.yaml'), user.uid, user.gid)),
      parent: await folder(async (parent) => chown(parent, user.uid, user.gid)),
    };
    const seen = Object.fromEntries(
      await Promise.all(Object.entries(cases).map(async ([k, c]) => [k, await validate(c.dir)])),
    );
    const line = (path: string, what: string, who: string) =>
      `${path}:1:1: WARN_MANIFESTS_WRITABLE: ${what} can be written by ${who}: ${why}\n`;
    expect(seen).toEqual({
      everyone: { code: 0, stderr: line(cases.everyone.dir, 'the manifests folder', 'every user') },
      group: {
        code: 0,
        stderr: line(cases.group.dir, 'the manifests folder', `its group (gid ${user.gid})`),
      },
      file: {
        code: 0,
        stderr: line(join(cases.file.dir, 'pod.yaml'), 'this manifest', `its owner (uid ${user.uid})`),
      },
      parent: {
        code: 0,
        stderr: line(
          cases.parent.parent,
          'a directory above the manifests folder',
          `its owner (uid ${user.uid})`,
        ),
      },
    });
  });

  it('a folder reached through a link: the directory holding the link counts, as that of the target', async () => {
    const { dir } = await folder();
    const holder = join(work, `links${++n}`);
    await mkdir(holder);
    await chown(holder, user.uid, user.gid); // git-sync's own user swaps the link here
    const link = join(holder, 'current');
    await symlink(dir, link);
    expect(await validate(link)).toEqual({
      code: 0,
      stderr: `${holder}:1:1: WARN_MANIFESTS_WRITABLE: a directory above the manifests folder can be written by its owner (uid ${user.uid}): ${why}\n`,
    });
  });

  it("a manifest that links elsewhere: the directories holding its target count (a user's home); links within the folder add nothing", async () => {
    const { dir } = await folder();
    const home = join(work, `home${++n}`);
    await mkdir(join(home, 'deploy'), { recursive: true });
    await chmod(home, 0o755);
    await chown(home, user.uid, user.gid); // the user renames deploy/ and puts their own pod.yaml in
    await writeFile(join(home, 'deploy', 'web.yaml'), POD.replace('name: p', 'name: w'), { mode: 0o644 });
    await symlink(join(home, 'deploy', 'web.yaml'), join(dir, 'web.yaml'));
    // The kubelet's ConfigMap layout: links into the folder itself.
    await mkdir(join(dir, '..2026_12_04'));
    await writeFile(join(dir, '..2026_12_04', 'db.yaml'), POD.replace('name: p', 'name: d'));
    await symlink('..2026_12_04', join(dir, '..data'));
    await symlink('..data/db.yaml', join(dir, 'db.yaml'));
    expect(await validate(dir)).toEqual({
      code: 0,
      stderr: `${home}:1:1: WARN_MANIFESTS_WRITABLE: a directory above a file a manifest links to (${join(dir, 'web.yaml')}) can be written by its owner (uid ${user.uid}): ${why}\n`,
    });
  });
});
