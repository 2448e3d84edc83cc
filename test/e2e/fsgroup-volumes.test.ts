// fsGroup on every volume Kubernetes applies it to, end to end as root with real runc and conmon:
// configMap, secret, downwardAPI and projected files are group-owned by fsGroup with group read
// added to their mode (a 0400 Secret is 0440, readable by a non-root user of the group); a berth
// volume (persistentVolumeClaim) gets the group and group rw over its tree, setgid directories;
// hostPath never; a symlink or a hard link in the volume pointing at a host file leaves that file
// as it was.
import { execFileSync } from 'node:child_process';
import { link, lstat, mkdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PodView } from '../../src/reconcile/pod-views.js';
import { runBerth } from '../helpers/cli.js';
import { type E2eHost, setUpE2eHost, tearDownE2eHost } from '../helpers/e2e-host.js';
import { missingPrereqs } from '../helpers/prereqs.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'unshare', 'findmnt'], {
  root: true,
});

const modeGid = async (p: string) => {
  const s = await lstat(p);
  return `${(s.mode & 0o7777).toString(8)} ${s.gid}`;
};

describe.skipIf(skip)('fsGroup on volumes', () => {
  let host: E2eHost | undefined;
  let work: string;
  let dir: string;
  let root: string;
  let state: string;
  let image: string;
  const berth = (...args: string[]) => runBerth(['--root', root, '--state', state, ...args]);
  const ps = async () => JSON.parse((await berth('ps', '-o', 'json')).stdout) as PodView[];

  beforeAll(async () => {
    host = await setUpE2eHost('fsgroupvol');
    ({ work, root, state, dir, image } = host);
  }, 180_000);
  afterAll(async () => {
    const { leaked } = await tearDownE2eHost(host);
    expect(leaked).toEqual([]);
  });

  it('config volumes and a berth volume are the fsGroup’s; hostPath and host files reached by links are not', async () => {
    // The berth volume as a previous pod (or a hostile one) left it.
    const claim = join(root, 'volumes', 'fsg-data');
    await mkdir(join(claim, 'sub'), { recursive: true, mode: 0o755 });
    await writeFile(join(claim, 'old'), 'old-data\n', { mode: 0o600 });
    await writeFile(join(work, 'host-secret'), 'h', { mode: 0o600 });
    await writeFile(join(work, 'host-linked'), 'h', { mode: 0o600 });
    await symlink(join(work, 'host-secret'), join(claim, 'out'));
    await symlink(work, join(claim, 'sub', 'up'));
    await link(join(work, 'host-linked'), join(claim, 'hard'));
    const hostDir = join(work, 'hostdir');
    await mkdir(hostDir, { mode: 0o700 });
    await writeFile(
      join(dir, 'objects.yaml'),
      'apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {token: c2VjcmV0}\n---\n' +
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: from-cm}\n',
    );
    await writeFile(
      join(dir, 'pod.yaml'),
      `apiVersion: v1\nkind: Pod\nmetadata: {name: fsg, labels: {app: x}}\nspec:\n  restartPolicy: Never\n` +
        `  terminationGracePeriodSeconds: 1\n  securityContext: {runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000}\n` +
        `  containers:\n    - name: main\n      image: ${image}\n` +
        `      command: [sh, -c, 'for f in /s/token /c/dir/a /d/labels /p/a /p/token /v /v/old /v/sub; do stat -L -c "$f %a %g" $f; done; cat /s/token; echo; cat /v/old; touch /v/new && stat -c "/v/new %a %g" /v/new']\n` +
        `      volumeMounts:\n        - {name: s, mountPath: /s}\n        - {name: c, mountPath: /c}\n` +
        `        - {name: d, mountPath: /d}\n        - {name: p, mountPath: /p}\n        - {name: v, mountPath: /v}\n` +
        `        - {name: h, mountPath: /h}\n` +
        `  volumes:\n    - {name: s, secret: {secretName: s, defaultMode: 0400}}\n` +
        `    - {name: c, configMap: {name: c, items: [{key: a, path: dir/a, mode: 0600}]}}\n` +
        `    - {name: d, downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}}\n` +
        `    - {name: p, projected: {sources: [{configMap: {name: c}}, {secret: {name: s}}]}}\n` +
        `    - {name: v, persistentVolumeClaim: {claimName: fsg-data}}\n` +
        `    - {name: h, hostPath: {path: ${hostDir}}}\n`,
    );
    const apply = await berth('apply', dir);
    expect(apply.code, apply.stderr).toBe(0);
    let pod: PodView | undefined;
    const until = Date.now() + 20_000;
    while (Date.now() < until) {
      pod = (await ps()).find((p) => p.name === 'fsg');
      if (pod?.phase === 'Succeeded' || pod?.phase === 'Failed') break;
      await delay(100);
    }
    const logs = await berth('logs', 'fsg');
    expect([pod?.phase, logs.stdout]).toEqual([
      'Succeeded',
      '/s/token 440 2000\n/c/dir/a 640 2000\n/d/labels 644 2000\n/p/a 644 2000\n/p/token 644 2000\n' +
        '/v 2775 2000\n/v/old 660 2000\n/v/sub 2775 2000\nsecret\nold-data\n/v/new 644 2000\n',
    ]);
    // Host files reached through a symlink or a hard link, the symlinked directory, the hostPath: as they were.
    expect(await modeGid(join(work, 'host-secret'))).toBe('600 0');
    expect(await modeGid(join(work, 'host-linked'))).toBe('600 0');
    expect((await stat(work)).gid).toBe(0);
    expect(await modeGid(hostDir)).toBe('700 0');
    // The config volume's own directories on the host: the group's, setgid.
    const secretVol = join(root, 'pods', 'fsg', 'volumes', 's');
    expect(await modeGid(secretVol)).toBe('2755 2000');
    expect(execFileSync('stat', ['-L', '-c', '%a %g', join(secretVol, '..data')]).toString()).toBe(
      '2755 2000\n',
    );
  });
});
