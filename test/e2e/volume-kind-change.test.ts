// An emptyDir changed into a ConfigMap volume of the same name, end to end as root with real runc
// and conmon: it is the same directory on the host, which the pod's old container mounts
// read-write. That container must be gone before berth writes the ConfigMap's files there: one
// that waits for `..data` to appear, reads the stamp it names and puts a link to a host directory
// where the content was (`..data` still names the stamp, so the volume looks current) had the next
// container's subPath bound from the host's file (berth wrote the volume first, then stopped the
// old container within its grace period, then made the new one).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2eHost, setUpE2eHost, tearDownE2eHost } from '../helpers/e2e-host.js';
import { missingPrereqs } from '../helpers/prereqs.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'unshare', 'findmnt'], {
  root: true,
});

describe.skipIf(skip)('a volume that changes kind', () => {
  let host: E2eHost | undefined;
  let dir: string;
  let image: string;
  let hostDir: string;
  const berth = (...args: string[]) => (host as E2eHost).berth(...args);

  beforeAll(async () => {
    host = await setUpE2eHost('kindswap');
    ({ dir, image } = host);
    hostDir = join(host.work, 'host-dir');
    await mkdir(hostDir, { mode: 0o700 });
    await writeFile(join(hostDir, 'app.conf'), 'the host file', { mode: 0o600 });
  }, 180_000);
  afterAll(async () => {
    const { leaked } = await tearDownE2eHost(host);
    expect(leaked).toEqual([]);
  });

  const pod = (command: string, mounts: string, volume: string) =>
    `apiVersion: v1\nkind: Pod\nmetadata: {name: kindswap}\nspec:\n  terminationGracePeriodSeconds: 3\n` +
    `  containers:\n    - name: main\n      image: ${image}\n      command: [sh, -c, '${command}']\n` +
    `      volumeMounts:\n${mounts}  volumes:\n    - {name: cfg, ${volume}}\n`;

  it('emptyDir to ConfigMap: the old container goes before the files are written, so it cannot redirect them', async () => {
    // Holds its grace period (TERM ignored) and plants the link as soon as ..data appears.
    const plant =
      'trap "" TERM; until [ -L /cfg/..data ]; do usleep 20000; done; d=$(readlink /cfg/..data); ' +
      `mv /cfg/$d /cfg/..moved && ln -s ${hostDir} /cfg/$d; while :; do sleep 1; done`;
    await writeFile(
      join(dir, 'pod.yaml'),
      pod(plant, '        - {name: cfg, mountPath: /cfg}\n', 'emptyDir: {}'),
    );
    const first = await berth('apply', dir);
    expect([first.code, first.stderr]).toEqual([0, '']);

    // One file, the ConfigMap first: no smaller than before, so it is taken at once (settle.ts).
    await writeFile(
      join(dir, 'pod.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {app.conf: from the ConfigMap}\n---\n' +
        pod(
          'trap "exit 0" TERM; while :; do sleep 1; done',
          '        - {name: cfg, mountPath: /cfg}\n        - {name: cfg, mountPath: /etc/app.conf, subPath: app.conf}\n',
          'configMap: {name: app}',
        ),
    );
    const plan = await berth('plan', dir);
    const apply = await berth('apply', dir);
    expect([apply.code, apply.stderr]).toEqual([0, '']);
    const read = await berth(
      'container',
      'exec',
      'kindswap_main',
      '--',
      'cat',
      '/etc/app.conf',
      '/cfg/app.conf',
    );
    expect([read.code, read.stdout]).toEqual([0, 'from the ConfigMapfrom the ConfigMap']);
    // The old container went first: its removal, then the files, then the new one.
    expect(plan.stdout.split('\n').map((l) => l.split(':')[0]?.replace(/ +/g, ' '))).toEqual([
      'remove kindswap/main',
      'write-volume kindswap',
      'run kindswap/main',
      '',
    ]);
  }, 120_000);
});
