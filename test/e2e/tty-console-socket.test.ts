// A tty container's console socket, end to end as root with real runc and conmon: conmon makes it
// at `$TMPDIR/conmon-term.XXXXXX` (mkstemp, unlink, bind), and in the /tmp berth inherits any local
// user can watch the name appear and make it first once it is unlinked, so the bind, and the create
// of every tty container, fails for as long as they keep at it. berth gives conmon its own
// root-only sockets directory as TMPDIR: nothing of a create is named in the directory it was
// started with. The inherited TMPDIR here is a sticky directory every user may write, as /tmp.
import { watch } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
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

  it("conmon's console socket is made in berth's own sockets directory, never in a TMPDIR others can write", async () => {
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
});
