// A hostPath that a local user swaps after berth checked it, on a host where fs.protected_symlinks
// is 0 (this one), end to end as root with real runc, conmon and overlayfs. The user owns a
// directory in a sticky directory every user can write (a /tmp of the test's own); a link of theirs
// there is refused (hostpath-sticky-links.test.ts), so the attack is to show berth the directory and
// hand runc the link: rename the directory away and put a link to the host's /etc in its place
// between berth's check and runc's mount. The container must get the directory berth checked, or no
// container at all; never /etc.
//
// The swap is made deterministic by a real hook: a `runc` first on PATH (as daemon.test.ts records
// its tools) that, on `runc create` — after every check of berth's, before runc mounts anything —
// makes the swap as the user (setpriv, the user's own uid and group), then runs the real runc. A
// second test races a swapping loop against several creates.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import { type E2eHost, setUpE2eHost, tearDownE2eHost } from '../helpers/e2e-host.js';
import { createLocalUser, type LocalUser } from '../helpers/local-user.js';
import { missingPrereqs } from '../helpers/prereqs.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'useradd', 'setpriv'], {
  root: true,
});

describe.skipIf(skip)('hostPath swapped for a link to /etc after berth checked it', () => {
  let host: E2eHost | undefined;
  let user: LocalUser | undefined;
  let work: string;
  let shared: string;
  let bin: string;
  const berth = (...args: string[]) =>
    runBerth(['--root', host?.root ?? '', '--state', host?.state ?? '', ...args], {
      PATH: `${bin}:${process.env.PATH}`,
    });
  const pod = (name: string, path: string) =>
    `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  terminationGracePeriodSeconds: 1\n` +
    `  containers:\n    - name: main\n      image: ${host?.image}\n` +
    `      command: ["/bin/sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]\n` +
    `      volumeMounts: [{name: app, mountPath: /host, readOnly: true}]\n` +
    `  volumes: [{name: app, hostPath: {path: ${path}, type: Directory}}]\n`;
  /** The user's directory `name` in the shared one, holding a file `mine`. */
  const userDir = (name: string) => {
    const dir = join(shared, name);
    const r = (user as LocalUser).run('sh', ['-c', `mkdir ${dir} && echo mine > ${dir}/mine`]);
    expect(r.stderr).toBe('');
    return dir;
  };
  const seen = async (container: string) => {
    const r = await berth('container', 'exec', container, '--', 'ls', '/host');
    expect(r.stderr).toBe('');
    return r.stdout.trim().split('\n');
  };

  beforeAll(async () => {
    host = await setUpE2eHost('hostpath-swap');
    work = host.work;
    await chmod(work, 0o711); // the user reaches its directory, and lists nothing else
    shared = join(work, 'tmp');
    await mkdir(shared);
    await chmod(shared, 0o1777);
    user = createLocalUser();
    bin = join(work, 'bin');
    await mkdir(bin);
    const which = (tool: string) =>
      execFileSync('sh', ['-c', `command -v ${tool}`])
        .toString()
        .trim();
    const real = which('runc');
    // On `runc create`, `swap` (when there) is run once as the user, then the real runc.
    const swap = join(work, 'swap.sh');
    // …or, when `fail` is there, fails as runc would (a create that goes wrong after the staging).
    await writeFile(
      join(bin, 'runc'),
      `#!/bin/sh\ncase " $* " in *" create "*) [ -f ${join(work, 'fail')} ] && exit 1; ` +
        `if [ -f ${swap} ]; then /bin/mv ${swap} ${swap}.done; ` +
        `${which('setpriv')} --reuid ${user.uid} --regid ${user.gid} --clear-groups -- /bin/sh ${swap}.done; fi;; esac\n` +
        `exec ${real} "$@"\n`,
    );
    await chmod(join(bin, 'runc'), 0o755);
  }, 180_000);
  afterAll(async () => {
    const { left } = await tearDownE2eHost(host, { forceFirst: true });
    user?.remove();
    expect(left).toEqual([]);
  });

  it('swapped between the check and runc create: the container gets the directory berth checked, not /etc', async () => {
    const dir = userDir('app');
    // Written by root, run as the user: a plain rename and symlink, in a directory the user owns.
    await writeFile(join(work, 'swap.sh'), `/bin/mv ${dir} ${dir}.old && /bin/ln -s /etc ${dir}\n`, {
      mode: 0o644,
    });
    await writeFile(join(host?.dir ?? '', 'swap.yaml'), pod('swap', dir));
    const res = await berth('apply', host?.dir ?? '');
    expect(res.stderr).toBe('');
    expect(await readdir(work)).toContain('swap.sh.done'); // the hook ran: runc was handed the swapped path
    const listed = await seen('swap_main');
    expect(listed).not.toContain('shadow');
    expect(listed).toEqual(['mine']);
    await rm(join(host?.dir ?? '', 'swap.yaml'));
    expect((await berth('apply', host?.dir ?? '')).code).toBe(0);
  }, 60_000);

  it('a create that fails after its host paths were staged leaves no mount behind', async () => {
    const dir = userDir('failing');
    await writeFile(join(work, 'fail'), '');
    try {
      await writeFile(join(host?.dir ?? '', 'fail.yaml'), pod('fail', dir));
      const res = await berth('apply', host?.dir ?? '');
      expect(res.code).not.toBe(0);
      expect(res.stderr).toBe(
        'failed run          fail/main: new container: ERR_CREATE_FAILED: creating container fail_main: runc create failed without a word on stderr (conmon ended without reporting a pid)\n',
      );
    } finally {
      await rm(join(work, 'fail'));
    }
    const staging = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter((l) => l.includes(`${host?.root}/`));
    expect(staging).toEqual([]);
    expect(JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout)).toEqual([]);
    await rm(join(host?.dir ?? '', 'fail.yaml'));
    expect((await berth('apply', host?.dir ?? '')).code).toBe(0);
  }, 60_000);

  it('a user swapping in a loop while pods are made: each container has the directory or none, never /etc', async () => {
    const dir = userDir('loop');
    // dir ⇄ link, by renames only: at each moment `loop` is the directory, the link, or missing.
    const loop = spawn(
      'setpriv',
      [
        '--reuid',
        String(user?.uid),
        '--regid',
        String(user?.gid),
        '--clear-groups',
        '--',
        'sh',
        '-c',
        `ln -s /etc ${dir}.link; while :; do mv ${dir} ${dir}.dir; mv ${dir}.link ${dir}; mv ${dir} ${dir}.link; mv ${dir}.dir ${dir}; done`,
      ],
      { stdio: 'ignore' },
    );
    const outcomes: string[] = [];
    try {
      for (let i = 0; i < 6; i++) {
        await writeFile(join(host?.dir ?? '', 'loop.yaml'), pod(`loop${i}`, dir));
        const res = await berth('apply', host?.dir ?? '');
        const ps = JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout) as Array<{
          name: string;
        }>;
        if (ps.some((c) => c.name === `loop${i}_main`)) {
          const listed = await seen(`loop${i}_main`);
          expect(listed).not.toContain('shadow');
          expect(listed).toEqual(['mine']);
          outcomes.push('the directory');
        } else {
          // Refused as a link or missing at the check (a failed pass: the next would try again).
          expect(res.stderr).toMatch(/ERR_HOSTPATH_(UNSAFE|TYPE)/);
          outcomes.push('refused');
        }
        await rm(join(host?.dir ?? '', 'loop.yaml'));
        expect((await berth('apply', host?.dir ?? '')).code).toBe(0);
      }
    } finally {
      loop.kill('SIGKILL');
      await new Promise((r) => loop.once('exit', r));
    }
    expect(outcomes).toHaveLength(6);
  }, 180_000);
});
