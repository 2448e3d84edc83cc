// One slow thing holds no other pod back, as root with real runc, conmon and overlayfs: while one
// pod's image trickles in from a registry (`berth apply`), or one pod takes its long grace period
// to stop (`berth daemon`), a crashed container of another pod is restarted after its own back-off.
// A daemon stopped meanwhile leaves at once (exit 0) with the slow container as it was, and the
// next daemon finishes the job. A create whose `runc create` hangs (a FIFO that no one opens, as a
// mount source on a dead NFS server would) times out and leaves nothing behind. Every wait is
// bounded and watches for a condition.
import { type ChildProcess, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PodView } from '../../src/reconcile/pod-views.js';
import { runBerth, spawnBerth } from '../helpers/cli.js';
import { cleanUpHost } from '../helpers/host-cleanup.js';
import { type HostileRegistry, rangeStart, startHostileRegistry } from '../helpers/hostile-registry.js';
import {
  buildImage,
  createLayout,
  type Layout,
  populateBusybox,
  populateRandom,
  pushImage,
} from '../helpers/images.js';
import { cgroupsOf } from '../helpers/leaks.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'unshare', 'findmnt'], {
  root: true,
});

interface Trickle {
  /** Requests for the blob whose response has not ended. */
  open: number;
  /** Bytes sent so far (all requests). */
  sent: number;
  /** Send the rest of every open response, and whole blobs from now on. */
  release(): void;
}

/** Serve `blob` a byte every 100 ms (never idle long enough to time out) until released. */
function trickle(reg: HostileRegistry, digest: string, blob: Buffer): Trickle {
  const waiting: Array<() => void> = [];
  const t: Trickle = {
    open: 0,
    sent: 0,
    release: () => {
      released = true;
      for (const w of waiting.splice(0)) w();
    },
  };
  let released = false;
  reg.on(digest, (req, res: ServerResponse) => {
    const start = rangeStart(req);
    const headers: Record<string, number | string> = { 'content-length': blob.length - start };
    if (start > 0) headers['content-range'] = `bytes ${start}-${blob.length - 1}/${blob.length}`;
    res.writeHead(start > 0 ? 206 : 200, headers);
    t.open++;
    let at = start;
    const finish = () => {
      clearInterval(timer);
      res.end(blob.subarray(at));
      t.sent += blob.length - at;
      t.open--;
    };
    const timer = setInterval(() => {
      if (at < blob.length - 1) {
        res.write(blob.subarray(at, at + 1));
        at++;
        t.sent++;
      }
    }, 100);
    res.on('close', () => {
      if (!res.writableEnded) {
        clearInterval(timer);
        t.open--;
      }
    });
    if (released) finish();
    else waiting.push(finish);
    return true;
  });
  return t;
}

/** Copy `tag` of an umoci layout into the hostile registry as `repo:as`; its layers by digest. */
async function serveFromLayout(reg: HostileRegistry, layout: Layout, tag: string, repo: string, as: string) {
  const oci = join(layout.dir, 'oci');
  const blob = (digest: string) => readFile(join(oci, 'blobs', ...digest.split(':')));
  const index = JSON.parse(await readFile(join(oci, 'index.json'), 'utf8')) as {
    manifests: Array<{ digest: string; annotations?: Record<string, string> }>;
  };
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  const manifest = await blob(entry?.digest as string);
  const parsed = JSON.parse(manifest.toString()) as {
    config: { digest: string };
    layers: Array<{ digest: string }>;
  };
  for (const d of [parsed.config.digest, ...parsed.layers.map((l) => l.digest)])
    reg.putBlob(repo, await blob(d));
  reg.putManifest(repo, [as], manifest, 'application/vnd.oci.image.manifest.v1+json');
  const last = parsed.layers[parsed.layers.length - 1]?.digest as string;
  return { lastLayer: last, lastLayerBytes: await blob(last) };
}

