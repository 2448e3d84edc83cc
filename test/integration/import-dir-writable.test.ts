// images.importDir chooses what runs as root: the daemon imports an archive dropped there under the
// references it names, a tag pods run included. A local user (a throwaway account) who can write the
// directory, or who owns an archive root moved in (rename keeps the owner), rewrites it and the
// daemon imports the user's image as well as root's. So the daemon names each such path before the
// import, WARN_IMPORT_DIR_WRITABLE (never an error, as the manifests folder's); root's own directory
// and archives are quiet.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, endChild, testEnv } from '../helpers/cli.js';
import { archiveImage, buildImage, createLayout, type Layout, populateRandom } from '../helpers/images.js';
import { createLocalUser, type LocalUser } from '../helpers/local-user.js';
import { until } from '../helpers/poll.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['umoci', 'skopeo', 'useradd', 'setpriv'], { root: true });
const CODE = 'WARN_IMPORT_DIR_WRITABLE';

describe.skipIf(skip)('an import directory other users can write', () => {
  let work: string;
  let imports: string;
  let pub: string;
  let layout: Layout | undefined;
  let user: LocalUser | undefined;
  let daemon: ChildProcess | undefined;
  let out = '';
  let err = '';

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-import-writable-'));
    await chmod(work, 0o711); // the user reaches `pub` (its archives), lists nothing else
    imports = join(work, 'import');
    pub = join(work, 'pub');
    await mkdir(imports, { mode: 0o755 });
    await mkdir(pub, { mode: 0o755 });
    user = createLocalUser();
    layout = await createLayout();
    for (const tag of ['one', 'two', 'three']) await buildImage(layout, tag, [populateRandom(1, 64, tag)]);
    const auth = join(work, 'auth.json');
    await writeFile(auth, '{"auths": {}}\n');
    const config = join(work, 'config.yaml');
    await writeFile(config, `auth:\n  configFile: ${auth}\nimages:\n  importDir: ${imports}\n`);
    const manifests = join(work, 'manifests');
    await mkdir(manifests, { mode: 0o755 });
    daemon = spawn(
      process.execPath,
      [CLI, '--config', config, '--root', join(work, 'root'), '--state', join(work, 'state')].concat([
        'daemon',
        '--manifests',
        manifests,
      ]),
      { env: testEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    daemon.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    daemon.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
  }, 120_000);

  afterAll(async () => {
    if (daemon) await endChild(daemon, 'SIGKILL');
    user?.remove();
    await layout?.cleanup();
    await removeTempRoot(work);
  });

  /** Root's drop: written aside under a name the daemon skips, then renamed in. */
  const drop = async (tag: string, ref: string, name: string, owner?: LocalUser) => {
    const aside = join(pub, `${name}.part`);
    await archiveImage(layout as Layout, tag, aside, ref);
    await chmod(aside, 0o644);
    if (owner) await chown(aside, owner.uid, owner.gid);
    await rename(aside, join(imports, name));
  };
  const imported = (ref: string, name: string) => `imported ${ref} from ${join(imports, name)}\n`;
  const warnings = () => err.split('\n').filter((l) => l.includes(CODE));

  it("root's archive in root's directory is imported without a word", async () => {
    await drop('one', 'example.test/app:1', 'root.tar');
    await until('root.tar is imported', () => out.includes(imported('example.test/app:1', 'root.tar')));
    expect(warnings()).toEqual([]);
  });

  it('an archive its owner can write is named, and so is each import of what the owner writes into it', async () => {
    const u = user as LocalUser;
    await drop('two', 'example.test/app:1', 'user.tar', u);
    await until('user.tar is imported', () => out.includes(imported('example.test/app:1', 'user.tar')));
    const line = `${CODE}: ${join(imports, 'user.tar')}: this archive can be written by its owner (uid ${u.uid}): whoever writes it chooses the images containers run as root on this host`;
    expect(warnings().map((l) => l.slice(l.indexOf(CODE)))).toEqual([line]);

    // The owner's own image, written into the file root moved in: imported as root's was.
    await archiveImage(layout as Layout, 'three', join(pub, 'mine.tar'), 'example.test/app:2');
    await chmod(join(pub, 'mine.tar'), 0o644);
    const r = u.run('cp', [join(pub, 'mine.tar'), join(imports, 'user.tar')]);
    expect(r.status, r.stderr).toBe(0);
    await until("the owner's rewrite is imported", () =>
      out.includes(imported('example.test/app:2', 'user.tar')),
    );
    expect(warnings().map((l) => l.slice(l.indexOf(CODE)))).toEqual([line, line]);
  }, 60_000);

  it("a directory the user's group can write is named once, before the next import", async () => {
    const u = user as LocalUser;
    await chown(imports, 0, u.gid);
    await chmod(imports, 0o775);
    const before = warnings().length;
    for (const name of ['group-1.tar', 'group-2.tar']) {
      await drop('one', 'example.test/app:3', name);
      await until(`${name} is imported`, () => out.includes(imported('example.test/app:3', name)));
    }
    expect(
      warnings()
        .slice(before)
        .map((l) => l.slice(l.indexOf(CODE))),
    ).toEqual([
      `${CODE}: ${imports}: the import directory can be written by its group (gid ${u.gid}): whoever writes it chooses the images containers run as root on this host`,
    ]);
  }, 60_000);
});
