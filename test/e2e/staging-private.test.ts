// The staging of a container's host binds (sub-path-mounts.ts) seen from another mount namespace,
// end to end as root with real runc, conmon and overlayfs. berth's root is on a shared mount (as
// `/` is on a systemd host) and a second mount namespace is its slave (`unshare -m --propagation
// slave`, as a systemd service with PrivateTmp or another container runtime's is). A pod binds the
// host's `/` (node-exporter's hostPath, rbind): while runc creates it, none of what is staged in
// the bundle may appear in the other namespace, and nothing of it is left there afterwards; and an
// idle mount under a shared host path stays on the host when the staged copy of it is unmounted.
//
// The moment is made deterministic by a real hook: a `runc` first on PATH that, on `runc create` —
// with everything staged, before runc mounts anything — records the other namespace's mountinfo
// and its own, then runs the real runc.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import { type E2eHost, setUpE2eHost, tearDownE2eHost } from '../helpers/e2e-host.js';
import { until } from '../helpers/poll.js';
import { missingPrereqs } from '../helpers/prereqs.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'unshare'], {
  root: true,
});

/** The mount points in a mountinfo text. */
const mountPoints = (text: string) =>
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' ')[4] ?? '');

describe.skipIf(skip)('host binds staged for runc, seen from a slave mount namespace', () => {
  let host: E2eHost | undefined;
  let bin: string;
  let root: string;
  let other: ReturnType<typeof spawn> | undefined;
  const berth = (...args: string[]) =>
    runBerth(['--root', root, '--state', host?.state ?? '', ...args], { PATH: `${bin}:${process.env.PATH}` });

  beforeAll(async () => {
    host = await setUpE2eHost('staging-private');
    root = host.root;
    await mkdir(root, { recursive: true });
    execFileSync('mount', ['--bind', root, root]);
    execFileSync('mount', ['--make-shared', root]);
    other = spawn('unshare', ['-m', '--propagation', 'slave', 'sleep', '600'], { stdio: 'ignore' });
    const pid = other.pid as number;
    const own = await readlink('/proc/self/ns/mnt');
    await until(
      'the other mount namespace',
      async () => (await readlink(`/proc/${pid}/ns/mnt`).catch(() => own)) !== own,
    );
    bin = join(host.work, 'bin');
    await mkdir(bin);
    const real = execFileSync('sh', ['-c', 'command -v runc']).toString().trim();
    const seen = join(host.work, 'seen');
    await writeFile(
      join(bin, 'runc'),
      `#!/bin/sh\ncase " $* " in *" create "*) cat /proc/${pid}/mountinfo > ${seen}.other; ` +
        `cat /proc/self/mountinfo > ${seen}.own;; esac\nexec ${real} "$@"\n`,
    );
    await chmod(join(bin, 'runc'), 0o755);
  }, 180_000);
  afterAll(async () => {
    other?.kill('SIGKILL');
    const { left, leaked } = await tearDownE2eHost(host, { berth });
    expect(left).toEqual([]);
    expect(leaked.filter((m) => m !== root)).toEqual([]); // the shared mount of the test's own
  });

  it('a hostPath / (rbind) staged for runc never appears in the other namespace, and leaves nothing there', async () => {
    await writeFile(
      join(host?.dir ?? '', 'exporter.yaml'),
      `apiVersion: v1\nkind: Pod\nmetadata: {name: exporter}\nspec:\n  terminationGracePeriodSeconds: 1\n` +
        `  containers:\n    - name: main\n      image: ${host?.image}\n` +
        `      command: ["/bin/sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]\n` +
        `      volumeMounts: [{name: host, mountPath: /host, readOnly: true},\n` +
        `        {name: shared, mountPath: /shared, readOnly: true, mountPropagation: HostToContainer}]\n` +
        `  volumes: [{name: host, hostPath: {path: /, type: Directory}},\n` +
        `    {name: shared, hostPath: {path: ${root}, type: Directory}}]\n`,
    );
    // An idle mount under the shared host path: the staged copy of it is its peer, and unmounting
    // the copy must not take the host's own away (a umount propagates to its parent's peers).
    const idle = join(root, 'idle');
    await mkdir(idle);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', idle]);
    const res = await berth('apply', host?.dir ?? '');
    const idleKept = mountPoints(readFileSync('/proc/self/mountinfo', 'utf8')).includes(idle);
    if (idleKept) execFileSync('umount', [idle]);
    expect([res.stderr, idleKept]).toEqual(['', true]);
    const [c] = JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout) as Array<{ id: string }>;
    const staging = join(root, 'containers', c?.id ?? '', 'subpaths');
    const under = (text: string) => mountPoints(text).filter((m) => m.startsWith(`${staging}/`));
    // Staged here when runc was called (the hook saw it), and not there.
    expect(under(readFileSync(join(host?.work ?? '', 'seen.own'), 'utf8'))).toContain(`${staging}/0`);
    expect(under(readFileSync(join(host?.work ?? '', 'seen.other'), 'utf8'))).toEqual([]);
    // Nothing staged is mounted there once the create is done (the container's rootfs is, as any
    // mount made under a shared one: propagation works as it should).
    const after = mountPoints(readFileSync(`/proc/${other?.pid}/mountinfo`, 'utf8'));
    expect(after.filter((m) => m === staging || m.startsWith(`${staging}/`))).toEqual([]);
    expect(after).toContain(join(root, 'containers', c?.id ?? '', 'rootfs'));
    // A shared host path bound through the staging keeps its propagation: the container sees a
    // mount the host makes under it later.
    const later = join(root, 'later');
    await mkdir(later);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', later]);
    try {
      await writeFile(join(later, 'marker'), 'from the host\n');
      const r = await berth('container', 'exec', 'exporter_main', '--', 'cat', '/shared/later/marker');
      expect(r.stdout).toBe('from the host\n');
    } finally {
      execFileSync('umount', [later]);
    }
  }, 120_000);
});
