// A start reads runc's exec fifo itself (src/runtime/exec-fifo.ts), as root with real runc, conmon
// and overlayfs: no `runc start` runs for a created container whose init waits, runc's own state
// says running after, and where the fifo is not what a waiting init leaves (its init killed, two
// starts at once), `runc start` answers as before. runc and conmon are wrapped on PATH to record
// each call (then run the real tool).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import { type E2eHost, setUpE2eHost, tearDownE2eHost } from '../helpers/e2e-host.js';
import { missingPrereqs } from '../helpers/prereqs.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'unshare', 'findmnt'], {
  root: true,
});

describe.skipIf(skip)('start through the exec fifo', () => {
  let host: E2eHost | undefined;
  let log: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    host = await setUpE2eHost('startfifo');
    const bin = join(host.work, 'bin');
    log = join(host.work, 'tools.log');
    await mkdir(bin);
    const real = execFileSync('sh', ['-c', 'command -v runc']).toString().trim();
    // Records the subcommand (the first argument after runc's global flags).
    await writeFile(
      join(bin, 'runc'),
      `#!/bin/sh\nfor a; do case $a in --*|/*) ;; *) echo "runc $a" >> ${log}; break;; esac; done\nexec ${real} "$@"\n`,
    );
    await chmod(join(bin, 'runc'), 0o755);
    env = { PATH: `${bin}:${process.env.PATH}` };
    expect((await host.berth('image', 'pull', host.image)).code).toBe(0);
  }, 180_000);
  afterAll(async () => {
    const { leaked } = await tearDownE2eHost(host);
    expect(leaked).toEqual([]);
  });

  const berth = (...args: string[]) => {
    const h = host as E2eHost;
    return runBerth(['--root', h.root, '--state', h.state, ...args], env);
  };
  const calls = async () => (await readFile(log, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean);
  const idOf = async (name: string) => {
    const all = JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout) as Array<{
      name: string;
      id: string;
    }>;
    return (all.find((c) => c.name === name) as { id: string }).id;
  };
  const runcDir = (id: string) => join((host as E2eHost).state, 'runc', id);

  it('starts a created container without a runc process; runc says it runs, its fifo is gone', async () => {
    const { image } = host as E2eHost;
    expect(
      (await berth('container', 'create', image, 'plain', '--', 'sh', '-c', 'echo hi; sleep 30')).code,
    ).toBe(0);
    const id = await idOf('plain');
    expect(existsSync(join(runcDir(id), 'exec.fifo'))).toBe(true);
    await writeFile(log, '');
    const started = await berth('container', 'start', 'plain');
    expect([started.code, started.stderr]).toEqual([0, '']);
    expect(await calls()).toEqual([]); // not even `runc start`
    expect(existsSync(join(runcDir(id), 'exec.fifo'))).toBe(false);
    const runcState = JSON.parse(
      execFileSync('runc', ['--root', join((host as E2eHost).state, 'runc'), 'state', id]).toString(),
    ) as { status: string };
    expect(runcState.status).toBe('running');
    for (let i = 0; i < 100 && !(await berth('container', 'logs', 'plain')).stdout.includes('hi'); i++)
      await new Promise((r) => setTimeout(r, 50));
    expect((await berth('container', 'logs', 'plain')).stdout).toBe('hi\n');
    expect((await berth('container', 'rm', '--force', 'plain')).code).toBe(0);
  }, 120_000);

  it('a created container whose init was killed: runc start answers, the start fails as exited, at once', async () => {
    const { image } = host as E2eHost;
    expect((await berth('container', 'create', image, 'killed', '--', 'echo', 'never')).code).toBe(0);
    const id = await idOf('killed');
    const init = (
      JSON.parse(readFileSync(join(runcDir(id), 'state.json'), 'utf8')) as { init_process_pid: number }
    ).init_process_pid;
    process.kill(init, 'SIGKILL');
    // Dead: a zombie until conmon reaps it, then gone.
    const dead = () => {
      try {
        return /\) Z /.test(readFileSync(`/proc/${init}/stat`, 'utf8'));
      } catch {
        return true;
      }
    };
    for (let i = 0; i < 100 && !dead(); i++) await new Promise((r) => setTimeout(r, 20));
    await writeFile(log, '');
    const t0 = Date.now();
    const started = await berth('container', 'start', 'killed');
    expect(Date.now() - t0).toBeLessThan(10_000); // a wait for a writer that never comes would hang here
    expect(started.code).toBe(4);
    expect(started.stderr).toContain('ERR_CONTAINER_EXITED');
    expect(await calls()).toContain('runc start');
    expect((await berth('container', 'logs', 'killed')).stdout).toBe('');
    expect((await berth('container', 'rm', '--force', 'killed')).code).toBe(0);
  }, 120_000);

  it('two starts at once: both succeed, the container runs once', async () => {
    const { image, work } = host as E2eHost;
    const out = join(work, 'once');
    await mkdir(out);
    expect(
      (
        await berth(
          'container',
          'create',
          image,
          'twice',
          '-v',
          `${out}:/out`,
          '--',
          'sh',
          '-c',
          'echo x >> /out/ran; sleep 30',
        )
      ).code,
    ).toBe(0);
    const [a, b] = await Promise.all([
      berth('container', 'start', 'twice'),
      berth('container', 'start', 'twice'),
    ]);
    expect([a.code, b.code]).toEqual([0, 0]);
    for (let i = 0; i < 100 && !existsSync(join(out, 'ran')); i++)
      await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
    expect(await readFile(join(out, 'ran'), 'utf8')).toBe('x\n');
    expect((await berth('container', 'rm', '--force', 'twice')).code).toBe(0);
  }, 120_000);
});
