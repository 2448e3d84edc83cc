// The exec handler of probe and hook actions (src/health/actions/exec.ts) in a real container
// (runc, conmon, busybox): exit codes and output (its exact 10 KiB bound), the container's user,
// env and working directory, one process spawned (conmon) per run, a command judged at its exit
// though a background process it left holds its output (which runs on in the container), and a
// command that hangs killed at its timeout with every process it started, none left in the container
// (eight loops forking as fast as they can; a runc slow to write the pid file, as on a loaded host).
import { createHook } from 'node:async_hooks';
import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRunAction } from '../../src/health/actions/run-action.js';
import { runBerth } from '../helpers/cli.js';
import { buildImage, createLayout, type Layout, populateBusybox, pushImage } from '../helpers/images.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci'], { root: true });

describe.skipIf(skip)('health actions: exec', () => {
  let registry: TestRegistry;
  let layout: Layout;
  let work: string;
  let root: string;
  let state: string;
  let id: string;
  const berth = (...args: string[]) => runBerth(['--root', root, '--state', state, ...args]);
  const ok = async (...args: string[]) => {
    const res = await berth(...args);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    return res.stdout;
  };
  /**
   * Live processes in the container (busybox ps), but for this ps itself. Zombies are dead: an
   * orphan killed in the container is its init's to reap (here `sleep`, which reaps none).
   */
  const processes = () =>
    execFileSync('runc', ['--root', join(state, 'runc'), 'exec', id, 'ps', '-o', 'stat,args'])
      .toString()
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => !f[0]?.startsWith('Z'))
      .map((f) => f.slice(1).join(' '))
      .filter((a) => a !== 'ps -o stat,args');

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-e2e-exec-'));
    root = join(work, 'root');
    state = join(work, 'state');
    registry = await startRegistry();
    layout = await createLayout();
    await buildImage(layout, 'busybox', [populateBusybox], { cmd: '/bin/sh' });
    const image = `${registry.host}/test/busybox:1`;
    await pushImage(layout, 'busybox', image);
    await ok('image', 'pull', image);
    await ok(
      'container',
      'create',
      '--env',
      'GREETING=hi',
      '--user',
      '1234:5678',
      '--workdir',
      '/etc',
      image,
      'probed',
      '--',
      'sleep',
      '1000',
    );
    await ok('container', 'start', 'probed');
    const all = JSON.parse(await ok('container', 'ls', '-o', 'json')) as Array<{ name: string; id: string }>;
    id = all.find((c) => c.name === 'probed')?.id as string;
  }, 180_000);
  afterAll(async () => {
    if (root) await berth('container', 'rm', '--force', 'probed');
    await registry?.stop();
    await layout?.cleanup();
    await removeTempRoot(work);
  });

  const runAction = () =>
    createRunAction({
      runc: { bin: 'runc', root: join(state, 'runc') },
      pidDir: work,
      userAgent: 'berth-probe/test',
    });
  const exec = (command: string[], timeoutMs = 5000) =>
    runAction()({ kind: 'exec', command }, { containerId: id, address: '', namedPorts: {} }, { timeoutMs });

  it('succeeds on exit code 0 and fails on another, with the first line of output', async () => {
    expect(await exec(['true'])).toEqual({ ok: true, message: 'exit code 0' });
    expect(await exec(['sh', '-c', 'echo "$GREETING there"; echo more; exit 3'])).toEqual({
      ok: false,
      message: 'exit code 3: hi there',
    });
  });

  it("runs with the container's user, env and working directory", async () => {
    expect(await exec(['sh', '-c', 'echo "$(id -u):$(id -g) $PWD $GREETING"'])).toEqual({
      ok: true,
      message: 'exit code 0: 1234:5678 /etc hi',
    });
  });

  it('keeps exactly the first 10 KiB of its output: a line past them is not seen', async () => {
    // Blanks the message trims, then a word: seen when it starts within the first 10240 bytes.
    const padded = (n: number) => exec(['sh', '-c', `printf '%${n}s' ''; echo past`]);
    expect(await padded(10_240 - 4)).toEqual({ ok: true, message: 'exit code 0: past' });
    expect(await padded(10_240 - 3)).toEqual({ ok: true, message: 'exit code 0: pas' });
    expect(await padded(10_240)).toEqual({ ok: true, message: 'exit code 0' });
  });

  it('is one process on the host: conmon, which runs runc exec', async () => {
    let spawned = 0;
    const hook = createHook({
      init(_id, type) {
        if (type === 'PROCESSWRAP') spawned++;
      },
    });
    const run = runAction();
    hook.enable();
    try {
      expect(
        await run(
          { kind: 'exec', command: ['true'] },
          { containerId: id, address: '', namedPorts: {} },
          { timeoutMs: 5000 },
        ),
      ).toEqual({ ok: true, message: 'exit code 0' });
    } finally {
      hook.disable();
    }
    expect(spawned).toBe(1);
  });

  it('fails on a command the container lacks', async () => {
    const r = await exec(['/no/such/binary']);
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/^exit code \d+/);
  });

  it('kills a command that hangs at its timeout, with what it started: nothing is left', async () => {
    const t0 = Date.now();
    expect(await exec(['sh', '-c', 'sleep 777 & sleep 778; echo never'], 500)).toEqual({
      ok: false,
      message: 'timed out after 0.5 s',
    });
    expect(Date.now() - t0).toBeLessThan(4000);
    expect(processes()).toEqual(['sleep 1000']);
  });

  it('judges by the exit code: a command that leaves a background process holding its output passes at once', async () => {
    const t0 = Date.now();
    expect(await exec(['sh', '-c', 'sleep 1357 & echo ok'], 5000)).toEqual({
      ok: true,
      message: 'exit code 0: ok',
    });
    // Resolved on the exit, not at the timeout (5 s) the pipe's close would have waited for.
    expect(Date.now() - t0).toBeLessThan(4000);
    expect(await exec(['sh', '-c', 'sleep 1358 & exit 4'], 5000)).toEqual({
      ok: false,
      message: 'exit code 4',
    });
    // The background processes stay in the container, as in Kubernetes; none of ours holds a pipe.
    expect(processes().sort()).toEqual(['sleep 1000', 'sleep 1357', 'sleep 1358']);
  });

  it('keeps its output bounded: an endless writer is only timed out', async () => {
    expect(await exec(['sh', '-c', 'yes'], 1000)).toEqual({ ok: false, message: 'timed out after 1 s' });
    expect(processes().filter((p) => !p.startsWith('sleep 135'))).toEqual(['sleep 1000']);
  });

  it('kills a command that forks as fast as it can at its timeout: none of its children is left', async () => {
    expect(
      await exec(
        ['sh', '-c', 'for i in 1 2 3 4 5 6 7 8; do (while :; do sleep 781 & done) & done; wait'],
        500,
      ),
    ).toEqual({
      ok: false,
      message: 'timed out after 0.5 s',
    });
    // Every one was stopped, then killed; on a loaded host the last of some thousands may take
    // longer to die than the 2 s the action waits for them before it answers.
    let left: string[] = [];
    for (let i = 0; i < 100; i++) {
      left = processes().filter((p) => !p.startsWith('sleep 135'));
      if (left.length === 1) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(left).toEqual(['sleep 1000']);
  });

  it('a runc slow to write the pid file (a loaded host): the command it started is killed at the timeout all the same', async () => {
    // runc exec as a descheduled one runs it: the process started, its pid file written 1.5 s later.
    const slowRunc = join(work, 'slow-runc');
    const real = execFileSync('sh', ['-c', 'command -v runc']).toString().trim();
    await writeFile(
      slowRunc,
      `#!/bin/bash
case " $* " in *" exec "*) ;; *) exec ${real} "$@" ;; esac
args=(); pidfile=
while [ $# -gt 0 ]; do
  case $1 in
    --pid-file) pidfile=$2; args+=(--pid-file "$2.slow"); shift 2 ;;
    --pid-file=*) pidfile=\${1#--pid-file=}; args+=("--pid-file=$pidfile.slow"); shift ;;
    *) args+=("$1"); shift ;;
  esac
done
${real} "\${args[@]}"; rc=$?
sleep 1.5; [ -n "$pidfile" ] && mv "$pidfile.slow" "$pidfile"
exit $rc
`,
    );
    await chmod(slowRunc, 0o755);
    const run = createRunAction({
      runc: { bin: slowRunc, root: join(state, 'runc') },
      pidDir: work,
      userAgent: 'x',
    });
    expect(
      await run(
        { kind: 'exec', command: ['sleep', '779'] },
        { containerId: id, address: '', namedPorts: {} },
        { timeoutMs: 500 },
      ),
    ).toEqual({ ok: false, message: 'timed out after 0.5 s' });
    expect(processes().filter((p) => !p.startsWith('sleep 135'))).toEqual(['sleep 1000']);
  });
});
