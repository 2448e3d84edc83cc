// A CLI start's fixed cost: what the built `berth` loads for a command, and its compile cache
// (src/cli/compile-cache.ts): made private under --state, used, and never where another user
// could plant code in it.
import { spawn } from 'node:child_process';
import { chmod, chown, lstat, mkdir, mkdtemp, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runBerth, testEnv, withTestConfig } from '../helpers/cli.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { removeTempRoot } from '../helpers/temp-root.js';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'berth-startup-'));
});
afterAll(async () => {
  await removeTempRoot(work);
});

/** Run the CLI with a load hook that lists every file module it loads; the npm packages in them. */
async function packagesLoadedBy(args: string[]): Promise<string[]> {
  return [...new Set((await modulesLoadedBy(args)).map((m) => m.split('/')[0] as string))].sort();
}

/** The npm modules bundled into what the CLI loads, as `package/path/in/it.js`. */
async function modulesLoadedBy(args: string[]): Promise<string[]> {
  const modules = new Set<string>();
  // esbuild marks each bundled module with a `// path` comment: `// …/node_modules/ajv/dist/…`.
  for (const f of await filesLoadedBy(args)) {
    for (const m of (await readFile(f, 'utf8')).matchAll(/^\/\/ .*node_modules\/(\S+)$/gm)) {
      modules.add(m[1] as string);
    }
  }
  return [...modules].sort();
}

/** Every file the CLI loads as a module (its own and any other), in load order. */
async function filesLoadedBy(args: string[]): Promise<string[]> {
  const dir = await mkdtemp(join(work, 'rec-'));
  const hook = join(dir, 'hook.mjs');
  const record = join(dir, 'loaded.txt');
  await writeFile(
    hook,
    `import { appendFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
registerHooks({ load(url, context, next) {
  if (url.startsWith('file:')) appendFileSync(${JSON.stringify(record)}, url + '\\n');
  return next(url, context);
} });
`,
  );
  const code = await new Promise<number | null>((resolve, reject) => {
    // The tests' own host config, never the host's /etc/berth/config.yaml (cli.ts).
    const child = spawn(process.execPath, ['--import', hook, CLI, ...withTestConfig(args)], {
      stdio: 'ignore',
      env: testEnv({ NODE_DISABLE_COMPILE_CACHE: '1' }),
    });
    child.on('error', reject);
    child.on('close', resolve);
  });
  expect(code).not.toBeNull();
  return (await readFile(record, 'utf8'))
    .trim()
    .split('\n')
    .map((u) => new URL(u).pathname);
}

/** The built-in modules of Node the CLI loads beyond what a bare `node` has loaded, by name. */
async function builtinsLoadedBy(args: string[]): Promise<string[]> {
  const dir = await mkdtemp(join(work, 'nat-'));
  const hook = join(dir, 'hook.mjs');
  const record = join(dir, 'loaded.txt');
  await writeFile(
    hook,
    `import { writeFileSync } from 'node:fs';
const before = new Set(process.moduleLoadList);
process.on('exit', () => writeFileSync(${JSON.stringify(record)}, process.moduleLoadList.filter((m) => !before.has(m)).join('\\n')));
`,
  );
  await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', hook, CLI, ...withTestConfig(args)], {
      stdio: 'ignore',
      env: testEnv({ NODE_DISABLE_COMPILE_CACHE: '1' }),
    });
    child.on('error', reject);
    child.on('close', resolve);
  });
  return (await readFile(record, 'utf8'))
    .split('\n')
    .filter((m) => m.startsWith('NativeModule '))
    .map((m) => m.slice('NativeModule '.length));
}

