// What the README's CLI section promises about output, checked against the built CLI on an empty
// store: every command and flag it lists is in `--help`, the table headers and JSON shapes it names,
// `BERTH_DEBUG=1` adding the stack trace to the one-line failure.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth, spawnBerth } from '../helpers/cli.js';
import { missingPrereqs } from '../helpers/prereqs.js';

const skip = missingPrereqs(['runc']);
const README = new URL('../../README.md', import.meta.url);

/** The README's CLI block: each `berth …` synopsis, its command words and every flag it names. */
async function readmeCommands(): Promise<Array<{ command: string; flags: string[] }>> {
  const text = await readFile(README, 'utf8');
  const block = text.slice(text.indexOf('## CLI'), text.indexOf('Global flags:'));
  const out: Array<{ command: string; flags: string[] }> = [];
  for (const line of block.split('\n')) {
    const m = /^berth ((?:[a-z]+ ?)+)/.exec(line);
    const last = out.at(-1);
    if (m) out.push({ command: (m[1] as string).trim(), flags: line.match(/--[a-z][a-z-]*/g) ?? [] });
    else if (/^ {6}-/.test(line) && last) last.flags.push(...(line.match(/--[a-z][a-z-]*/g) ?? []));
  }
  return out;
}

describe.skipIf(skip)('CLI output as the README describes it', () => {
  let dir: string;
  const berth = (...args: string[]) =>
    runBerth(['--root', join(dir, 'root'), '--state', join(dir, 'state'), ...args]);
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-cli-outputs-'));
    await mkdir(join(dir, 'manifests'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('berth --help lists every command of the README, and each COMMAND --help its flags', async () => {
    const commands = await readmeCommands();
    expect(commands.length).toBe(27);
    const help = await berth('--help');
    expect(help.code).toBe(0);
    const listed = help.stdout
      .split('\n')
      .filter((l) => /^ {2}[a-z]/.test(l))
      .map((l) => l.trim().split(/\s{2,}/)[0]);
    expect([...listed].sort()).toEqual(commands.map((c) => c.command).sort());
    const missing: string[] = [];
    for (const c of commands) {
      const res = await berth(...c.command.split(' '), '--help');
      expect([c.command, res.code]).toEqual([c.command, 0]);
      expect(res.stdout.startsWith(`Usage: berth ${c.command}`)).toBe(true);
      for (const flag of c.flags) if (!res.stdout.includes(flag)) missing.push(`${c.command} ${flag}`);
    }
    expect(missing).toEqual([]);
  });

  it('plan, apply and container ls print the shapes and headers the README names', async () => {
    const plan = await berth('plan', '-o', 'json', join(dir, 'manifests'));
    expect(plan.code).toBe(0);
    const parsed = JSON.parse(plan.stdout) as Record<string, unknown>;
    expect(parsed).toEqual({ actions: [], diagnostics: [], passCpuMs: expect.any(Number) });
    const apply = await berth('apply', '-o', 'json', join(dir, 'manifests'));
    expect([apply.code, JSON.parse(apply.stdout)]).toEqual([
      0,
      { done: [], failed: [], remaining: [], diagnostics: [], held: [] },
    ]);
    const ls = await berth('container', 'ls');
    expect([ls.code, ls.stdout, ls.stderr]).toEqual([0, 'NAME   ID   IMAGE   STATE   PID   CREATED\n', '']);
  });

  it('a failure is one line; BERTH_DEBUG=1 adds the stack trace after it', async () => {
    const line = 'berth: ERR_IMAGE_NOT_FOUND: image "nosuch:1" is not in the store (see berth image ls)\n';
    const plain = await berth('image', 'inspect', 'nosuch:1');
    expect([plain.code, plain.stdout, plain.stderr]).toEqual([3, '', line]);
    const debug = await runBerth(
      ['--root', join(dir, 'root'), '--state', join(dir, 'state'), 'image', 'inspect', 'nosuch:1'],
      { BERTH_DEBUG: '1' },
    );
    expect(debug.code).toBe(3);
    const lines = debug.stderr.trimEnd().split('\n');
    expect(lines.slice(0, 2)).toEqual([line.trimEnd(), 'BerthError: image "nosuch:1" is not in the store']);
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.slice(2).every((l) => l.startsWith('    at '))).toBe(true);
  });

  it('Ctrl-C during a pull (a registry that never answers) exits 130, as a shell reports it, not 1', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((s) => sockets.push(s)); // accepts, never answers
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as AddressInfo).port;
    try {
      const child = spawnBerth([
        '--root',
        join(dir, 'root'),
        '--state',
        join(dir, 'state'),
        'image',
        'pull',
        `127.0.0.1:${port}/a/b:1`,
      ]);
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
      });
      const code = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
      while (sockets.length === 0) await new Promise((r) => setTimeout(r, 50));
      child.kill('SIGINT');
      expect(await code).toBe(130);
      expect(stderr).toMatch(/^berth: ERR_ABORTED: .*127\.0\.0\.1:\d+\/a\/b.*: aborted\n$/);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  it('SIGTERM during an apply pulling its image exits 130, and the cut pull is not counted as a failed attempt', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as AddressInfo).port;
    const manifests = join(dir, 'cut-apply');
    await mkdir(manifests, { recursive: true });
    await writeFile(
      join(manifests, 'p.yaml'),
      `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: "127.0.0.1:${port}/a/b:1"}]\n`,
    );
    const state = join(dir, 'cut-state');
    try {
      const child = spawnBerth(['--root', join(dir, 'root'), '--state', state, 'apply', manifests]);
      const code = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
      while (sockets.length === 0) await new Promise((r) => setTimeout(r, 50));
      child.kill('SIGTERM');
      expect(await code).toBe(130);
      const status = JSON.parse(await readFile(join(state, 'reconcile.json'), 'utf8').catch(() => '{}'));
      expect(status.failures ?? {}).toEqual({});
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });
});
