// A tty container's console socket, end to end as root with real runc and conmon: conmon makes it
// at `$TMPDIR/conmon-term.XXXXXX` (mkstemp, unlink, bind), and in the /tmp berth inherits any local
// user can watch the name appear and make it first once it is unlinked, so the bind, and the create
// of every tty container, fails for as long as they keep at it. berth gives conmon the container's
// bundle (under the root-only --root) as TMPDIR: nothing of a create is named in the directory it was
// started with. The inherited TMPDIR here is a sticky directory every user may write, as /tmp.
// conmon unlinks that socket only once runc has connected to it, and leaves its attach socket's
// link in <state>/sockets as it ends on a failed `runc create`: a create that fails leaves neither,
// under a --root so deep that the bundle is given as `.` (conmon's and runc's working directory).
import { execFileSync } from 'node:child_process';
import { watch } from 'node:fs';
import { chmod, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PodView } from '../../src/reconcile/pod-views.js';
import { runBerth } from '../helpers/cli.js';
import { type E2eHost, setUpE2eHost, tearDownE2eHost } from '../helpers/e2e-host.js';
import { missingPrereqs } from '../helpers/prereqs.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'unshare', 'findmnt'], {
  root: true,
});

describe.skipIf(skip)('a tty container and the TMPDIR berth was started with', () => {
  let host: E2eHost | undefined;
  beforeAll(async () => {
    host = await setUpE2eHost('ttysock');
  }, 180_000);
  afterAll(async () => {
    const { leaked } = await tearDownE2eHost(host);
    expect(leaked).toEqual([]);
  });

  it("conmon's console socket is made in the container's root-only bundle, never in a TMPDIR others can write", async () => {
    const { work, root, state, dir, image } = host as E2eHost;
    const shared = join(work, 'shared-tmp');
    await mkdir(shared);
    await chmod(shared, 0o1777);
    const seen: string[] = [];
    let marked: () => void = () => undefined;
    const marker = new Promise<void>((resolve) => {
      marked = resolve;
    });
    const watcher = watch(shared, (_event, name) => {
      if (name === 'marker') marked();
      else if (name) seen.push(name);
    });
    try {
      await writeFile(
        join(dir, 'pod.yaml'),
        `apiVersion: v1\nkind: Pod\nmetadata: {name: ttysock}\nspec:\n  terminationGracePeriodSeconds: 1\n` +
          `  containers:\n    - name: main\n      image: ${image}\n      tty: true\n` +
          `      command: [sh, -c, 'trap "exit 0" TERM; while :; do sleep 1; done']\n`,
      );
      const apply = await runBerth(['--root', root, '--state', state, 'apply', dir], { TMPDIR: shared });
      expect([apply.code, apply.stderr]).toEqual([0, '']);
      // inotify keeps its events in order: once the marker is seen, so is everything made before it.
      await writeFile(join(shared, 'marker'), '');
      await marker;
      expect(seen).toEqual([]);
    } finally {
      watcher.close();
    }
    const pods = JSON.parse((await runBerth(['--root', root, '--state', state, 'ps', '-o', 'json'])).stdout);
    expect((pods as PodView[]).map((p) => [p.name, p.containers.map((c) => c.state)])).toEqual([
      ['ttysock', ['running']],
    ]);
  }, 120_000);

  /** A runc first on PATH that fails every create as runc would, before it connects to the socket. */
  async function failingRuncBin(work: string): Promise<string> {
    const bin = join(work, 'failing-bin');
    await mkdir(bin, { recursive: true });
    const real = execFileSync('sh', ['-c', 'command -v runc']).toString().trim();
    await writeFile(
      join(bin, 'runc'),
      `#!/bin/sh\ncase " $* " in *" create "*) exit 1;; esac\nexec ${real} "$@"\n`,
      { mode: 0o755 },
    );
    return bin;
  }

  /** A tty pod `name` whose create fails under root and state: <state>/sockets is left as it was. */
  async function failTtyCreate(o: { root: string; state: string; name: string; running: string[] }) {
    const { work, image } = host as E2eHost;
    const bin = await failingRuncBin(work);
    const folder = join(work, `failing-${o.name}`);
    await mkdir(folder);
    await writeFile(
      join(folder, 'pod.yaml'),
      `apiVersion: v1\nkind: Pod\nmetadata: {name: ${o.name}}\nspec:\n  restartPolicy: Never\n` +
        `  containers:\n    - name: main\n      image: ${image}\n      tty: true\n      command: [sh, -c, 'exit 0']\n`,
    );
    const sockets = join(o.state, 'sockets');
    const before = (await readdir(sockets)).sort(); // the running tty pod's link
    try {
      const apply = await runBerth(['--root', o.root, '--state', o.state, 'apply', folder], {
        PATH: `${bin}:${process.env.PATH}`,
      });
      expect(apply.code).not.toBe(0);
      expect(apply.stderr).toContain('ERR_CREATE_FAILED');
      expect((await readdir(sockets)).sort()).toEqual(before);
      const all = JSON.parse(
        (await runBerth(['--root', o.root, '--state', o.state, 'container', 'ls', '-o', 'json'])).stdout,
      );
      expect((all as Array<{ name: string }>).map((c) => c.name)).toEqual(o.running);
    } finally {
      await rm(join(folder, 'pod.yaml')); // its sandbox goes with it
      const after = await runBerth(['--root', o.root, '--state', o.state, 'apply', folder]);
      expect([after.code, after.stderr]).toEqual([0, '']);
    }
  }

  it('a tty container whose runc create fails leaves no console socket or attach link in <state>/sockets', async () => {
    const { root, state } = host as E2eHost;
    await failTtyCreate({ root, state, name: 'ttyfail', running: ['ttysock_main'] });
  }, 120_000);

  it('under a --root too deep for the bundle in sun_path: a tty container runs, and one whose create fails leaves nothing in <state>/sockets', async () => {
    const { work, image } = host as E2eHost;
    // Past 44 bytes, <root>/containers/<id>/conmon-term.XXXXXX is longer than sun_path's 107.
    const root = join(work, 'r'.repeat(80));
    const state = join(work, 'state-deep');
    const folder = join(work, 'deep');
    await mkdir(folder);
    const berth = (...args: string[]) => runBerth(['--root', root, '--state', state, ...args]);
    try {
      await writeFile(
        join(folder, 'pod.yaml'),
        `apiVersion: v1\nkind: Pod\nmetadata: {name: ttydeep}\nspec:\n  terminationGracePeriodSeconds: 1\n` +
          `  containers:\n    - name: main\n      image: ${image}\n      tty: true\n` +
          `      command: [sh, -c, 'trap "exit 0" TERM; while :; do sleep 1; done']\n`,
      );
      const apply = await berth('apply', folder);
      expect([apply.code, apply.stderr]).toEqual([0, '']);
      const pods = JSON.parse((await berth('ps', '-o', 'json')).stdout) as PodView[];
      expect(pods.map((p) => [p.name, p.containers.map((c) => c.state)])).toEqual([['ttydeep', ['running']]]);
      await failTtyCreate({ root, state, name: 'ttydeepfail', running: ['ttydeep_main'] });
    } finally {
      await rm(join(folder, 'pod.yaml'), { force: true });
      const gone = await berth('apply', folder);
      expect([gone.code, gone.stderr]).toEqual([0, '']);
    }
  }, 180_000);
});
