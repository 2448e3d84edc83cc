// Volume mounts whose values come from elsewhere, end to end as root with real runc, conmon and
// overlayfs: subPathExpr expanded from the container's environment (a downward-API POD_NAME) and
// confined like any subPath (an env value that climbs out is refused, nothing made outside);
// mountPropagation HostToContainer shows a mount the host makes later, the default (None) does
// not, Bidirectional takes a privileged container's mount out to the host (both through the
// staging point the checked host path is bound on: host-path-open.ts), and a host path on a
// private mount is ERR_MOUNT_PROPAGATION before anything is made.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import { type E2eHost, setUpE2eHost, tearDownE2eHost } from '../helpers/e2e-host.js';
import { missingPrereqs } from '../helpers/prereqs.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'unshare', 'findmnt'], {
  root: true,
});

describe.skipIf(skip)('mount values: subPathExpr and mountPropagation', () => {
  let host: E2eHost | undefined;
  let work: string;
  let dir: string;
  let root: string;
  let state: string;
  let image: string;
  /** A host directory on a shared mount of its own (this host's `/` is private). */
  let shared: string;
  /** A host directory on whatever mount holds the test's temp dir, made private for the test. */
  let priv: string;
  const berth = (...args: string[]) => runBerth(['--root', root, '--state', state, ...args]);
  const exec = async (container: string, ...cmd: string[]) => {
    const r = await berth('container', 'exec', container, '--', ...cmd);
    expect(r.stderr).toBe('');
    return r.stdout;
  };
  const pod = (name: string, spec: string) =>
    `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  terminationGracePeriodSeconds: 1\n${spec}`;
  const sleeper = `command: ["/bin/sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]`;
  const applyOnly = async (files: Record<string, string>) => {
    for (const f of await readdir(dir)) await rm(join(dir, f));
    for (const [f, text] of Object.entries(files)) await writeFile(join(dir, f), text);
    return berth('apply', dir);
  };

  beforeAll(async () => {
    host = await setUpE2eHost('mount-values', { repo: 'mounts' });
    ({ work, root, state, dir, image } = host);
    shared = join(work, 'shared');
    priv = join(work, 'private');
    await mkdir(shared);
    await mkdir(priv);
    execFileSync('mount', ['--bind', shared, shared]);
    execFileSync('mount', ['--make-rshared', shared]);
    execFileSync('mount', ['--bind', priv, priv]);
    execFileSync('mount', ['--make-rprivate', priv]);
  }, 180_000);
  afterAll(async () => {
    // The teardown unmounts what is left under `work` (the test's own binds among it).
    const { left } = await tearDownE2eHost(host, { forceFirst: true });
    expect(left).toEqual([]);
  });

  it('subPathExpr takes $(POD_NAME) from a fieldRef: the container writes into the pod-named directory', async () => {
    const res = await applyOnly({
      'expr.yaml': pod(
        'expr-a',
        `  containers:\n    - name: main\n      image: ${image}\n      ${sleeper}\n` +
          `      env: [{name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]\n` +
          `      volumeMounts: [{name: logs, mountPath: /logs, subPathExpr: "$(POD_NAME)/out"}]\n` +
          `  volumes: [{name: logs, hostPath: {path: ${shared}}}]\n`,
      ),
    });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    await exec('expr-a_main', '/bin/sh', '-c', 'echo hi > /logs/file');
    expect(execFileSync('cat', [join(shared, 'expr-a/out/file')]).toString()).toBe('hi\n');
  });

  it('a subPathExpr whose value climbs out of the volume is refused as the pod is read: nothing made outside', async () => {
    const res = await applyOnly({
      'climb.yaml': pod(
        'climb',
        `  containers:\n    - name: main\n      image: ${image}\n      ${sleeper}\n` +
          `      env: [{name: WHERE, value: "../escaped"}]\n` +
          `      volumeMounts: [{name: logs, mountPath: /logs, subPathExpr: "$(WHERE)"}]\n` +
          `  volumes: [{name: logs, hostPath: {path: ${shared}}}]\n`,
      ),
    });
    // The kubelet's makeMounts refuses the expansion; berth refuses it where it expands it, as it
    // refuses a missing value: the pod cannot be used, and what ran from the file before stays.
    expect([res.code, res.stderr]).toEqual([
      2,
      `${join(dir, 'climb.yaml')}:1:1: ERR_SUBPATH_UNSAFE: Pod climb cannot be used: subPathExpr "$(WHERE)" expands to "../escaped": a ".." component\n`,
    ]);
    expect(existsSync(join(work, 'escaped'))).toBe(false);
    expect(JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout)).toEqual([]);
    await rm(join(dir, 'climb.yaml')); // an unusable file: validate of the folder would name it too
  });

  it('subPath and subPathExpr together, or Bidirectional in an unprivileged container: errors at the field', async () => {
    await writeFile(
      join(dir, 'bad.yaml'),
      pod(
        'bad',
        `  containers:\n    - name: main\n      image: ${image}\n      ${sleeper}\n` +
          `      volumeMounts:\n        - {name: v, mountPath: /a, subPath: x, subPathExpr: z}\n` +
          `        - {name: v, mountPath: /b, mountPropagation: Bidirectional}\n` +
          `  volumes: [{name: v, emptyDir: {}}]\n`,
      ),
    );
    const res = await berth('validate', dir);
    expect(res.code).toBe(2);
    const file = join(dir, 'bad.yaml');
    expect(res.stderr.split('\n').filter((l) => l.includes('ERR_'))).toEqual([
      `${file}:11:61: ERR_MANIFEST_INVALID: volume mount /a: subPath and subPathExpr exclude each other (a cluster rejects both)`,
      `${file}:12:54: ERR_MANIFEST_INVALID: volume mount /b: Bidirectional mount propagation is for privileged containers only (as in Kubernetes)`,
    ]);
    await rm(file);
  });

  it('HostToContainer shows a mount the host makes later; None (the default) does not', async () => {
    const mount = (path: string) =>
      `{name: host, mountPath: ${path}${path === '/prop' ? ', mountPropagation: HostToContainer' : ''}}`;
    const res = await applyOnly({
      'prop.yaml': pod(
        'prop',
        `  containers:\n    - name: main\n      image: ${image}\n      ${sleeper}\n` +
          `      volumeMounts: [${mount('/prop')}, ${mount('/none')}]\n` +
          `  volumes: [{name: host, hostPath: {path: ${shared}}}]\n`,
      ),
    });
    expect(res.code).toBe(0);
    // runc was handed the staging point the checked directory is bound on, not the host path.
    const [c] = JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout) as Array<{ id: string }>;
    const bundle = join(root, 'containers', c?.id ?? '');
    const spec = JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8')) as {
      mounts: Array<{ destination: string; source: string }>;
    };
    expect(spec.mounts.filter((m) => m.destination === '/prop' || m.destination === '/none')).toEqual([
      { destination: '/prop', source: join(bundle, 'subpaths/0'), type: 'bind', options: expect.any(Array) },
      { destination: '/none', source: join(bundle, 'subpaths/1'), type: 'bind', options: expect.any(Array) },
    ]);
    const later = join(shared, 'later');
    await mkdir(later);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', later]);
    try {
      await writeFile(join(later, 'marker'), 'from the host\n');
      expect(await exec('prop_main', 'cat', '/prop/later/marker')).toBe('from the host\n');
      const none = await berth('container', 'exec', 'prop_main', '--', 'ls', '/none/later');
      expect(none.stdout).toBe(''); // the directory, without the mount made after the start
    } finally {
      execFileSync('umount', [later]);
    }
  });

  it('Bidirectional takes a privileged container mount out to the host', async () => {
    const res = await applyOnly({
      'bidi.yaml': pod(
        'bidi',
        `  containers:\n    - name: main\n      image: ${image}\n      ${sleeper}\n` +
          `      securityContext: {privileged: true}\n` +
          `      volumeMounts: [{name: host, mountPath: /bidi, mountPropagation: Bidirectional}]\n` +
          `  volumes: [{name: host, hostPath: {path: ${shared}}}]\n`,
      ),
    });
    expect(res.code).toBe(0);
    await mkdir(join(shared, 'out'), { recursive: true });
    await exec(
      'bidi_main',
      '/bin/sh',
      '-c',
      'mount -t tmpfs -o size=1m tmpfs /bidi/out && echo inside > /bidi/out/f',
    );
    try {
      expect(execFileSync('findmnt', ['-rn', '-o', 'FSTYPE', join(shared, 'out')]).toString()).toBe(
        'tmpfs\n',
      );
      expect(execFileSync('cat', [join(shared, 'out/f')]).toString()).toBe('inside\n');
    } finally {
      execFileSync('umount', [join(shared, 'out')]);
    }
  });

  it('a host path on a private mount: ERR_MOUNT_PROPAGATION naming it, no container made', async () => {
    const res = await applyOnly({
      'private.yaml': pod(
        'private',
        `  containers:\n    - name: main\n      image: ${image}\n      ${sleeper}\n` +
          `      volumeMounts: [{name: host, mountPath: /p, mountPropagation: HostToContainer}]\n` +
          `  volumes: [{name: host, hostPath: {path: ${priv}}}]\n`,
      ),
    });
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(
      `failed run          private/main: new container: ERR_MOUNT_PROPAGATION: HostToContainer mount propagation needs ${priv} on a shared or slave mount; it is on a private one (make it shared: mount --bind ${priv} ${priv} && mount --make-rshared ${priv})\n`,
    );
    expect(JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout)).toEqual([]);
  });

  it('recursiveReadOnly Enabled / IfPossible make the mounts under a readOnly mount read-only; readOnly alone does not', async () => {
    const sub = join(priv, 'sub');
    await mkdir(sub, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', sub]);
    try {
      const mount = (path: string, rro?: string) =>
        `{name: host, mountPath: ${path}, readOnly: true${rro ? `, recursiveReadOnly: ${rro}` : ''}}`;
      const res = await applyOnly({
        'rro.yaml': pod(
          'rro',
          `  containers:\n    - name: main\n      image: ${image}\n      ${sleeper}\n` +
            `      volumeMounts: [${mount('/plain')}, ${mount('/rro', 'Enabled')}, ${mount('/maybe', 'IfPossible')}]\n` +
            `  volumes: [{name: host, hostPath: {path: ${priv}}}]\n`,
        ),
      });
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
      const write = async (path: string) =>
        (
          await exec('rro_main', '/bin/sh', '-c', `touch ${path} 2>/dev/null && echo written || echo refused`)
        ).trim();
      expect([
        await write('/plain/top'),
        await write('/plain/sub/file'),
        await write('/rro/top'),
        await write('/rro/sub/file'),
        await write('/maybe/sub/file'),
      ]).toEqual(['refused', 'written', 'refused', 'refused', 'refused']); // this kernel (6.x) has mount_setattr
      expect(execFileSync('ls', [sub]).toString()).toBe('file\n');
    } finally {
      await applyOnly({});
      execFileSync('umount', [sub]);
    }
  });
});