describe('what a command loads', () => {
  it("berth --help loads no part of Node it never calls: a built-in's export read on first use (util.diff, util.setTraceSigInt) is not read at load", async () => {
    const loaded = await builtinsLoadedBy(['--state', join(work, 'n1'), '--help']);
    const unused = ['worker_threads', 'internal/worker', 'internal/util/diff', 'internal/util/trace_sigint'];
    expect(loaded.filter((m) => unused.includes(m))).toEqual([]);
  });

  it('the CLI is one bundle: berth.mjs, then only the chunks of dist/cli/chunks/ a command needs', async () => {
    const cliDir = dirname(CLI);
    const shape = (files: string[]) =>
      files.map((f) =>
        f === CLI ? 'berth.mjs' : dirname(f) === join(cliDir, 'chunks') && f.endsWith('.mjs') ? 'chunk' : f,
      );
    const help = await filesLoadedBy(['--state', join(work, 'b1'), '--help']);
    const ls = await filesLoadedBy(['--root', join(work, 'rb'), '--state', join(work, 'b2'), 'image', 'ls']);
    expect(shape(help)[0]).toBe('berth.mjs');
    expect(new Set(shape(help))).toEqual(new Set(['berth.mjs', 'chunk']));
    expect(new Set(shape(ls))).toEqual(new Set(['berth.mjs', 'chunk']));
    expect(ls.length).toBeGreaterThan(help.length); // a command's code comes in chunks, when it runs
  });

  it('a foreground container run loads berth.mjs, then the thin client as one file, before any chunk of the full command', async () => {
    // No daemon at this --state: the thin client finds none and the full command runs (and refuses: no image).
    const files = await filesLoadedBy([
      '--root',
      join(work, 'rt'),
      '--state',
      join(work, 't1'),
      'container',
      'run',
      '--rm',
      '--pull',
      'never',
      'busybox:1',
      'thin',
      '--',
      'true',
    ]);
    const thin = join(dirname(CLI), 'thin-run.mjs');
    expect(files[0]).toBe(CLI);
    expect(files).toContain(thin);
    // Between them at most the chunk of esbuild's helpers, which the bundle's entry imports.
    expect(files.slice(1, files.indexOf(thin)).length).toBeLessThanOrEqual(1);
  });

  it('berth --help loads no command and no dependency', async () => {
    expect(await packagesLoadedBy(['--state', join(work, 'h'), '--help'])).toEqual([]);
  });

  it('container start loads neither the manifest stack (ajv, yaml), chokidar nor undici', async () => {
    const args = ['--root', join(work, 'r1'), '--state', join(work, 's1'), 'container', 'start', 'none'];
    expect(await packagesLoadedBy(args)).toEqual([]);
  });

  it('image ls does not load chokidar or undici', async () => {
    const args = ['--root', join(work, 'r2'), '--state', join(work, 's2'), 'image', 'ls'];
    const loaded = await packagesLoadedBy(args);
    expect(loaded.filter((p) => ['chokidar', 'readdirp', 'undici'].includes(p))).toEqual([]);
  });

  it("image pull loads undici's Agent and request API, not its fetch, WebSocket, caches or mocks", async () => {
    const config = join(work, 'no-retries.yaml');
    await writeFile(config, 'pull:\n  retries: 0\n');
    // Nothing listens on port 1: the pull fails at its first request, after loading the client.
    const args = ['--root', join(work, 'r3'), '--state', join(work, 's3'), '--config', config];
    const loaded = await modulesLoadedBy([...args, 'image', 'pull', '--no-unpack', '127.0.0.1:1/x:1']);
    const undici = loaded.filter((m) => m.startsWith('undici/'));
    expect(undici).toContain('undici/lib/dispatcher/agent.js');
    expect(undici).toContain('undici/lib/api/api-request.js');
    // Response bodies use a few of fetch's helpers (body mixins); fetch itself stays out.
    const unwanted =
      /^undici\/(index\.js|lib\/(mock|cache|interceptor|web\/websocket|web\/eventsource)\/|lib\/web\/fetch\/index\.js)/;
    expect(undici.filter((m) => unwanted.test(m))).toEqual([]);
  });
});

describe('the compile cache', () => {
  const imageLs = (state: string, env: Record<string, string> = {}) =>
    runBerth(['--root', join(work, 'root'), '--state', state, 'image', 'ls'], env);
  /** Every file below dir, relative to it. */
  const filesUnder = async (dir: string) => (await readdir(dir, { recursive: true })).sort();

  it('is made 0700 under --state and filled by the first run', async () => {
    const state = join(work, 'state-new');
    expect((await imageLs(state)).code).toBe(0);
    const st = await lstat(join(state, 'compile-cache'));
    expect([st.isDirectory(), st.mode & 0o777, st.uid]).toEqual([true, 0o700, process.geteuid?.()]);
    const entries = await filesUnder(join(state, 'compile-cache'));
    expect(entries.length).toBeGreaterThan(1);
    // A second run reads the same cache: nothing new to compile.
    expect((await imageLs(state)).code).toBe(0);
    expect(await filesUnder(join(state, 'compile-cache'))).toEqual(entries);
  });

  it('tightens a compile-cache directory of ours that others may read', async () => {
    const state = join(work, 'state-loose');
    await mkdir(join(state, 'compile-cache'), { recursive: true, mode: 0o711 });
    await chmod(join(state, 'compile-cache'), 0o755);
    expect((await imageLs(state)).code).toBe(0);
    expect((await lstat(join(state, 'compile-cache'))).mode & 0o777).toBe(0o700);
  });

  it('is not used in a --state others may write to', async () => {
    const state = join(work, 'state-open');
    await mkdir(state, { mode: 0o777 });
    await chmod(state, 0o777);
    await runBerth(['--state', state, '--help']);
    await expect(lstat(join(state, 'compile-cache'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('never writes through a compile-cache symlink', async () => {
    const state = join(work, 'state-link');
    const victim = join(work, 'victim');
    await mkdir(state, { mode: 0o711 });
    await mkdir(victim);
    await symlink(victim, join(state, 'compile-cache'));
    expect((await imageLs(state)).code).toBe(0);
    expect(await readdir(victim)).toEqual([]);
    expect((await lstat(join(state, 'compile-cache'))).isSymbolicLink()).toBe(true);
  });

  it.skipIf(missingPrereqs([], { root: true }))(
    'never writes into a compile-cache another user owns',
    async () => {
      const state = join(work, 'state-other');
      await mkdir(join(state, 'compile-cache'), { recursive: true, mode: 0o700 });
      await chown(join(state, 'compile-cache'), 65534, 65534);
      expect((await imageLs(state)).code).toBe(0);
      expect(await readdir(join(state, 'compile-cache'))).toEqual([]);
    },
  );

  it('is off with NODE_DISABLE_COMPILE_CACHE=1', async () => {
    const state = join(work, 'state-off');
    expect((await imageLs(state, { NODE_DISABLE_COMPILE_CACHE: '1' })).code).toBe(0);
    await expect(lstat(join(state, 'compile-cache'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
