// `berth daemon` end to end, as root: a dropped file starts its pod, a deleted one removes it; a
// kill -9 of the daemon and a restart touch no container; a folder swapped through a symlink
// (git-sync) restarts no unchanged pod; the API socket serves ps and apply, one daemon per state
// directory; a failing pod backs off.
import { type ChildProcess, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PodView } from '../../src/reconcile/pod-views.js';
import { endChild, endStarted, runBerth, spawnBerth, testConfigFile } from '../helpers/cli.js';
import { cleanUpHost } from '../helpers/host-cleanup.js';
import { buildImage, createLayout, type Layout, populateBusybox, pushImage } from '../helpers/images.js';
import { containerStates, until } from '../helpers/poll.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'unshare', 'findmnt'], {
  root: true,
});

describe.skipIf(skip)('daemon', () => {
  let registry: TestRegistry;
  let layout: Layout;
  let work: string;
  let root: string;
  let state: string;
  let daemon: ChildProcess | undefined;
  /** Every daemon a test started: one a failed test left running is killed before the next test. */
  const started = new Set<ChildProcess>();
  const berth = (...args: string[]) => runBerth(['--root', root, '--state', state, ...args]);
  const ids = () => containerStates(berth);
  const running = async (pod: string) => (await ids())[`${pod}_main`]?.endsWith(':running') === true;
  const pod = (name: string, text = 'hello') =>
    `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  terminationGracePeriodSeconds: 2\n  containers:\n` +
    `    - name: main\n      image: ${registry.host}/demo/busybox:1\n` +
    `      command: ["/bin/sh", "-c", "trap 'exit 0' TERM; echo ${text}; while true; do sleep 1; done"]\n`;
  const start = (dir: string, resync = '2', ...more: string[]) => startWith({}, dir, resync, ...more);
  const startWith = (env: Record<string, string>, dir: string, resync = '2', ...more: string[]) => {
    daemon = spawnBerth(
      ['--root', root, '--state', state, 'daemon', '--manifests', dir, '--resync', resync, ...more],
      env,
    );
    started.add(daemon);
    return daemon;
  };
  /** One request to the daemon's socket, as any HTTP client would make it. */
  const api = <T = { pid?: number; [k: string]: unknown }>(method: string, path: string) =>
    new Promise<T | undefined>((resolve) => {
      const req = request({ socketPath: join(state, 'berth.sock'), method, path }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c.toString();
        });
        res.on('end', () => resolve(JSON.parse(body)));
      });
      req.on('error', () => resolve(undefined));
      req.end();
    });
  /** Waits until the daemon has run `count` passes that began after `since` (ms); the last one's time. */
  const passesAfter = async (since: number, count: number) => {
    const seen = new Set<number>();
    await until(`${count} passes`, async () => {
      const at = (await api<{ lastPass: { at: string } | null }>('GET', '/v1/status'))?.lastPass?.at;
      if (at && Date.parse(at) > since) seen.add(Date.parse(at));
      return seen.size >= count;
    });
    return Math.max(...seen);
  };
  /** The back-off record of pod `name`'s failure, from `<state>/reconcile.json`. */
  const failureOf = async (name: string) => {
    const status = JSON.parse(await readFile(join(state, 'reconcile.json'), 'utf8')) as {
      failures: Record<string, { attempts: number; retryAt: number }>;
    };
    const found = Object.entries(status.failures).filter(([key]) => key.includes(name));
    expect(found).toHaveLength(1);
    return found[0]?.[1] as { attempts: number; retryAt: number };
  };
  const stop = async (signal: NodeJS.Signals) => {
    const d = daemon;
    daemon = undefined;
    return d ? endChild(d, signal) : undefined;
  };

  afterEach(async () => {
    daemon = undefined;
    await endStarted(started);
  });

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-daemon-'));
    root = join(work, 'root');
    state = join(work, 'state');
    registry = await startRegistry();
    layout = await createLayout();
    await buildImage(layout, 'busybox', [populateBusybox], { cmd: '/bin/sh' });
    await pushImage(layout, 'busybox', `${registry.host}/demo/busybox:1`);
  }, 180_000);
  afterAll(async () => {
    await stop('SIGKILL');
    const { left, leaked } = await cleanUpHost({
      berth,
      work,
      folders: [
        'manifests',
        'current',
        'saves',
        'noop',
        'api',
        'init',
        'backoff',
        'stats',
        'scoped',
        'refresh',
        'spawn',
        'nopython',
        'kubelet',
      ].map((n) => join(work, n)),
    });
    await registry?.stop();
    await layout?.cleanup();
    await removeTempRoot(work);
    expect(left).toEqual([]);
    expect(leaked).toEqual([]);
  });

  it('starts a dropped file, survives kill -9 without touching containers, removes a deleted file', async () => {
    const dir = join(work, 'manifests');
    await mkdir(dir);
    start(dir);
    await writeFile(join(dir, 'a.yaml'), pod('a'));
    await until('pod a runs', () => running('a'));
    const before = await ids();
    await stop('SIGKILL');
    expect(await ids()).toEqual(before); // the daemon's death touched nothing
    const restarted = Date.now();
    start(dir);
    await passesAfter(restarted, 2); // its first pass and a resync
    expect(await ids()).toEqual(before); // adopted, not restarted
    await rm(join(dir, 'a.yaml'));
    await until('pod a is gone', async () => (await ids()).a_main === undefined);
    await stop('SIGTERM');
  }, 60_000);

  /**
   * Wrappers of runc and conmon in `bin`, first on PATH: each records its name, subcommand and
   * parent in `log`, then runs the real tool.
   */
  const recordingTools = async (bin: string, log: string) => {
    await mkdir(bin);
    for (const tool of ['runc', 'conmon']) {
      const real = execFileSync('sh', ['-c', `command -v ${tool}`])
        .toString()
        .trim();
      const sub =
        tool === 'runc' ? 'case " $* " in *" start "*) sub=start;; *) sub=other;; esac; ' : 'sub=-; ';
      await writeFile(
        join(bin, tool),
        `#!/bin/sh\n${sub}echo "${tool} $sub $PPID" >> ${log}\nexec ${real} "$@"\n`,
      );
      await chmod(join(bin, tool), 0o755);
    }
  };
  /** The processes that started conmon and `runc start` (their parents' PIDs), from recordingTools' log. */
  const starters = async (log: string) => {
    const lines = (await readFile(log, 'utf8')).trim().split('\n');
    return {
      conmon: lines.filter((l) => l.startsWith('conmon ')).map((l) => l.split(' ')[2]),
      start: lines.filter((l) => l.startsWith('runc start ')).map((l) => l.split(' ')[2]),
    };
  };
  const pythonChildren = (pid: number) =>
    readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(' ')
      .filter(Boolean)
      .map(Number)
      .filter((c) => readFileSync(`/proc/${c}/cmdline`, 'utf8').includes('python'));

  it('starts conmon through its spawn helper (its parent is the helper, not the daemon) and no `runc start`', async () => {
    const dir = join(work, 'spawn');
    const log = join(work, 'spawn.log');
    await mkdir(dir);
    await recordingTools(join(work, 'spawn-bin'), log);
    const d = startWith({ PATH: `${join(work, 'spawn-bin')}:${process.env.PATH}` }, dir);
    await writeFile(join(dir, 'h.yaml'), pod('h'));
    await until('pod h runs', () => running('h'));
    // The helper: the daemon's one python3 child.
    const helpers = pythonChildren(d.pid as number);
    expect(helpers).toHaveLength(1);
    // The start reads runc's exec fifo in the daemon (exec-fifo.ts): no runc process for it.
    expect(await starters(log)).toEqual({ conmon: [String(helpers[0])], start: [] });
    await rm(join(dir, 'h.yaml'));
    await until('pod h is gone', async () => (await ids()).h_main === undefined);
    await stop('SIGTERM');
    // The helper goes with the daemon.
    expect(existsSync(`/proc/${helpers[0]}`)).toBe(false);
  }, 60_000);

  it('without python3 on PATH, the daemon starts conmon itself', async () => {
    const dir = join(work, 'nopython');
    const log = join(work, 'nopython.log');
    const farm = join(work, 'nopython-path');
    await mkdir(dir);
    await mkdir(farm);
    await recordingTools(join(work, 'nopython-bin'), log);
    // Every tool on this PATH but python: one directory of links, the first of each name.
    for (const from of (process.env.PATH ?? '').split(':').filter(Boolean)) {
      for (const name of existsSync(from) ? readdirSync(from) : []) {
        if (name.startsWith('python') || existsSync(join(farm, name))) continue;
        await symlink(join(from, name), join(farm, name));
      }
    }
    const d = startWith({ PATH: `${join(work, 'nopython-bin')}:${farm}` }, dir);
    await writeFile(join(dir, 'nopy.yaml'), pod('nopy'));
    await until('pod nopy runs', () => running('nopy'));
    expect(pythonChildren(d.pid as number)).toEqual([]);
    expect(await starters(log)).toEqual({ conmon: [String(d.pid)], start: [] });
    await rm(join(dir, 'nopy.yaml'));
    await until('pod nopy is gone', async () => (await ids()).nopy_main === undefined);
    expect(await stop('SIGTERM')).toBe(0);
  }, 60_000);

  it('a folder swapped through a symlink restarts no unchanged pod', async () => {
    const v1 = join(work, 'rev1');
    const v2 = join(work, 'rev2');
    await mkdir(v1);
    await mkdir(v2);
    await writeFile(join(v1, 'b.yaml'), pod('b'));
    await writeFile(join(v2, 'b.yaml'), pod('b'));
    await writeFile(join(v2, 'c.yaml'), pod('c'));
    const current = join(work, 'current');
    await symlink(v1, current);
    start(current);
    await until('pod b runs', () => running('b'));
    const b = (await ids()).b_main;
    // git-sync's swap: a new link, renamed over the old one (atomic).
    await symlink(v2, `${current}.new`);
    await rename(`${current}.new`, current);
    await until('pod c runs', () => running('c'));
    expect((await ids()).b_main).toBe(b);
    expect((await berth('logs', 'c')).stdout).toBe('hello\n');
    const before = await ids();
    expect(Object.values(before).map((v) => v.split(':')[1])).toEqual(['running', 'running']);
    expect(await stop('SIGTERM')).toBe(0);
    expect(await ids()).toEqual(before); // SIGTERM stops berth only: its containers keep running
    // Its pods go with its folder's files (an apply or a daemon of another folder leaves them).
    await rm(join(v2, 'b.yaml'));
    await rm(join(v2, 'c.yaml'));
    expect((await berth('apply', current)).code).toBe(0);
    expect(Object.keys(await ids())).toEqual([]);
  }, 60_000);

  it("editors' atomic saves (rename-over, backup-then-write, sed -i) are each one change: the pod is replaced once, never removed", async () => {
    const dir = join(work, 'saves');
    await mkdir(dir);
    const file = join(dir, 'e.yaml');
    await writeFile(file, pod('e', 'v0'));
    const d = start(dir, '600'); // no resync: only the folder's events start passes
    let log = '';
    d.stderr?.on('data', (c: Buffer) => {
      log += c.toString();
    });
    const saysNow = async (text: string) =>
      (await running('e')) && (await berth('logs', 'e')).stdout === `${text}\n`;
    await until('e says v0', () => saysNow('v0'));
    const saves: Array<[string, (text: string) => Promise<void>]> = [
      // vim (writebackup): the new text into a new file, renamed over the old one.
      [
        'v1',
        async (text) => {
          await writeFile(join(dir, '4913'), '');
          await rm(join(dir, '4913'));
          await writeFile(`${file}.new`, text);
          await rename(`${file}.new`, file);
        },
      ],
      // vim (backupcopy=no), emacs: the old file renamed to a backup, the new one written in its place.
      [
        'v2',
        async (text) => {
          await rename(file, `${file}~`);
          await writeFile(file, text);
        },
      ],
      // sed -i: a temp file in the same folder, renamed over the file.
      [
        'v3',
        async (text) => {
          await writeFile(join(dir, 'sedAb12Cd'), text);
          await rename(join(dir, 'sedAb12Cd'), file);
        },
      ],
      // git checkout, rsync, a copy that deletes first: the file gone for a moment, then written.
      [
        'v4',
        async (text) => {
          await rm(file);
          await new Promise((r) => setTimeout(r, 500));
          await writeFile(file, text);
        },
      ],
    ];
    for (const [text, save] of saves) {
      await save(pod('e', text));
      await until(`e says ${text}`, () => saysNow(text));
    }
    // Gone a moment and put back as it was: nothing is stopped or started, past the settle time too.
    const before = (await ids()).e_main;
    await rm(file);
    await new Promise((r) => setTimeout(r, 500));
    await writeFile(file, pod('e', 'v4'));
    await new Promise((r) => setTimeout(r, 2500));
    expect((await ids()).e_main).toBe(before);
    // One replace per save; a save read half-done would have removed the pod (TornDown) and set it up again.
    const events = (await berth('events', '--until', '0s', '--output', 'json', '--filter', 'pod=e')).stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { object: string; reason: string; message: string })
      .filter((e) => e.reason !== 'Died') // its exit, seen or not before the removal: not what is pinned
      .map((e) => `${e.object} ${e.reason}: ${e.message}`);
    const replaced = [
      'e/main Removed: e/main: entrypoint changed',
      'e/main Started: e/main: entrypoint changed',
    ];
    expect(events).toEqual([
      'e SetUp: e: new pod (network namespace, volumes)',
      'e/main Started: e/main: new container',
      ...replaced,
      ...replaced,
      ...replaced,
      ...replaced,
    ]);
    expect(log).toBe('');
    await rm(file); // its pod goes with its file, before the next test
    await until('pod e is gone', async () => (await ids()).e_main === undefined);
    await stop('SIGTERM');
  }, 60_000);

  it('a folder written as the kubelet writes a ConfigMap volume: a swap of its `..data` link is acted on at once', async () => {
    const dir = join(work, 'kubelet');
    await mkdir(join(dir, '..ts1'), { recursive: true });
    await writeFile(join(dir, '..ts1', 'k.yaml'), pod('k', 'v1'));
    await symlink('..ts1', join(dir, '..data'));
    await symlink('..data/k.yaml', join(dir, 'k.yaml'));
    start(dir, '600'); // no resync: only the folder's events start passes
    const saysNow = async (text: string) =>
      (await running('k')) && (await berth('logs', 'k')).stdout === `${text}\n`;
    await until('k says v1', () => saysNow('v1'));
    // The kubelet's atomic writer: a new stamped directory, `..data` renamed over to it, the old
    // directory still there (it is removed a moment later, or not at all).
    await mkdir(join(dir, '..ts2'));
    await writeFile(join(dir, '..ts2', 'k.yaml'), pod('k', 'v2'));
    await symlink('..ts2', join(dir, '..data_tmp'));
    await rename(join(dir, '..data_tmp'), join(dir, '..data'));
    await until('k says v2', () => saysNow('v2'), 100); // 10 s: the folder's event, not a resync
    await rm(join(dir, 'k.yaml'));
    await until('pod k is gone', async () => (await ids()).k_main === undefined);
    await stop('SIGTERM');
  }, 60_000);

  it('a no-op pass rewrites neither the status file nor the last-good file', async () => {
    const dir = join(work, 'noop');
    await mkdir(dir);
    await writeFile(join(dir, 'noop.yaml'), pod('noop'));
    start(dir, '1');
    await until('pod noop runs', () => running('noop'));
    await passesAfter(Date.now(), 1); // the pass that saw it running
    // The status file, and this folder's last-good file (last-good.ts names it by the folder's hash).
    const name = `${createHash('sha256').update(dir).digest('hex').slice(0, 32)}.json`;
    const files = [join(state, 'reconcile.json'), join(root, 'last-good', name)];
    const identity = () => files.map((f) => statSync(f)).map((st) => `${st.ino} ${st.mtimeMs} ${st.ctimeMs}`);
    const before = identity();
    await passesAfter(Date.now(), 3); // three resyncs that change nothing
    expect(identity()).toEqual(before);
    await rm(join(dir, 'noop.yaml'));
    await until('pod noop is gone', async () => (await ids()).noop_main === undefined);
    await stop('SIGTERM');
  }, 60_000);

  it('serves the API (status, pods, apply); other folders and a second daemon are refused; a failing pod backs off', async () => {
    const dir = join(work, 'api');
    await mkdir(dir);
    const sock = join(state, 'berth.sock');
    const bad = (command: string) => pod('bad').replace(/command: .*\n$/, `command: ${command}\n`);
    await writeFile(join(dir, 'bad.yaml'), bad('["/nope"]'));
    const d = start(dir);
    let log = '';
    d.stderr?.on('data', (c: Buffer) => {
      log += c.toString();
    });
    const failures = () => log.match(/failed run +bad\/main/g)?.length ?? 0;
    await until('the API answers', async () => (await api('GET', '/v1/status'))?.pid === d.pid);
    expect(statSync(sock).mode & 0o777).toBe(0o600);
    await until('bad fails once', async () => failures() === 1);
    // Passes keep coming (resync 2 s) while bad waits out its back-off: two of them, seen before the
    // retry is due, start nothing. Observed first, so nothing slower is inside the 10 s window.
    const first = await failureOf('bad');
    expect(first.attempts).toBe(1);
    const lastSeen = await passesAfter(Date.now(), 2);
    expect(lastSeen).toBeLessThan(first.retryAt);
    expect(failures()).toBe(1);
    // `berth apply` of the daemon's folder: the daemon runs a pass now, and retries at once.
    const applied = await berth('apply', dir, '-o', 'json');
    expect(applied.code).toBe(1);
    expect(JSON.parse(applied.stdout).failed[0]).toMatchObject({ kind: 'run', pod: 'bad' });
    expect(failures()).toBe(2); // the daemon did it
    expect((await failureOf('bad')).attempts).toBe(2);
    // The earlier test's pods are removed by their own tasks, alongside bad's (not before it).
    await until('the pods of rev2 are gone', async () => !(await ids()).b_main && !(await ids()).c_main);
    const second = await berth('daemon', '--manifests', dir);
    expect(second.code).toBe(4);
    expect(second.stderr).toBe(
      `berth: ERR_DAEMON_RUNNING: a berth daemon (pid ${d.pid}) already serves ${sock} (one daemon per --state directory)\n`,
    );
    const other = await berth('apply', join(work, 'rev1'));
    expect(other.code).toBe(4);
    expect(other.stderr).toMatch(
      /^berth: ERR_DAEMON_RUNNING: a berth daemon \(pid \d+\) reconciles .*\/api; applying /,
    );
    // The same root with another --state: a daemon, an apply or a plan there would find none of this
    // daemon's sandboxes and set every pod up again beside it. Refused, and nothing of it is touched.
    const otherState = join(work, 'other-state');
    const onRoot = (...args: string[]) => runBerth(['--root', root, '--state', otherState, ...args]);
    const refused = `berth: ERR_DAEMON_RUNNING: a berth daemon already runs on --root ${root} with another --state (one --state per --root: give this command the daemon's --state, or stop that daemon)\n`;
    for (const args of [
      ['daemon', '--manifests', dir],
      ['apply', dir],
      ['plan', dir],
    ]) {
      const r = await onRoot(...args);
      expect([args[0], r.code, r.stderr]).toEqual([args[0], 4, refused]);
    }
    // SIGHUP (a closed ssh session, a `kill -HUP` meant as a reload) leaves the daemon running.
    let out = '';
    d.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
    });
    process.kill(d.pid as number, 'SIGHUP');
    await until('the daemon says it ignored SIGHUP', async () => out.includes('SIGHUP ignored'));
    expect((await api<{ pid: number }>('GET', '/v1/status'))?.pid).toBe(d.pid);
    // The views compared with the back-off's countdown ("retry in 18 s") taken out: time passes between.
    const timeless = (pods: PodView[] | undefined) =>
      JSON.parse(JSON.stringify(pods ?? []).replace(/retry in \d+ s/g, 'retry in N s')) as PodView[];
    const viaSocket = timeless(await api<PodView[]>('GET', '/v1/pods'));
    expect(viaSocket.map((p) => p.name)).toEqual(['bad']);
    expect(viaSocket[0]?.containers[0]?.lastError).toMatch(/^ERR_\w+: .*\/nope/);
    expect(timeless(JSON.parse((await berth('ps', '-o', 'json')).stdout))).toEqual(viaSocket);
    // ps asks the daemon, not the files: with reconcile.json emptied under it, ps still shows pod bad
    // (it has no container: read from the files, it would be gone). The daemon writes that file only
    // when its view changes, so its next passes leave the emptied file as it is.
    await writeFile(join(state, 'reconcile.json'), '{"manifests": "", "pods": {}, "failures": {}}\n');
    expect(timeless(JSON.parse((await berth('ps', '-o', 'json')).stdout))).toEqual(viaSocket);
    // An edit retries at once, back-off or not.
    await writeFile(join(dir, 'bad.yaml'), bad('["/bin/sleep", "100"]'));
    await until('bad runs', () => running('bad'));
    // kill -9 leaves the socket behind: the CLI works without it, the next daemon replaces it.
    await stop('SIGKILL');
    expect(existsSync(sock)).toBe(true);
    expect((await berth('ps', '-o', 'json')).code).toBe(0);
    const again = start(dir, '600'); // no timer of its own may keep a stopped daemon alive
    await until('the new daemon answers', async () => (await api('GET', '/v1/status'))?.pid === again.pid);
    await rm(join(dir, 'bad.yaml'));
    await until('pod bad is gone', async () => (await ids()).bad_main === undefined);
    expect(await stop('SIGTERM')).toBe(0); // not 130: the forced exit 15 s after a signal
    expect(existsSync(sock)).toBe(false);
  }, 90_000);

  it('the end of a back-off is a pass of its own (no resync, no event)', async () => {
    const dir = join(work, 'backoff');
    await mkdir(dir);
    await writeFile(join(dir, 'bad.yaml'), pod('bad').replace(/command: .*\n$/, 'command: ["/nope"]\n'));
    const d = start(dir, '600');
    let log = '';
    d.stderr?.on('data', (c: Buffer) => {
      log += c.toString();
    });
    const failures = () => log.match(/failed run +bad\/main/g)?.length ?? 0;
    await until('bad fails once', async () => failures() === 1);
    const { retryAt } = await failureOf('bad');
    await until('bad is tried again when its back-off ends', async () => failures() === 2, 300);
    expect(Date.now()).toBeGreaterThanOrEqual(retryAt);
    await rm(join(dir, 'bad.yaml'));
    await until('bad is gone', async () => (await api<PodView[]>('GET', '/v1/pods'))?.length === 0);
    expect(await stop('SIGTERM')).toBe(0);
  }, 60_000);

  it('a slow init container holds back no other pod, and its exit starts its pod at once', async () => {
    const dir = join(work, 'init');
    await mkdir(dir);
    start(dir, '600'); // no resync: only the init container's exit can start its pod's main
    // The init container runs until the test opens its gate (a file in a hostPath), not for a time.
    const gate = join(work, 'gate');
    await mkdir(gate);
    const slow =
      `${pod('slow').split('  containers:')[0]}  initContainers:\n` +
      `    - name: prepare\n      image: ${registry.host}/demo/busybox:1\n` +
      `      command: ["/bin/sh", "-c", "until [ -e /gate/open ]; do sleep 0.1; done"]\n` +
      `      volumeMounts: [{name: gate, mountPath: /gate}]\n` +
      `  volumes: [{name: gate, hostPath: {path: ${gate}}}]\n` +
      `  containers:${pod('slow').split('  containers:')[1]}`;
    await writeFile(join(dir, 'slow.yaml'), slow);
    await until(
      'the init container runs',
      async () => (await ids()).slow_prepare?.endsWith(':running') === true,
    );
    await writeFile(join(dir, 'fast.yaml'), pod('fast'));
    await until('pod fast runs', () => running('fast'));
    expect((await ids()).slow_prepare).toMatch(/:running$/); // fast did not wait for it
    expect((await ids()).slow_main).toBeUndefined();
    await writeFile(join(gate, 'open'), '');
    await until('pod slow runs after its init container', () => running('slow'));
    expect((await ids()).slow_prepare).toMatch(/:exited$/);
    await rm(join(dir, 'slow.yaml'));
    await rm(join(dir, 'fast.yaml'));
    await until(
      'both are gone',
      async () => (await ids()).fast_main === undefined && !(await ids()).slow_main,
    );
    expect(await stop('SIGTERM')).toBe(0);
  }, 60_000);

  it('GET /v1/status is { pid, manifests, root, config, startedAt, lastPass }; POST /v1/apply is what apply -o json prints; --stats a line a pass', async () => {
    const dir = join(work, 'stats');
    await mkdir(dir);
    await writeFile(join(dir, 'st.yaml'), pod('st'));
    const before = Date.now();
    const d = start(dir, '600', '--stats'); // no resync: every pass below is one the test caused
    let log = '';
    d.stdout?.on('data', (c: Buffer) => {
      log += c.toString();
    });
    const statsLines = () => log.split('\n').filter((l) => l.includes('pass: '));
    await until('st runs', () => running('st'));
    // Every pass is one line: its time (GET /v1/status has the last one's), actions, plans, the containers
    // it saw, CPU. A pass's line comes at its end, after the container it started runs.
    const line =
      /^(\S+) pass: (\d+) action\(s\), (\d+) plan\(s\), (\d+) container\(s\), (\d+)\/(\d+) pod\(s\) observed, \d+\.\d ms CPU$/;
    const reported = async () => {
      const lastPass = (
        await api<{ lastPass: { at: string; done: number; failed: number } | null }>('GET', '/v1/status')
      )?.lastPass;
      const last = line.exec(statsLines().at(-1) ?? '');
      return lastPass && last?.[1] === lastPass.at ? { last, lastPass } : undefined;
    };
    // The pass that started st has been reported, and the last pass's line is the one GET /v1/status
    // names (the daemon may run a pass after the one that started st, when its task ends: which of the
    // two is last depends on the host's load, so the start pass is looked for among all the lines).
    const startedSt = () => statsLines().some((l) => Number(line.exec(l)?.[2]) > 0);
    let settled: Awaited<ReturnType<typeof reported>>;
    await until('the pass that started st is reported', async () => {
      settled = await reported();
      return settled !== undefined && startedSt();
    });
    expect(Number(settled?.last[2])).toBe((settled?.lastPass.done ?? 0) + (settled?.lastPass.failed ?? 0));
    const status = await api<Record<string, unknown>>('GET', '/v1/status');
    expect(Object.keys(status ?? {}).sort()).toEqual([
      'config',
      'lastPass',
      'manifests',
      'pid',
      'root',
      'startedAt',
    ]);
    // root and config canonical (what `container run` compares its own with before it delegates).
    expect([status?.pid, status?.manifests, status?.root, status?.config]).toEqual([
      d.pid,
      dir,
      realpathSync(root),
      realpathSync(testConfigFile()),
    ]);
    const startedAt = Date.parse(status?.startedAt as string);
    expect(startedAt >= before - 1000 && startedAt <= Date.now()).toBe(true);
    expect(statsLines().filter((l) => !line.test(l))).toEqual([]);
    // POST /v1/apply runs a pass now and answers exactly what `berth apply -o json` prints, with the
    // daemon (which the CLI asks) and without it (a pass of its own).
    const asked = Date.now();
    const viaApi = await api('POST', '/v1/apply');
    let applied: RegExpExecArray | undefined;
    await until(`the applied pass is reported (${statsLines().slice(-3).join(' | ')})`, async () => {
      applied = (await reported())?.last;
      return applied !== undefined && Date.parse(applied[1] as string) >= asked;
    });
    expect(applied?.slice(2, 5)).toEqual(['0', '1', '1']); // nothing to do, one plan, one container seen
    expect(applied?.[5]).toBe(applied?.[6]); // asked for by a person: every pod on the host read again
    const viaCli = await berth('apply', dir, '-o', 'json');
    expect(await stop('SIGTERM')).toBe(0);
    const local = await berth('apply', dir, '-o', 'json');
    const nothing = { done: [], failed: [], remaining: [], diagnostics: [], held: [] };
    expect([viaApi, JSON.parse(viaCli.stdout), JSON.parse(local.stdout)]).toEqual([
      nothing,
      nothing,
      nothing,
    ]);
    await rm(join(dir, 'st.yaml'));
    expect((await berth('apply', dir)).code).toBe(0);
  }, 60_000);

  it('a dropped file is observed alone: its passes read its pod only, an apply asked for reads every pod', async () => {
    const dir = join(work, 'scoped');
    await mkdir(dir);
    for (const name of ['sa', 'sb', 'sc']) await writeFile(join(dir, `${name}.yaml`), pod(name));
    const d = start(dir, '600', '--stats'); // no resync meanwhile: each pass below is one the test caused
    let log = '';
    d.stdout?.on('data', (c: Buffer) => {
      log += c.toString();
    });
    const line =
      /^\S+ pass: (\d+) action\(s\), \d+ plan\(s\), \d+ container\(s\), (\d+)\/(\d+) pod\(s\) observed, /;
    const passes = () =>
      log
        .split('\n')
        .map((l) => line.exec(l))
        .filter((m) => m !== null)
        .map((m) => m.slice(1).map(Number));
    for (const name of ['sa', 'sb', 'sc']) await until(`${name} runs`, () => running(name));
    // Settled: an apply asked for waits for its pass (which reads every pod) and the tasks it started.
    // Pods of the host: these three, and what earlier tests left of theirs (the same --root).
    // Other passes may read every pod meanwhile (a trigger naming nothing): the applied one is the
    // last logged when the answer comes (its line is written first; the pipe is read just after).
    const before = passes().length;
    await api('POST', '/v1/apply');
    await new Promise((r) => setTimeout(r, 200));
    const host =
      passes()
        .slice(before)
        .filter(([, read, of]) => read === of && (of ?? 0) >= 3)
        .at(-1)?.[2] ?? 0;
    expect(host).toBeGreaterThanOrEqual(3);
    const mark = passes().length;
    await writeFile(join(dir, 'sd.yaml'), pod('sd'));
    await until('sd runs', () => running('sd'));
    // The drop's pass (sd has nothing on the host yet: no pod read), then its task's end (sd alone);
    // a pass that found the file too fresh to read wakes to read that file alone.
    await until('the pass after sd started is logged', async () =>
      passes()
        .slice(mark)
        .some(([done, , of]) => (done ?? 0) > 0 && of === host + 1),
    );
    const since = passes().slice(mark);
    expect(since.filter(([, read]) => (read ?? 0) > 1)).toEqual([]);
    expect(since.at(-1)).toEqual([2, 1, host + 1]); // its setup and its container; one pod read again
    const asked = passes().length;
    await api('POST', '/v1/apply');
    await until('the applied pass is logged', async () => passes().length > asked);
    expect(passes()[asked]).toEqual([0, host + 1, host + 1]);
    expect(await stop('SIGTERM')).toBe(0);
    for (const name of ['sa', 'sb', 'sc', 'sd']) await rm(join(dir, `${name}.yaml`));
    expect((await berth('apply', dir)).code).toBe(0);
  }, 90_000);

  it('an Image with pullPolicy Always is pulled again every alwaysRefreshSeconds: a moved tag is followed without an edit', async () => {
    const dir = join(work, 'refresh');
    await mkdir(dir);
    const tag = `${registry.host}/demo/refresh:1`;
    await buildImage(layout, 'refresh-a', [populateBusybox], { cmd: '/bin/echo' });
    await buildImage(layout, 'refresh-b', [populateBusybox], { cmd: '/bin/true' });
    await pushImage(layout, 'refresh-a', tag);
    await writeFile(
      join(dir, 'image.yaml'),
      `apiVersion: berth.dev/v1alpha1\nkind: Image\nmetadata: {name: refresh}\nspec: {ref: ${tag}, pullPolicy: Always}\n`,
    );
    const config = join(work, 'refresh.yaml');
    await writeFile(config, 'pull: { alwaysRefreshSeconds: 10 }\n');
    const record = async () =>
      (
        JSON.parse((await berth('image', 'ls', '-o', 'json')).stdout) as Array<{
          name: string;
          digest: string;
          pulledAt: string;
        }>
      ).find((i) => i.name === tag);
    // --resync 600: only the refresh's own wake-up can bring the next pull within the bound below.
    daemon = spawnBerth([
      '--root',
      root,
      '--state',
      state,
      '--config',
      config,
      'daemon',
      '--manifests',
      dir,
      '--resync',
      '600',
    ]);
    await until('the first pull', async () => (await record()) !== undefined);
    const first = (await record()) as { digest: string; pulledAt: string };
    await pushImage(layout, 'refresh-b', tag); // the tag moves; the manifest does not change
    await until('the moved tag is pulled', async () => (await record())?.digest !== first.digest, 150);
    const second = (await record()) as { digest: string; pulledAt: string };
    // Pulled again once 10 s had passed since the last pull, not before.
    expect(Date.parse(second.pulledAt) - Date.parse(first.pulledAt)).toBeGreaterThanOrEqual(10_000);
    expect(await stop('SIGTERM')).toBe(0);
  }, 90_000);
});
