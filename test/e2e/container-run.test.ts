// `berth container run` end to end, as root, with real runc, conmon and overlayfs over a busybox
// image from a loopback registry: the container's output on berth's stdout and stderr as it is
// written, berth's exit code the container's, --rm leaving nothing, --detach, an interrupt that
// stops the container and waits for its last words, and refusals that create nothing.
// Each test runs twice: with no daemon (the command does it all) and with a daemon serving the same
// root (it creates and starts the container through the API; the command prints, stops, removes).
// After every test, no mount, netns, runc state, monitor or cgroup of ours is left (helpers/leaks.ts).
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { callDaemon } from '../../src/api/client.js';
import { lineExchange } from '../../src/api/line-exchange.js';
import { apiEventReasons } from '../helpers/api-events.js';
import { CLI, runBerth, testConfigFile, testEnv, withTestConfig } from '../helpers/cli.js';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { buildImage, createLayout, type Layout, populateBusybox, pushImage } from '../helpers/images.js';
import { containerIdsOnDisk, findLeaks } from '../helpers/leaks.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'findmnt'], {
  root: true,
});

describe.skipIf(skip).each([{ via: 'local' }, { via: 'daemon' }] as const)(
  'container run ($via)',
  ({ via }) => {
    let registry: TestRegistry;
    let daemon: TestDaemon | undefined;
    let layout: Layout;
    let work: string;
    let image: string;
    let root: string;
    let state: string;
    let n = 0;
    const berth = (...args: string[]) => runBerth(['--root', root, '--state', state, ...args]);
    const names = async () =>
      (
        JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout || '[]') as Array<{ name: string }>
      ).map((c) => c.name);
    const status = async (name: string) => {
      const all = JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout) as Array<
        Record<string, unknown>
      >;
      return all.find((c) => c.name === name);
    };

    beforeAll(async () => {
      work = await mkdtemp(join(tmpdir(), 'berth-e2e-run-'));
      registry = await startRegistry();
      layout = await createLayout();
      await buildImage(layout, 'busybox', [populateBusybox], { cmd: '/bin/sh' });
      image = `${registry.host}/test/busybox:1`;
      await pushImage(layout, 'busybox', image);
      const t = await mkdtemp(join(work, 't-'));
      root = join(t, 'root');
      state = join(t, 'state');
      const pulled = await berth('image', 'pull', image);
      expect(pulled.code).toBe(0);
      if (via === 'daemon')
        // Its OOM score moved, as the systemd unit moves it (-999; lowering needs CAP_SYS_RESOURCE, which
        // this host's tests may lack: raised here); its containers must not inherit it.
        daemon = await startDaemon({
          root,
          state,
          manifests: await mkdtemp(join(t, 'm-')),
          prefix: ['choom', '-n', '500', '--'],
        });
    }, 180_000);
    afterAll(async () => {
      await daemon?.stop();
      await registry?.stop();
      await layout?.cleanup();
      await removeTempRoot(work);
    });
    const seenIds = new Set<string>();
    afterEach(async () => {
      for (const id of containerIdsOnDisk(root, state)) seenIds.add(id);
      for (const name of await names()) await berth('container', 'rm', '--force', name);
      // No mount, netns, runc container, conmon or cgroup of ours left behind.
      expect(findLeaks({ work, root, state, pods: [], seenIds })).toEqual([]);
      expect(await readdir(join(state, 'netns')).catch(() => [])).toEqual([]);
    });
    /** What the daemon recorded doing for container `name` through the API (nothing without a daemon). */
    const apiEvents = (name: string, cli = berth) => apiEventReasons(cli, name);
    /** `container run ARGS` as a child whose output the test reads as it comes; `group`: its own process group. */
    const spawnRun = (args: string[], group = false) =>
      spawn(
        process.execPath,
        [CLI, ...withTestConfig(['--root', root, '--state', state, 'container', 'run', ...args])],
        { env: testEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: group },
      );

    it("prints the container's stdout and stderr, exits with its code, and --rm leaves nothing", async () => {
      const name = `r${++n}`;
      const res = await berth(
        'container',
        'run',
        '--rm',
        image,
        name,
        '--',
        'sh',
        '-c',
        'echo out; echo err >&2; exit 3',
      );
      expect(res).toMatchObject({ code: 3, stdout: 'out\n', stderr: 'err\n' });
      // With a daemon the whole run is its (thin-run.ts): it removes the container too.
      expect(await apiEvents(name)).toEqual(via === 'daemon' ? ['Created', 'Started', 'Removed'] : []);
      expect(await names()).toEqual([]);
      expect(await readdir(join(root, 'containers'))).toEqual([]);
    });

    it('prints the last words a container writes without a newline, each stream on its own', async () => {
      const name = `r${++n}`;
      const script = "printf 'Enter: '; echo err >&2; printf hello";
      const res = await berth('container', 'run', '--rm', image, name, '--', 'sh', '-c', script);
      expect(res).toMatchObject({ code: 0, stdout: 'Enter: hello', stderr: 'err\n' });
    });

    it('a reader of its output that goes away (| head -1) stops it, and --rm removes it', async () => {
      const name = `r${++n}`;
      const script = "trap 'exit 3' TERM; while :; do echo y; sleep 0.05 & wait $!; done";
      const child = spawnRun(['--rm', image, name, '--', 'sh', '-c', script]);
      const ended = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      child.stdout.destroy(); // as head does after its line
      expect(await ended).toBe(3); // its shell's TERM trap: the stop signal came
      expect(await names()).toEqual([]);
    });

    it('keeps an exited container without --rm, with its code in ls and its log', async () => {
      const name = `r${++n}`;
      const res = await berth('container', 'run', image, name, '--', 'sh', '-c', 'echo kept; exit 0');
      expect(res).toMatchObject({ code: 0, stdout: 'kept\n', stderr: '' });
      expect(await status(name)).toMatchObject({ state: 'exited', exitCode: 0 });
      expect((await berth('container', 'logs', name)).stdout).toBe('kept\n');
    });

    it('prints long lines of multibyte characters whole, however conmon cut them into records', async () => {
      const name = `r${++n}`;
      // 30,000-byte lines (conmon cuts a line at its buffer's size), each shifted by one byte, so
      // some cut falls inside a three-byte character: each half once decoded alone as U+FFFD.
      const snowmen = '☃'.repeat(10_000);
      const script = `s=${'☃'.repeat(10)}; for i in 1 2 3; do s=$s$s$s$s$s$s$s$s$s$s; done; echo "$s"; echo "x$s"; echo "xx$s"`;
      const res = await berth('container', 'run', image, name, '--', 'sh', '-c', script);
      const expected = `${snowmen}\nx${snowmen}\nxx${snowmen}\n`;
      expect(res.code).toBe(0);
      expect(res.stdout === expected, 'container run printed every character').toBe(true);
      const logs = await berth('container', 'logs', name);
      expect(logs.stdout === expected, 'container logs printed every character').toBe(true);
      await berth('container', 'rm', name);
    });

    it('prints every line of a burst written just before the exit', async () => {
      const name = `r${++n}`;
      const res = await berth('container', 'run', '--rm', image, name, '--', 'sh', '-c', 'seq 1 20000');
      expect(res.code).toBe(0);
      const lines = res.stdout.trimEnd().split('\n');
      expect(lines.length).toBe(20000);
      expect(lines.at(-1)).toBe('20000');
    });

    it('--detach leaves it running and prints its name and id', async () => {
      const name = `r${++n}`;
      const res = await berth('container', 'run', '-d', image, name, '--', 'sh', '-c', 'echo up; sleep 60');
      expect(res.code).toBe(0);
      const s = await status(name);
      expect(s).toMatchObject({ state: 'running' });
      expect(res.stdout).toBe(`${name} ${s?.id}\n`);
    });

    it('an interrupt stops the container with its stop signal and prints its last words; --rm then removes it', async () => {
      const name = `r${++n}`;
      const script = "trap 'echo bye; exit 7' TERM; echo ready; while :; do sleep 0.1 & wait $!; done";
      // Its own process group, signalled as a whole: what a terminal's ^C does (the CLI, and whatever
      // it started in the group).
      const child = spawnRun(['--rm', image, name, '--', 'sh', '-c', script], true);
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      let stdout = '';
      const ready = new Promise<void>((resolve) =>
        child.stdout.on('data', (d: Buffer) => {
          stdout += d.toString();
          if (stdout.includes('ready\n')) resolve();
        }),
      );
      const ended = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      await ready;
      process.kill(-(child.pid as number), 'SIGINT');
      expect(await ended).toBe(7);
      expect([stdout, stderr]).toEqual(['ready\nbye\n', '']);
      expect(await names()).toEqual([]);
    });

    it('an interrupt at any moment of the start leaves nothing behind with --rm', async () => {
      // Before the request, while the create is under way, around the start, once it runs: each
      // ends the command (130, or the container's code) with the container removed, never left running.
      for (const delay of [50, 150, 250, 350, 450, 600, 800]) {
        const name = `r${++n}`;
        const child = spawnRun(['--rm', '-t', '1', image, name, '--', 'sleep', '60']);
        const ended = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
        await new Promise((r) => setTimeout(r, delay));
        child.kill('SIGINT');
        const code = await ended;
        expect([130, 137, 143, null]).toContain(code);
        expect(await names()).toEqual([]);
      }
    }, 60_000);

    it('a SIGTERM to the command alone stops the container with its stop signal; --rm then removes it', async () => {
      const name = `r${++n}`;
      const script = "trap 'echo bye; exit 7' TERM; echo ready; while :; do sleep 0.1 & wait $!; done";
      const child = spawnRun(['--rm', image, name, '--', 'sh', '-c', script]);
      let stdout = '';
      const ready = new Promise<void>((resolve) =>
        child.stdout.on('data', (d: Buffer) => {
          stdout += d.toString();
          if (stdout.includes('ready\n')) resolve();
        }),
      );
      const ended = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      await ready;
      child.kill('SIGTERM'); // the command's process only: the container is not in its group
      expect(await ended).toBe(7);
      expect(stdout).toBe('ready\nbye\n');
      expect(await names()).toEqual([]);
    });

    it('a second signal leaves at once with 130, and leaves the container to its stop', async () => {
      const name = `r${++n}`;
      // It ignores its stop signal: the first signal's stop waits out --time, the second does not wait.
      const script = "trap '' TERM; echo ready; while :; do sleep 0.1 & wait $!; done";
      const child = spawnRun(['--rm', '-t', '60', image, name, '--', 'sh', '-c', script]);
      const ready = new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      const ended = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      await ready;
      child.kill('SIGINT');
      await new Promise((r) => setTimeout(r, 300));
      child.kill('SIGINT');
      expect(await ended).toBe(130);
      expect(await status(name)).toMatchObject({ state: 'running' }); // not removed: nobody waited for its end
    });

    if (via === 'daemon')
      it('a daemon that stops mid-run ends the command with ERR_DAEMON_GONE (125); the container runs on, made once', async () => {
        const t = await mkdtemp(join(work, 'gone-'));
        const own = ['--root', join(t, 'root'), '--state', join(t, 'state')];
        const fresh = (...args: string[]) => runBerth([...own, ...args]);
        expect((await fresh('image', 'pull', image)).code).toBe(0);
        const ownDaemon = await startDaemon({
          root: join(t, 'root'),
          state: join(t, 'state'),
          manifests: await mkdtemp(join(t, 'm-')),
        });
        const name = `r${++n}`;
        // Removed here, not in onTestFinished: afterEach's leak check runs before that.
        onTestFinished(() => ownDaemon.stop());
        const child = spawn(
          process.execPath,
          [
            CLI,
            ...withTestConfig([
              ...own,
              'container',
              'run',
              '--rm',
              image,
              name,
              '--',
              'sh',
              '-c',
              'echo ready; sleep 60',
            ]),
          ],
          { env: testEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
        });
        const ended = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
        await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
        await ownDaemon.stop();
        expect(await ended).toBe(125);
        expect(stderr).toMatch(/ERR_DAEMON_GONE/);
        const listed = JSON.parse((await fresh('container', 'ls', '-o', 'json')).stdout) as Array<{
          name: string;
          state: string;
        }>;
        expect(listed.map((c) => [c.name, c.state])).toEqual([[name, 'running']]);
        expect((await fresh('container', 'rm', '--force', name)).code).toBe(0);
      });

    it('pulls an image the store lacks (--pull missing, the default), and never with --pull never', async () => {
      const t = await mkdtemp(join(work, 'fresh-'));
      const fresh = (...args: string[]) =>
        runBerth(['--root', join(t, 'root'), '--state', join(t, 'state'), ...args]);
      // With a daemon, the daemon answers that it lacks the image, and the command pulls it.
      const freshDaemon =
        via === 'daemon'
          ? await startDaemon({
              root: join(t, 'root'),
              state: join(t, 'state'),
              manifests: await mkdtemp(join(t, 'm-')),
            })
          : undefined;
      onTestFinished(async () => {
        await freshDaemon?.stop();
        await rm(t, { recursive: true, force: true });
      });
      const never = await fresh(
        'container',
        'run',
        '--rm',
        '--pull',
        'never',
        image,
        `r${++n}`,
        '--',
        'echo',
        'no',
      );
      expect(never).toMatchObject({ code: 125, stdout: '' });
      expect(never.stderr).toMatch(/ERR_IMAGE_NOT_FOUND/);
      const bad = await fresh('container', 'run', '--pull', 'sometimes', image, `r${++n}`, '--', 'true');
      expect([bad.code, bad.stderr]).toEqual([
        125,
        'berth: ERR_USAGE: --pull must be missing, always or never, not "sometimes"\n',
      ]);
      const pulledName = `r${++n}`;
      const pulled = await fresh('container', 'run', '--rm', image, pulledName, '--', 'echo', 'pulled');
      expect(pulled).toMatchObject({ code: 0, stdout: 'pulled\n', stderr: '' });
      expect(await apiEvents(pulledName, fresh)).toEqual(via === 'daemon' ? ['Created', 'Started'] : []);
      const listed = JSON.parse((await fresh('image', 'ls', '-o', 'json')).stdout) as Array<{ name: string }>;
      expect(listed.map((i) => i.name)).toEqual([image]);
      expect(JSON.parse((await fresh('container', 'ls', '-o', 'json')).stdout)).toEqual([]);
    });

    if (via === 'daemon')
      it('the create route refuses what container create would, and any other shape, making nothing', async () => {
        const sock = join(state, 'berth.sock');
        const post = (body: unknown) =>
          callDaemon(sock, 'POST', '/v1/containers', 10_000, body).then(
            () => 'made',
            (err: { code: string }) => err.code,
          );
        expect(
          await Promise.all([
            post({ image, name: `r${++n}`, flags: { rm: true } }),
            post({ image, name: `r${++n}`, flags: { publish: ['nonsense'], network: 'bridge' } }),
            post({ image, name: `r${++n}`, flags: { volume: ['relative/path:/x'] } }),
            post({ image, name: `r${++n}`, command: ['/no/such/command'] }),
            post({ image: `${registry.host}/test/absent:1`, name: `r${++n}` }),
            post([image]),
          ]),
        ).toEqual([
          'ERR_API_BAD_BODY',
          'ERR_CONTAINER_INVALID',
          'ERR_CONTAINER_INVALID',
          'ERR_COMMAND_NOT_FOUND',
          'ERR_IMAGE_NOT_FOUND',
          'ERR_API_BAD_BODY',
        ]);
        expect(await names()).toEqual([]);
        expect(await callDaemon(sock, 'GET', '/v1/status')).toMatchObject({ pid: daemon?.pid });
      });

    /** A run request straight to the daemon's socket: its NDJSON lines as objects, `onLine` told each as it comes. */
    const runThroughSocket = (body: unknown, onLine: (v: Record<string, unknown>) => void = () => {}) => {
      const lines: Record<string, unknown>[] = [];
      const ex = lineExchange({
        socketPath: join(state, 'berth.sock'),
        path: '/v1/containers/run',
        text: JSON.stringify(body),
        onLine(line) {
          const v = JSON.parse(line) as Record<string, unknown>;
          lines.push(v);
          onLine(v);
        },
      });
      return ex.done.then(() => lines);
    };
    const interruptRun = (run: unknown) =>
      callDaemon<{ interrupted: boolean }>(
        join(state, 'berth.sock'),
        'POST',
        '/v1/containers/run/interrupt',
        10_000,
        {
          run,
        },
      );

    if (via === 'daemon')
      it('a run says its token before it makes anything: an interrupt by it at once removes the container unstarted', async () => {
        const name = `r${++n}`;
        let answered: Promise<unknown> | undefined;
        const lines = await runThroughSocket({ image, name, command: ['echo', 'hi'], rm: true }, (v) => {
          if (typeof v.run === 'string' && !answered) answered = interruptRun(v.run);
        });
        expect(await answered).toEqual({ interrupted: true });
        expect(lines[0]).toEqual({ run: expect.any(String) });
        expect(lines.at(-1)).toMatchObject({ error: { code: 'ERR_INTERRUPTED' } });
        expect(lines.some((l) => 'out' in l)).toBe(false);
        expect(await names()).toEqual([]);
      });

    if (via === 'daemon')
      it("a second run of a name under way, interrupted, leaves the first run's container alone", async () => {
        const name = `r${++n}`;
        const script = "trap 'echo bye; exit 7' TERM; echo ready; while :; do sleep 0.1 & wait $!; done";
        let firstToken: unknown;
        let ready!: () => void;
        const started = new Promise<void>((r) => {
          ready = r;
        });
        const first = runThroughSocket({ image, name, command: ['sh', '-c', script] }, (v) => {
          if (typeof v.run === 'string') firstToken = v.run;
          if (v.out === 'ready\n') ready();
        });
        await started;
        let answered: Promise<unknown> | undefined;
        const second = await runThroughSocket({ image, name, command: ['true'] }, (v) => {
          if (typeof v.run === 'string' && !answered) answered = interruptRun(v.run);
        });
        await answered;
        expect(second.at(-1)).toMatchObject({ error: { code: expect.stringMatching(/^ERR_/) } });
        expect(await status(name)).toMatchObject({ state: 'running' });
        expect(await interruptRun(firstToken)).toEqual({ interrupted: true });
        expect((await first).at(-1)).toEqual({ exit: 7 });
        // The interrupt of a run that ended, or of a token never given, finds nothing.
        expect(await interruptRun(firstToken)).toEqual({ interrupted: false });
        expect(await interruptRun('nonsense')).toEqual({ interrupted: false });
      });

    // conmon 2.1.6 (Debian 12) resets its child's score to 0 itself; a newer conmon restores the
    // score of its caller, and then only the spec's oomScoreAdj (unit-tested) keeps this true.
    it("a container's OOM score is the kernel's default, not that of the berth that made it", async () => {
      const name = `r${++n}`;
      // The command moved too: without a daemon, it is the container's creator.
      const res = await new Promise<{ code: number | null; out: string }>((resolve) => {
        const args = withTestConfig([
          '--root',
          root,
          '--state',
          state,
          'container',
          'run',
          '--rm',
          image,
          name,
        ]);
        const child = spawn(
          'choom',
          ['-n', '500', '--', process.execPath, CLI, ...args, '--', 'cat', '/proc/self/oom_score_adj'],
          { env: testEnv(), stdio: ['ignore', 'pipe', 'inherit'] },
        );
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
        });
        child.on('close', (code) => resolve({ code, out }));
      });
      expect(res).toEqual({ code: 0, out: '0\n' });
      expect(await apiEvents(name)).toEqual(via === 'daemon' ? ['Created', 'Started', 'Removed'] : []);
    });

    if (via === 'daemon')
      it('a create whose client goes before it ends is undone: nothing made, the name free', async () => {
        const name = `r${++n}`;
        const body = JSON.stringify({ image, name, command: ['true'] });
        const dir = join(root, 'containers');
        const before = new Set(await readdir(dir));
        const sock = createConnection(join(state, 'berth.sock'), () =>
          sock.write(
            `POST /v1/containers HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
            () => sock.destroy(), // the client gone, as a second Ctrl-C or a kill leaves it
          ),
        );
        // The create goes on (its directory appears), then is undone.
        let seen = false;
        for (let i = 0; i < 1000; i++) {
          const now = (await readdir(dir)).filter((d) => !before.has(d));
          seen ||= now.length > 0;
          if (seen && now.length === 0) break;
          await new Promise((r) => setTimeout(r, 10));
        }
        expect(seen).toBe(true);
        expect((await readdir(dir)).filter((d) => !before.has(d))).toEqual([]);
        expect(await names()).toEqual([]);
        expect(await apiEvents(name)).toEqual([]);
        const again = await berth('container', 'run', '--rm', image, name, '--', 'echo', 'free');
        expect(again).toMatchObject({ code: 0, stdout: 'free\n' });
      });

    // Registered once: the daemon of this case is the test's own.
    if (via === 'local')
      it('leaves alone a daemon that serves another host config, and works on the store itself', async () => {
        const config = join(work, `other-${++n}.yaml`);
        await copyFile(testConfigFile(), config);
        const other = await startDaemon({ root, state, config, manifests: await mkdtemp(join(work, 'm-')) });
        onTestFinished(() => other.stop());
        const name = `r${++n}`;
        const res = await berth('container', 'run', '--rm', image, name, '--', 'echo', 'here');
        expect(res).toMatchObject({ code: 0, stdout: 'here\n', stderr: '' });
        expect(await apiEvents(name)).toEqual([]);
      });

    // Registered once: the socket is the test's own, with no daemon behind it.
    if (via === 'local')
      it('a daemon that does not say what it serves within 2 s is not waited for: the command does it all itself', async () => {
        // Something at <state>/berth.sock that accepts and never answers (a daemon hung in a pass).
        const sock = join(state, 'berth.sock');
        const held: Socket[] = [];
        const silent = createServer((c) => held.push(c));
        await new Promise<void>((r) => silent.listen(sock, r));
        try {
          const name = `r${++n}`;
          const started = Date.now();
          const res = await berth('container', 'run', '--rm', image, name, '--', 'echo', 'alone');
          const took = Date.now() - started;
          expect(res).toMatchObject({ code: 0, stdout: 'alone\n', stderr: '' });
          expect(held.length).toBeGreaterThanOrEqual(1); // it asked
          expect(took).toBeGreaterThanOrEqual(2000); // and waited the 2 s
          expect(took).toBeLessThan(10_000); // then no longer
          expect(await names()).toEqual([]);
        } finally {
          for (const c of held) c.destroy();
          await new Promise((r) => silent.close(r));
          await rm(sock, { force: true });
        }
      });

    it('refuses --rm with --detach, a taken name and a missing command, creating nothing and touching nothing', async () => {
      const both = await berth('container', 'run', '--rm', '-d', image, `r${++n}`, '--', 'true');
      expect(both.code).toBe(125); // berth's own failures are 125, out of the container's range
      expect(both.stderr).toMatch(/--rm and --detach/);
      const kept = `r${++n}`;
      expect((await berth('container', 'run', '-d', image, kept, '--', 'sleep', '60')).code).toBe(0);
      const taken = await berth('container', 'run', '--rm', image, kept, '--', 'true');
      expect(taken).toMatchObject({ code: 125, stderr: expect.stringMatching(/ERR_NAME_TAKEN/) });
      expect(await status(kept)).toMatchObject({ state: 'running' });
      const missing = await berth('container', 'run', '--rm', image, `r${++n}`, '--', '/no/such/command');
      expect(missing.stderr).toMatch(/ERR_COMMAND_NOT_FOUND/);
      expect(missing.code).toBe(127);
      expect(await names()).toEqual([kept]);
    });
  },
);
