// Air-gapped nodes, as root with real runc and conmon: an Image with `source: file:///…` is
// imported by `apply` (no registry anywhere) and its pod runs; an archive dropped into the daemon's
// import directory is imported and the pod that was waiting for its image starts (a hostile one
// dropped first is reported and changes nothing).
import type { ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, open, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth, spawnBerth } from '../helpers/cli.js';
import { cleanUpHost } from '../helpers/host-cleanup.js';
import { buildImage, createLayout, type Layout, populateBusybox } from '../helpers/images.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { buildTar } from '../helpers/tar-build.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const run = promisify(execFile);
const skip = missingPrereqs(['runc', 'conmon', 'skopeo', 'umoci', 'unshare', 'findmnt'], { root: true });

describe.skipIf(skip)('images from archives under the controller', () => {
  let layout: Layout;
  let work: string;
  let root: string;
  let state: string;
  let daemon: ChildProcess | undefined;
  let out = ''; // the daemon's stdout and stderr so far
  let err = '';
  const config = () => join(work, 'config.yaml');
  const berth = (...args: string[]) =>
    runBerth(['--root', root, '--state', state, '--config', config(), ...args]);
  const running = async (pod: string) => {
    const all = JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout) as Array<{
      name: string;
      state: string;
    }>;
    return all.some((c) => c.name === `${pod}_main` && c.state === 'running');
  };
  const until = async (what: string, probe: () => Promise<boolean>) => {
    for (let i = 0; i < 300; i++) {
      if (await probe()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`never: ${what}`);
  };
  const pod = (name: string, image: string) =>
    `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n` +
    `    - name: main\n      image: ${image}\n      command: ["/bin/sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]\n`;
  const archive = async (name: string, file: string) =>
    run('skopeo', ['copy', '-q', `oci:${join(layout.dir, 'oci')}:busybox`, `oci-archive:${file}:${name}`]);

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-source-'));
    root = join(work, 'root');
    state = join(work, 'state');
    await writeFile(config(), `images:\n  importDir: ${join(work, 'import')}\n`);
    await mkdir(join(work, 'import'));
    layout = await createLayout();
    await buildImage(layout, 'busybox', [populateBusybox], { cmd: '/bin/sh' });
  }, 120_000);

  afterAll(async () => {
    if (daemon && daemon.exitCode === null) {
      const exited = new Promise((r) => daemon?.once('exit', r));
      daemon.kill('SIGKILL');
      await exited;
    }
    const { left, leaked } = await cleanUpHost({
      berth,
      work,
      folders: ['apply', 'watched'].map((n) => join(work, n)),
    });
    await layout?.cleanup();
    await removeTempRoot(work);
    expect(left).toEqual([]);
    expect(leaked).toEqual([]);
  });

  it('apply imports an Image from its file:/// source and runs the pod that uses it', async () => {
    // 127.0.0.1:1: nothing listens there, so only the archive can provide the image.
    const image = '127.0.0.1:1/airgap/app:1';
    const file = join(work, 'app archive.tar'); // a space: the URL is percent-encoded
    await archive(image, file);
    const dir = join(work, 'apply');
    await mkdir(dir);
    await writeFile(
      join(dir, 'app.yaml'),
      `apiVersion: berth.dev/v1alpha1\nkind: Image\nmetadata: {name: app}\nspec:\n  ref: ${image}\n  source: file://${encodeURI(file)}\n---\n${pod('app', image)}`,
    );
    const r = await berth('apply', dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(`pull         ${image}: not in the store (app/main, Image app)`);
    expect(await running('app')).toBe(true);
  });

  it('the daemon imports an archive dropped into images.importDir and starts the pod waiting for it', async () => {
    const image = '127.0.0.1:1/airgap/dropped:1';
    const dir = join(work, 'watched');
    await mkdir(dir);
    await writeFile(join(dir, 'dropped.yaml'), pod('dropped', image));
    daemon = spawnBerth([
      '--root',
      root,
      '--state',
      state,
      '--config',
      config(),
      'daemon',
      '--manifests',
      dir,
      '--resync',
      '60',
    ]);
    daemon.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    daemon.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    await until('the pull from the registry failed', async () =>
      (await berth('ps')).stdout.includes('dropped'),
    );
    expect(await running('dropped')).toBe(false);
    // A hostile archive first: reported, nothing imported, and the watch goes on.
    await writeFile(join(work, 'import', 'evil.tar'), buildTar([{ name: '../../etc/cron.d/x', data: 'x' }]));
    await until('the hostile archive is refused', async () => err.includes('evil.tar failed'));
    expect(err).toMatch(/ import of .*evil\.tar failed: ERR_ARCHIVE_UNSAFE: .*climbs out with \.\.\n/);
    const staged = join(work, 'import', 'dropped.tar.part');
    await archive(image, join(work, 'dropped.tar'));
    await copyFile(join(work, 'dropped.tar'), staged);
    await rename(staged, join(work, 'import', 'dropped.tar'));
    await until('pod dropped runs', () => running('dropped'));
    expect(out).toMatch(
      new RegExp(`imported ${image.replace(/[.]/g, '\\.')} from ${join(work, 'import', 'dropped.tar')}\\n`),
    );
    // --until: with a daemon running, `events` alone follows it until interrupted.
    const imported = (await berth('events', '-o', 'json', '--until', new Date().toISOString())).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { reason: string; object: string })
      .filter((e) => e.reason === 'Imported')
      .map((e) => e.object);
    expect(imported).toEqual([image]);
  }, 60_000);

  it('an archive still being written into importDir is left until its size settles, then imported once, whole', async () => {
    // Uses the daemon the test above started.
    expect(daemon?.exitCode).toBe(null);
    const image = '127.0.0.1:1/airgap/slow:1';
    const whole = join(work, 'slow-src.tar');
    await archive(image, whole);
    const bytes = await readFile(whole);
    const target = join(work, 'import', 'slow.tar');
    // A slow writer: 16 chunks 50 ms apart, each gap well inside the 500 ms the size must hold still.
    const chunks = 16;
    const step = Math.ceil(bytes.length / chunks);
    const fh = await open(target, 'wx');
    for (let i = 0; i < chunks; i++) {
      await fh.write(bytes.subarray(i * step, (i + 1) * step));
      if (i < chunks - 1) await new Promise((r) => setTimeout(r, 50));
    }
    await fh.close();
    await until('the slow archive is imported', async () => out.includes(`from ${target}\n`));
    expect(out.split('\n').filter((l) => l.includes(`from ${target}`))).toEqual([
      expect.stringMatching(new RegExp(`imported ${image.replace(/[.]/g, '\\.')} from ${target}$`)),
    ]);
    // A half-written read would have been reported as a failed import of this file.
    expect(err).not.toMatch(/slow\.tar failed/);
  }, 60_000);
});
