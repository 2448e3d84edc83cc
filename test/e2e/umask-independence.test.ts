// berth started with a loose umask (a unit's UMask=0000, a user's shell) makes every file and
// directory with the modes it has under the usual 022: the same pod applied under umask 000 and
// under 022 leaves the same modes in --root and --state, and a non-root user inside the container
// cannot rewrite the /etc/hosts, /etc/resolv.conf and /etc/hostname berth gives it.
import { lstatSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth, runBerthUnderUmask } from '../helpers/cli.js';
import { cleanUpHost } from '../helpers/host-cleanup.js';
import { archiveImage, buildImage, createLayout, type Layout, populateBusybox } from '../helpers/images.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['runc', 'conmon', 'skopeo', 'umoci'], { root: true });

const ref = 'test.local/umask:1';
const POD = `apiVersion: v1
kind: Secret
metadata: {name: s}
stringData: {password: hunter2}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
data: {k: v}
---
apiVersion: v1
kind: Pod
metadata: {name: um, annotations: {berth.dev/network: none}}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  securityContext: {runAsUser: 65534, runAsGroup: 65534}
  containers:
    - name: c
      image: ${ref}
      imagePullPolicy: Never
      env: [{name: PASS, valueFrom: {secretKeyRef: {name: s, key: password}}}]
      command: ["/bin/sh", "-c", "for f in /etc/hosts /etc/resolv.conf /etc/hostname; do echo x >> $f && echo $f written || echo $f kept; done"]
      volumeMounts: [{name: sec, mountPath: /sec}, {name: cm, mountPath: /cm}, {name: ed, mountPath: /ed}]
  volumes:
    - {name: sec, secret: {secretName: s}}
    - {name: cm, configMap: {name: cm}}
    - {name: ed, emptyDir: {}}
`;

/** Every entry under `dir` but what the image and the container wrote, as `path mode`, ids and inodes masked. */
function modes(dir: string): string[] {
  const out: string[] = [];
  const walk = (at: string, rel: string) => {
    for (const name of readdirSync(at)) {
      const r = `${rel}/${name}`
        .replace(/[a-f0-9]{32}/g, '<id>')
        .replace(/^\/overlay-probe\/.*/, '/overlay-probe/<dev-ino>');
      const st = lstatSync(join(at, name));
      if (st.isSymbolicLink()) continue;
      out.push(`${r} ${(st.mode & 0o7777).toString(8)}`);
      const content = /^\/snapshots\/[a-f0-9]{64}\/fs$|\/(upper|work|rootfs)$|^\/compile-cache$/.test(r);
      if (st.isDirectory() && !content) walk(join(at, name), r);
    }
  };
  walk(dir, '');
  return out.sort();
}

describe.skipIf(skip)('umask independence', () => {
  let work: string;
  let layout: Layout;
  const stores: Array<{ root: string; state: string; folder: string }> = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-umask-'));
    layout = await createLayout();
    await buildImage(layout, 'umask', [populateBusybox]);
    await archiveImage(layout, 'umask', join(work, 'image.tar'), ref);
  }, 120_000);
  afterAll(async () => {
    for (const s of stores) {
      const berth = (...args: string[]) => runBerth(['--root', s.root, '--state', s.state, ...args]);
      await cleanUpHost({ berth, work, folders: [s.folder] });
    }
    await layout?.cleanup();
    if (work) await removeTempRoot(work);
  });

  /** Import, apply the pod and read its log, each run with the process umask `umask`. */
  const applyWithUmask = async (umask: string) => {
    const base = join(work, `u${umask}`);
    const s = { root: join(base, 'root'), state: join(base, 'state'), folder: join(base, 'm') };
    stores.push(s);
    await mkdir(s.folder, { recursive: true });
    await writeFile(join(s.folder, 'pod.yaml'), POD);
    const berth = (...args: string[]) =>
      runBerthUnderUmask(umask, ['--root', s.root, '--state', s.state, ...args]);
    for (const args of [
      ['image', 'import', join(work, 'image.tar')],
      ['apply', s.folder],
    ]) {
      const r = berth(...args);
      expect({ args, status: r.status, stderr: r.stderr }).toEqual({ args, status: 0, stderr: '' });
    }
    return { log: berth('logs', 'um').stdout, root: modes(s.root), state: modes(s.state) };
  };

  it('under umask 000 every mode is as under 022, and the container cannot rewrite its /etc files', async () => {
    const usual = await applyWithUmask('022');
    const loose = await applyWithUmask('000');
    expect(loose.log).toBe('/etc/hosts kept\n/etc/resolv.conf kept\n/etc/hostname kept\n');
    expect({ root: loose.root, state: loose.state }).toEqual({ root: usual.root, state: usual.state });
  }, 120_000);
});
