// A container's bundle config.json as a crash leaves it, end to end as root with real runc, conmon
// and overlayfs. config.json is written once, before `runc create`; berth never runs it again (a
// restart is a new container), so a config.json left empty or cut short (a power cut before the
// kernel wrote it out, a berth killed mid-write) must cost nothing but that container: after the
// reboot a pod's container is replaced as any lost one is, a standalone one is listed, removed and
// its name taken again, and a bundle whose create was cut short before its record goes as an orphan.
// Never a stack trace. And it is written whole or not at all: aside, then renamed, and flushed
// before the record that names the container (while conmon and `runc create` run, not before).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runBerth, testEnv, withTestConfig } from '../helpers/cli.js';
import { archiveImage, buildImage, createLayout, type Layout, populateBusybox } from '../helpers/images.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { simulateReboot } from '../helpers/reboot.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['runc', 'conmon', 'skopeo', 'umoci', 'strace'], { root: true });

interface Listed {
  id: string;
  name: string;
  state: string;
}

describe.skipIf(skip)('a bundle config.json a crash damaged', () => {
  let layout: Layout;
  let work: string;
  const tag = randomBytes(3).toString('hex');
  const pod = `cfg-${tag}`;
  const root = () => join(work, 'root');
  const state = () => join(work, 'state');
  const pods = () => join(work, 'pods');
  const berth = (...args: string[]) => runBerth(['--root', root(), '--state', state(), ...args]);
  const listed = async () => JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout) as Listed[];
  const configOf = (id: string) => join(root(), 'containers', id, 'config.json');
  const noTrace = (r: { stderr: string }) => expect(r.stderr).not.toMatch(/ERR_INTERNAL|\n\s+at /);

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-bundle-config-'));
    layout = await createLayout();
    await buildImage(layout, 'b', [populateBusybox]);
    const file = join(work, 'b.tar');
    await archiveImage(layout, 'b', file, 'example.com/b:1');
    expect((await berth('image', 'import', file)).code).toBe(0);
    await mkdir(pods());
    await writeFile(
      join(pods(), `${pod}.yaml`),
      `apiVersion: v1\nkind: Pod\nmetadata: {name: ${pod}}\nspec:\n  hostNetwork: true\n` +
        `  terminationGracePeriodSeconds: 1\n  containers:\n` +
        `    - {name: main, image: example.com/b:1, imagePullPolicy: Never, command: [sleep, '1000']}\n`,
    );
    const applied = await berth('apply', pods());
    expect([applied.code, applied.stderr]).toEqual([0, '']);
  }, 180_000);

  afterAll(async () => {
    if (work) {
      for (const c of await listed().catch(() => [])) await berth('container', 'rm', '--force', c.id);
      await removeTempRoot(work);
    }
  });

  it('is written aside and renamed into place, never opened for writing under its own name, then flushed, before the record is written; so are hostname, hosts and resolv.conf', async () => {
    const name = `traced-${tag}`;
    const trace = join(work, 'trace');
    const args = ['--root', root(), '--state', state(), 'container', 'create', 'example.com/b:1', name];
    // -f follows libuv's threads; -y names each descriptor's file; -b execve lets go of conmon.
    const strace = ['-f', '-y', '-b', 'execve', '-qq', '-e', 'signal=none', '-o', trace];
    const calls = 'trace=openat,fsync,fdatasync,rename,renameat,renameat2,execve';
    const code = await new Promise<number>((resolve) =>
      execFile(
        'strace',
        [...strace, '-e', calls, process.execPath, CLI, ...withTestConfig([...args, '--', 'sleep', '1'])],
        { env: testEnv() },
        (err) => resolve(err ? Number(err.code ?? 1) : 0),
      ),
    );
    expect(code).toBe(0);
    const id = (await listed()).find((c) => c.name === name)?.id as string;
    const lines = (await readFile(trace, 'utf8')).split('\n').map((l) => l.replace(/^\d+ +/, ''));
    const conmon = lines.findIndex((l) => /^execve\("[^"]*\/conmon"/.test(l));
    const recordAt = join(root(), 'containers', id, 'container.json');
    const record = lines.findIndex((l) => /^rename/.test(l) && l.includes(`"${recordAt}"`));
    expect([conmon >= 0, record > conmon]).toEqual([true, true]);
    // The record too is written aside before conmon starts, and flushed while it runs: what is
    // left to wait for once conmon has answered is its rename and its folder's flush.
    const recordAside = lines.findIndex(
      (l) => l.startsWith('openat(') && l.includes(`"${recordAt}.`) && /O_WRONLY|O_RDWR/.test(l),
    );
    const recordSynced = lines.findIndex((l) => /^f(data)?sync\(/.test(l) && l.includes(`<${recordAt}.`));
    expect({
      writtenBeforeConmon: recordAside >= 0 && recordAside < conmon,
      flushedBeforeRename: recordSynced > recordAside && recordSynced < record,
    }).toEqual({ writtenBeforeConmon: true, flushedBeforeRename: true });
    // config.json, and the files bound over the container's /etc: a power cut leaves none empty
    // beside a record. Renamed unflushed, so no flush of theirs is waited for before conmon starts.
    const howWritten = (file: string) => {
      const writes = lines.filter(
        (l) => l.startsWith('openat(') && l.includes(`"${file}`) && /O_WRONLY|O_RDWR/.test(l),
      );
      const aside = writes.map((l) => /"([^"]+)"/.exec(l)?.[1]);
      const renamed = lines.findIndex(
        (l) => /^rename/.test(l) && l.includes(`"${aside[0]}"`) && l.includes(`"${file}"`),
      );
      const synced = lines.findIndex(
        (l) => /^f(data)?sync\(/.test(l) && (l.includes(`<${aside[0]}>`) || l.includes(`<${file}>`)),
      );
      return {
        aside: aside.length > 0 && aside.every((a) => a !== file && a?.startsWith(`${file}.`)),
        renamedBeforeConmon: renamed >= 0 && renamed < conmon,
        flushedAfterRenameBeforeRecord: synced > renamed && synced < record,
      };
    };
    const files = ['config.json', 'hostname', 'hosts', 'resolv.conf'];
    const done = { aside: true, renamedBeforeConmon: true, flushedAfterRenameBeforeRecord: true };
    expect(Object.fromEntries(files.map((f) => [f, howWritten(join(root(), 'containers', id, f))]))).toEqual(
      Object.fromEntries(files.map((f) => [f, done])),
    );
    expect((await berth('container', 'rm', name)).code).toBe(0);
  });

  for (const [how, damage] of [
    ['empty', () => ''],
    ['cut short', (text: string) => text.slice(0, Math.floor(text.length / 2))],
  ] as const) {
    it(`${how}, after a power cut: the pod's container is replaced, a standalone one listed, removed, its name taken again`, async () => {
      const standalone = `solo-${how.replace(' ', '')}-${tag}`;
      const made = await berth('container', 'create', 'example.com/b:1', standalone, '--', 'sleep', '1000');
      expect([made.code, made.stderr]).toEqual([0, '']);
      const before = await listed();
      const main = before.find((c) => c.name.startsWith(pod)) as Listed;
      const solo = before.find((c) => c.name === standalone) as Listed;
      for (const c of [main, solo])
        await writeFile(configOf(c.id), damage(await readFile(configOf(c.id), 'utf8')));
      await simulateReboot(root(), state());

      const ls = await berth('container', 'ls', '-o', 'json');
      noTrace(ls);
      expect(ls.code).toBe(0);
      const applied = await berth('apply', pods());
      noTrace(applied);
      expect(applied.code).toBe(0);
      const after = await listed();
      const replaced = after.find((c) => c.name.startsWith(pod)) as Listed;
      expect([
        replaced.state,
        replaced.id === main.id,
        existsSync(join(root(), 'containers', main.id)),
      ]).toEqual(['running', false, false]);

      const rm = await berth('container', 'rm', standalone);
      noTrace(rm);
      expect([rm.code, existsSync(join(root(), 'containers', solo.id))]).toEqual([0, false]);
      const again = await berth('container', 'create', 'example.com/b:1', standalone, '--', 'sleep', '1000');
      expect([again.code, again.stderr]).toEqual([0, '']);
      expect((await berth('container', 'rm', standalone)).code).toBe(0);
    });
  }

  it('cut short by a berth killed mid-write (no record yet): the bundle is an orphan, reaped', async () => {
    const made = await berth(
      'container',
      'create',
      'example.com/b:1',
      `crashed-${tag}`,
      '--',
      'sleep',
      '1000',
    );
    expect(made.code).toBe(0);
    const c = (await listed()).find((x) => x.name === `crashed-${tag}`) as Listed;
    // What a create killed between config.json and its record leaves: no runc container, no record.
    expect((await berth('container', 'rm', c.id)).code).toBe(0);
    const bundle = join(root(), 'containers', c.id);
    await mkdir(bundle, { recursive: true });
    await writeFile(join(bundle, 'config.json'), '{"ociVersion": "1.2.0", "process": {"ar');
    const applied = await berth('apply', pods());
    noTrace(applied);
    expect([applied.code, existsSync(bundle)]).toEqual([0, false]);
    expect((await listed()).map((x) => x.name)).not.toContain(`crashed-${tag}`);
  });
});