describe.skipIf(skip)('pipelines', () => {
  let registry: TestRegistry;
  let hostile: HostileRegistry;
  let layout: Layout;
  let work: string;
  let root: string;
  let state: string;
  const started: ChildProcess[] = [];
  const berth = (...args: string[]) => runBerth(['--root', root, '--state', state, ...args]);
  const ps = async () => JSON.parse((await berth('ps', '-o', 'json')).stdout) as PodView[];
  const view = async (name: string) => (await ps()).find((p) => p.name === name);
  const until = async (what: string, probe: () => Promise<boolean> | boolean, ms = 30_000) => {
    for (const end = Date.now() + ms; Date.now() < end; ) {
      if (await probe()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`never: ${what}`);
  };
  const exited = (child: ChildProcess) =>
    new Promise<number | null>((r) =>
      child.exitCode !== null ? r(child.exitCode) : child.once('exit', (code) => r(code)),
    );
  const collect = (child: ChildProcess) => {
    const out = { stdout: '', stderr: '' };
    child.stdout?.on('data', (c: Buffer) => {
      out.stdout += c.toString();
    });
    child.stderr?.on('data', (c: Buffer) => {
      out.stderr += c.toString();
    });
    return out;
  };
  const podYaml = (name: string, image: string, script: string, grace = 2) =>
    `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  terminationGracePeriodSeconds: ${grace}\n` +
    `  containers:\n    - name: main\n      image: ${image}\n      command: ["/bin/sh", "-c", "${script}"]\n`;
  const loop = "trap 'exit 0' TERM; while true; do sleep 1; done";
  /** Kill a container's process (SIGKILL through runc), then see it restarted after its back-off. */
  const crashAndSeeRestarted = async (pod: string) => {
    expect((await berth('container', 'kill', `${pod}_main`)).code).toBe(0);
    await until(
      `${pod} restarted`,
      async () => {
        const c = (await view(pod))?.containers[0];
        return c?.state === 'running' && c.restarts === 1;
      },
      40_000,
    );
  };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-pipeline-'));
    root = join(work, 'root');
    state = join(work, 'state');
    registry = await startRegistry();
    hostile = await startHostileRegistry();
    layout = await createLayout();
    await buildImage(layout, 'busybox', [populateBusybox], { cmd: '/bin/sh' });
    await pushImage(layout, 'busybox', `${registry.host}/demo/busybox:1`);
    // The slow image shares busybox's layer (in the store by then) and adds one of its own.
    await buildImage(layout, 'slow', [populateRandom(1, 64 * 1024)], { cmd: '/bin/sh', from: 'busybox' });
  }, 180_000);
  afterAll(async () => {
    for (const child of started) if (child.exitCode === null) child.kill('SIGKILL');
    // Containers first, by force (a pod left mid-test may ignore SIGTERM for an hour), then the
    // pods' own resources, the way users remove them: each folder emptied and applied.
    const { left, leaked } = await cleanUpHost({
      berth,
      work,
      folders: ['pull', 'stop', 'second-signal'].map((n) => join(work, n)),
      forceFirst: true,
    });
    await registry?.stop();
    await hostile?.close();
    await layout?.cleanup();
    await removeTempRoot(work);
    expect(left).toEqual([]);
    expect(leaked).toEqual([]);
  });

  it('apply: a crash of pod b is restarted while pod a is still pulling; apply still finishes a', async () => {
    const dir = join(work, 'pull');
    await mkdir(dir);
    const image = `${hostile.host}/demo/slow:1`;
    const { lastLayer, lastLayerBytes } = await serveFromLayout(hostile, layout, 'slow', 'demo/slow', '1');
    const slow = trickle(hostile, lastLayer, lastLayerBytes);
    await writeFile(join(dir, 'b.yaml'), podYaml('b', `${registry.host}/demo/busybox:1`, loop));
    expect((await berth('apply', dir)).code).toBe(0);
    await writeFile(join(dir, 'a.yaml'), podYaml('a', image, loop));
    const apply = spawnBerth(['--root', root, '--state', state, 'apply', dir]);
    started.push(apply);
    const out = collect(apply);
    await until("a's layer is being served", () => slow.open === 1).catch((err: Error) => {
      throw new Error(`${err.message}: ${out.stdout}${out.stderr}`);
    });
    await crashAndSeeRestarted('b');
    // a is still pulling: its layer's response is open, and ps says what a waits for.
    expect(slow.open).toBe(1);
    expect(apply.exitCode).toBe(null);
    expect((await view('a'))?.waiting).toBe(`a: pulling ${image}`);
    slow.release();
    expect(await exited(apply)).toBe(0);
    expect(out.stderr).toBe('');
    expect(out.stdout).toBe(
      'run          b/main: exited 137, restart policy Always, restart 1 after 10 s\n' +
        `pull         ${image}: not in the store (a/main)\n` +
        'setup-pod    a: new pod (network namespace, volumes)\n' +
        'run          a/main: new container\n',
    );
    expect((await ps()).map((p) => [p.name, p.phase, p.waiting])).toEqual([
      ['a', 'Running', null],
      ['b', 'Running', null],
    ]);
    expect(hostile.requestsTo(lastLayer).filter((r) => r.method === 'GET')).toHaveLength(1); // pulled once, never retried
    await rm(join(dir, 'a.yaml'));
    await rm(join(dir, 'b.yaml'));
    expect((await berth('apply', dir)).code).toBe(0);
  }, 120_000);

  it('daemon: a crash of pod c is restarted while pod d takes its 3600 s grace period; SIGTERM leaves at once', async () => {
    const dir = join(work, 'stop');
    await mkdir(dir);
    const image = `${registry.host}/demo/busybox:1`;
    await writeFile(join(dir, 'c.yaml'), podYaml('c', image, loop));
    // d ignores SIGTERM (it says so in its log), and may take an hour to stop.
    await writeFile(
      join(dir, 'd.yaml'),
      podYaml('d', image, "trap 'echo TERM ignored' TERM; echo up; while true; do sleep 1; done", 3600),
    );
    const args = ['--root', root, '--state', state, 'daemon', '--manifests', dir, '--resync', '600'];
    const daemon = spawnBerth(args);
    started.push(daemon);
    const out = collect(daemon);
    const running = async (pod: string) => (await view(pod))?.containers[0]?.state === 'running';
    const logOf = async (pod: string) => (await berth('logs', pod)).stdout;
    await until('c and d run', async () => (await running('c')) && (await logOf('d')) === 'up\n');
    await rm(join(dir, 'd.yaml'));
    await until('d was asked to stop', async () => (await logOf('d')) === 'up\nTERM ignored\n');
    await crashAndSeeRestarted('c');
    // d is still stopping: its container runs, and the daemon has not reported it removed.
    expect(await running('d')).toBe(true);
    expect(out.stdout).not.toMatch(/remove +d: /);
    // SIGTERM: the daemon stops waiting for d's grace period and exits 0 now (not 130, the forced
    // exit 15 s later); d is left as it is, and the next daemon takes the stop up again.
    daemon.kill('SIGTERM');
    expect(await exited(daemon)).toBe(0);
    expect(await running('d')).toBe(true);
    const next = spawnBerth(args);
    started.push(next);
    const nextOut = collect(next);
    await until(
      'd was asked to stop again',
      async () => (await logOf('d')) === 'up\nTERM ignored\nTERM ignored\n',
    );
    expect((await berth('container', 'kill', 'd_main')).code).toBe(0); // the end of its grace period, early
    await until('d is gone', async () => (await view('d')) === undefined);
    // The daemon says so once its removal has finished, which may be just after the record went.
    await until('the daemon reports d removed', () =>
      /remove +d\/main: no longer in the manifests\n/.test(nextOut.stdout),
    );
    await rm(join(dir, 'c.yaml'));
    await until('c is gone', async () => (await view('c')) === undefined);
    next.kill('SIGTERM');
    expect(await exited(next)).toBe(0);
  }, 120_000);

  it.each(['before', 'after'])(
    'a create whose runc hangs %s making the container times out and leaves nothing',
    async (when) => {
      const hang = join(work, `hang-${when}`);
      await mkdir(join(hang, 'bin'), { recursive: true });
      execFileSync('mkfifo', [join(hang, 'stuck.fifo')]);
      const runc = execFileSync('sh', ['-c', 'command -v runc']).toString().trim();
      // `runc create` records its pid, its parent (conmon) and the container id, then blocks opening
      // a FIFO that nobody writes, before or after making the container (state, cgroup, init).
      await writeFile(
        join(hang, 'bin/runc'),
        [
          '#!/bin/sh',
          'case " $* " in *" create "*)',
          `  echo $$ > ${hang}/runc.pid; echo $PPID > ${hang}/conmon.pid`,
          `  for a; do id=$a; done; echo "$id" > ${hang}/id`,
          ...(when === 'after' ? [`  ${runc} "$@" || exit $?`] : []),
          `  exec 3< ${hang}/stuck.fifo;;`,
          'esac',
          `exec ${runc} "$@"`,
          '',
        ].join('\n'),
      );
      await chmod(join(hang, 'bin/runc'), 0o755);
      const config = join(hang, 'config.yaml');
      await writeFile(config, 'containers: { createTimeoutSeconds: 2 }\n');
      const image = `${registry.host}/demo/busybox:1`;
      expect((await berth('image', 'pull', image)).code).toBe(0);
      const created = await runBerth(
        [
          '--root',
          root,
          '--state',
          state,
          '--config',
          config,
          'container',
          'create',
          image,
          'hung',
          '--',
          '/bin/sleep',
          '100',
        ],
        { PATH: `${join(hang, 'bin')}:${process.env.PATH}` },
      );
      expect(created.stderr).toBe(
        'berth: ERR_CREATE_TIMEOUT: creating container hung: conmon and runc did not report within 2 s (a mount source that hangs?)\n',
      );
      expect(created.code).toBe(8);
      const id = (await readFile(join(hang, 'id'), 'utf8')).trim();
      const pids = [join(hang, 'runc.pid'), join(hang, 'conmon.pid')].map((f) =>
        Number(execFileSync('cat', [f]).toString().trim()),
      );
      // Killed by pid (zombies are reaped by init soon after their parent died).
      await until('runc and conmon are gone', () => pids.every((pid) => !existsSync(`/proc/${pid}`)), 10_000);
      expect(JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout)).toEqual([]);
      expect(existsSync(join(root, 'containers', id))).toBe(false); // bundle, rootfs mount point
      expect(existsSync(join(state, 'runc', id))).toBe(false); // runc's state
      expect(existsSync(join(state, 'netns', id))).toBe(false);
      expect(existsSync(join(state, 'exits', id))).toBe(false);
      expect(cgroupsOf(id)).toEqual([]); // every hierarchy: v1's, and v2's unified one
      expect(
        execFileSync('findmnt', ['-rn', '-o', 'TARGET'])
          .toString()
          .split('\n')
          .filter((m) => m.includes(id)),
      ).toEqual([]);
    },
    60_000,
  );

  it('a create whose runc fails at once without a word fails in seconds, naming the container, and leaves nothing', async () => {
    const silent = join(work, 'silent');
    await mkdir(join(silent, 'bin'), { recursive: true });
    const runc = execFileSync('sh', ['-c', 'command -v runc']).toString().trim();
    // `runc create` records the container id and exits 1 before making anything, on stderr nothing.
    await writeFile(
      join(silent, 'bin/runc'),
      `#!/bin/sh\ncase " $* " in *" create "*) for a; do id=$a; done; echo "$id" > ${silent}/id; exit 1;; esac\nexec ${runc} "$@"\n`,
    );
    await chmod(join(silent, 'bin/runc'), 0o755);
    const image = `${registry.host}/demo/busybox:1`;
    expect((await berth('image', 'pull', image)).code).toBe(0);
    const t0 = Date.now();
    const created = await runBerth(
      ['--root', root, '--state', state, 'container', 'create', image, 'mute', '--', '/bin/sleep', '100'],
      { PATH: `${join(silent, 'bin')}:${process.env.PATH}` },
    );
    expect(Date.now() - t0).toBeLessThan(15_000); // not the 60 s the handshake may take
    expect(created.stderr).toBe(
      'berth: ERR_CREATE_FAILED: creating container mute: runc create failed without a word on stderr (conmon ended without reporting a pid)\n',
    );
    const id = (await readFile(join(silent, 'id'), 'utf8')).trim();
    expect(JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout)).toEqual([]);
    expect(existsSync(join(root, 'containers', id))).toBe(false);
    expect(existsSync(join(state, 'runc', id))).toBe(false);
    expect(existsSync(join(state, 'exits', id))).toBe(false);
    expect(cgroupsOf(id)).toEqual([]);
    expect(
      execFileSync('findmnt', ['-rn', '-o', 'TARGET'])
        .toString()
        .split('\n')
        .filter((m) => m.includes(id)),
    ).toEqual([]);
    expect(execFileSync('ps', ['-eo', 'args']).toString()).not.toContain(`--cid ${id}`); // no conmon left
  }, 90_000);

  it('daemon: SIGTERM waits for a create under way; a second signal leaves at once (130), and the next apply finishes what it left', async () => {
    // README (daemon): a step that cannot be cut (a create) is waited for, up to
    // createTimeoutSeconds + 30 s; a second signal leaves at once.
    const dir = join(work, 'second-signal');
    await mkdir(dir);
    const hang = join(work, 'hang-daemon');
    await mkdir(join(hang, 'bin'), { recursive: true });
    execFileSync('mkfifo', [join(hang, 'stuck.fifo')]);
    const runc = execFileSync('sh', ['-c', 'command -v runc']).toString().trim();
    await writeFile(
      join(hang, 'bin/runc'),
      [
        '#!/bin/sh',
        'case " $* " in *" create "*)',
        `  echo $$ > ${hang}/runc.pid; echo $PPID > ${hang}/conmon.pid`,
        `  for a; do id=$a; done; echo "$id" > ${hang}/id`,
        `  exec 3< ${hang}/stuck.fifo;;`,
        'esac',
        `exec ${runc} "$@"`,
        '',
      ].join('\n'),
    );
    await chmod(join(hang, 'bin/runc'), 0o755);
    const image = `${registry.host}/demo/busybox:1`;
    expect((await berth('image', 'pull', image)).code).toBe(0);
    await writeFile(join(dir, 'e.yaml'), podYaml('e', image, loop));
    const daemon = spawnBerth(
      ['--root', root, '--state', state, 'daemon', '--manifests', dir, '--resync', '600'],
      {
        PATH: `${join(hang, 'bin')}:${process.env.PATH}`,
      },
    );
    started.push(daemon);
    const out = collect(daemon);
    await until('runc create is under way', () => existsSync(join(hang, 'id')));
    daemon.kill('SIGTERM');
    // The create (60 s bound by default) is waited for: still there 2 s later.
    const early = await Promise.race([
      exited(daemon),
      new Promise((r) => setTimeout(() => r('running'), 2000)),
    ]);
    expect(early).toBe('running');
    const second = Date.now();
    daemon.kill('SIGTERM');
    expect(await exited(daemon)).toBe(130);
    expect(Date.now() - second).toBeLessThan(2000);
    expect(out.stderr).not.toMatch(/Error|at .*\.mjs/);
    // What it left mid-create (runc and conmon stuck, killed here by their pids; the bundle and its
    // marker, whose owner is gone) is finished by the next full pass.
    const id = (await readFile(join(hang, 'id'), 'utf8')).trim();
    for (const f of ['runc.pid', 'conmon.pid']) {
      const pid = Number((await readFile(join(hang, f), 'utf8')).trim());
      try {
        process.kill(pid, 'SIGKILL');
      } catch {} // gone already
    }
    await rm(join(dir, 'e.yaml'));
    expect((await berth('apply', dir)).code).toBe(0);
    expect(JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout)).toEqual([]);
    expect(existsSync(join(root, 'containers', id))).toBe(false);
    expect(existsSync(join(root, 'containers', `${id}.creating`))).toBe(false);
    expect(existsSync(join(state, 'runc', id))).toBe(false);
  }, 60_000);
});
