// The local-user model for processes: a container runs as the host uid its runAsUser names unless
// the pod has hostUsers: false, so a local user (a throwaway account) whose uid a container runs as
// can signal it, trace it and read its environment through /proc (the kernel's own rule: same uid, no
// privilege), while a root container and a hostUsers: false pod with that same runAsUser are
// out of the user's reach (the pod's uid is in its own range, 2^30 up).
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import { cleanUpHost } from '../helpers/host-cleanup.js';
import { archiveImage, buildImage, createLayout, type Layout, populateBusybox } from '../helpers/images.js';
import { createLocalUser, type LocalUser } from '../helpers/local-user.js';
import { missingPrereqs } from '../helpers/prereqs.js';

const skip = missingPrereqs(['runc', 'conmon', 'skopeo', 'umoci', 'useradd', 'setpriv', '/usr/bin/python3'], {
  root: true,
});

const ref = 'test.local/signals:1';

/** As the user: kill(pid, 0) and a read of /proc/PID/environ, each `ok` or the errno code. */
const REACH = `
const fs = require('node:fs');
const attempt = (fn) => { try { fn(); return 'ok'; } catch (e) { return e.code; } };
const pid = Number(process.argv[1]);
console.log(JSON.stringify({
  signal: attempt(() => process.kill(pid, 0)),
  environ: attempt(() => fs.readFileSync('/proc/' + pid + '/environ', 'utf8').includes('PASS=hunter2') ? 'ok' : 'hidden'),
}));
`;

/** As the user: PTRACE_ATTACH (then detach), `ok` or the errno name. */
const TRACE = `
import ctypes, errno, os, sys
libc = ctypes.CDLL(None, use_errno=True)
pid = int(sys.argv[1])
if libc.ptrace(16, pid, None, None) != 0:
    print(errno.errorcode[ctypes.get_errno()])
else:
    os.waitpid(pid, 0)
    libc.ptrace(17, pid, None, None)
    print('ok')
`;

describe.skipIf(skip)('containers, seen by a local user', () => {
  let work: string;
  let layout: Layout;
  let user: LocalUser;
  let root: string;
  let state: string;
  let folder: string;
  const berth = (...args: string[]) => runBerth(['--root', root, '--state', state, ...args]);

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-lu-signals-'));
    await chmod(work, 0o711); // a hostUsers: false pod's root walks down to its rootfs
    user = createLocalUser();
    layout = await createLayout();
    await buildImage(layout, 'signals', [populateBusybox]);
    await archiveImage(layout, 'signals', join(work, 'image.tar'), ref);
    root = join(work, 'root');
    state = join(work, 'state');
    folder = join(work, 'm');
    await mkdir(folder);
  }, 120_000);
  afterAll(async () => {
    if (root) await cleanUpHost({ berth, work, folders: [folder], forceFirst: true });
    user?.remove();
    await layout?.cleanup();
    await rm(work, { recursive: true, force: true });
  });

  it('a container running as the user uid is theirs to signal, trace and read; root and hostUsers: false are not', async () => {
    const pod = (name: string, securityContext: string, extra = '') =>
      `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, annotations: {berth.dev/network: none}}\nspec:\n` +
      `  terminationGracePeriodSeconds: 1\n${extra}  securityContext: ${securityContext}\n  containers:\n` +
      `    - name: c\n      image: ${ref}\n      imagePullPolicy: Never\n      command: [sleep, '300']\n` +
      '      env: [{name: PASS, value: hunter2}]\n';
    const uid = `{runAsUser: ${user.uid}, runAsGroup: ${user.gid}}`;
    await writeFile(join(folder, 'same.yaml'), pod('same', uid));
    await writeFile(join(folder, 'rooted.yaml'), pod('rooted', '{runAsUser: 0}'));
    await writeFile(join(folder, 'apart.yaml'), pod('apart', uid, '  hostUsers: false\n'));
    expect((await berth('image', 'import', join(work, 'image.tar'))).code).toBe(0);
    const applied = await berth('apply', folder);
    expect({ code: applied.code, stderr: applied.stderr }).toEqual({ code: 0, stderr: '' });
    const pods = JSON.parse((await berth('ps', '-o', 'json')).stdout) as Array<{
      name: string;
      containers: Array<{ pid: number }>;
    }>;
    const reach = Object.fromEntries(
      pods.map((p) => {
        const pid = String(p.containers[0]?.pid);
        const trace = user.run('/usr/bin/python3', ['-c', TRACE, pid]).stdout.trim();
        return [p.name, { ...JSON.parse(user.node(REACH, [pid])), trace }];
      }),
    );
    expect(reach).toEqual({
      same: { signal: 'ok', environ: 'ok', trace: 'ok' },
      rooted: { signal: 'EPERM', environ: 'EACCES', trace: 'EPERM' },
      apart: { signal: 'EPERM', environ: 'EACCES', trace: 'EPERM' },
    });
  }, 120_000);
});
