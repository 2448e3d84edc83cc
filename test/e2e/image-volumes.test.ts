// Image volumes (Kubernetes' `volumes[].image`) end to end as root with real runc, conmon and
// overlayfs: the image is pulled for the pod like a container's image; a two-layer image is an
// overlay of its snapshots (a later layer's change and whiteout in effect), a one-layer image a
// bind of its snapshot, an image of no layers an empty directory; read-only whatever the mount says; a subPath inside one works and one through a
// symlink the image planted is refused; an image of 100 layers mounts under util-linux 2.39+'s
// mount (mount-shim.ts); a missing image with pullPolicy Never makes the pod wait naming it;
// nothing stays mounted once the pod is gone.
import { mkdir, readdir, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import { type E2eHost, setUpE2eHost, tearDownE2eHost } from '../helpers/e2e-host.js';
import { buildImage, type Layout, pushImage } from '../helpers/images.js';
import { fsconfigMountShim } from '../helpers/mount-shim.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import type { TestRegistry } from '../helpers/registry.js';
import { buildRawImage, gzipLayer, pushRawImage } from '../helpers/tar-bytes.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'unshare', 'findmnt'], {
  root: true,
});

describe.skipIf(skip)('image volumes', () => {
  let host: E2eHost | undefined;
  let registry: TestRegistry;
  let layout: Layout;
  let dir: string;
  let root: string;
  let state: string;
  let busybox: string;
  let multi: string;
  let single: string;
  let empty: string;
  const berth = (...args: string[]) => runBerth(['--root', root, '--state', state, ...args]);
  const sh = async (container: string, script: string) => {
    const r = await berth('container', 'exec', container, '--', '/bin/sh', '-c', script);
    expect(r.stderr).toBe('');
    return r.stdout;
  };
  const applyOnly = async (files: Record<string, string>) => {
    for (const f of await readdir(dir)) await rm(join(dir, f));
    for (const [f, text] of Object.entries(files)) await writeFile(join(dir, f), text);
    return berth('apply', dir);
  };
  const pod = (name: string, mounts: string, volumes: string) =>
    `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  terminationGracePeriodSeconds: 1\n` +
    `  containers:\n    - name: main\n      image: ${busybox}\n` +
    `      command: ["/bin/sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]\n` +
    `      volumeMounts: ${mounts}\n  volumes: ${volumes}\n`;

  beforeAll(async () => {
    host = await setUpE2eHost('image-volumes', { repo: 'iv' });
    ({ root, state, dir, registry, layout, image: busybox } = host);
    await buildImage(
      layout,
      'multi',
      [
        async (r) => {
          await mkdir(join(r, 'data'));
          await writeFile(join(r, 'data/a'), 'one\n');
          await writeFile(join(r, 'data/gone'), 'x\n');
        },
        async (r) => {
          await writeFile(join(r, 'data/a'), 'one-v2\n');
          await writeFile(join(r, 'data/b'), 'two\n');
          await writeFile(join(r, 'data/late'), 'read after the prune\n');
          await unlink(join(r, 'data/gone'));
          await symlink('/etc', join(r, 'data/evil'));
        },
      ],
      { cmd: '/none' },
    );
    await buildImage(layout, 'single', [async (r) => writeFile(join(r, 'file'), 'single\n')], {
      cmd: '/none',
    });
    multi = `${registry.host}/iv/multi:1`;
    single = `${registry.host}/iv/single:1`;
    await pushImage(layout, 'multi', multi);
    await pushImage(layout, 'single', single);
    empty = `${registry.host}/iv/empty:1`;
    await pushRawImage(registry.url, 'iv/empty', '1', buildRawImage([]));
  }, 240_000);
  afterAll(async () => {
    const { left, leaked } = await tearDownE2eHost(host, { forceFirst: true });
    expect(left).toEqual([]);
    expect(leaked).toEqual([]);
  });

  it("pulls the volume's image for the pod and mounts its merged layers read-only; a subPath inside it works", async () => {
    const files = {
      'iv.yaml': pod(
        'iv',
        '[{name: m, mountPath: /multi, readOnly: false}, {name: m, mountPath: /sub, subPath: data}, {name: s, mountPath: /single}]',
        `[{name: m, image: {reference: ${multi}}}, {name: s, image: {reference: ${single}, pullPolicy: IfNotPresent}}]`,
      ),
    };
    for (const [f, text] of Object.entries(files)) await writeFile(join(dir, f), text);
    const plan = await berth('plan', dir);
    expect(plan.stdout.split('\n').filter((l) => l.startsWith('pull'))).toEqual([
      `pull         ${busybox}: not in the store (iv/main)`,
      `pull         ${multi}: not in the store (iv/main)`,
      `pull         ${single}: not in the store (iv/main)`,
    ]);
    const res = await berth('apply', dir);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(await sh('iv_main', 'cat /multi/data/a /multi/data/b /sub/b /single/file; ls /single')).toBe(
      'one-v2\ntwo\ntwo\nsingle\nfile\n',
    ); // data/gone: whited out by the second layer (ls below)
    expect(
      await sh(
        'iv_main',
        'for p in /multi/new /sub/new /single/new; do touch $p 2>/dev/null && echo written || echo refused; done',
      ),
    ).toBe('refused\nrefused\nrefused\n');
    // The symlink the image planted resolves inside the container (its own /etc), never the host's.
    expect(
      await sh('iv_main', 'readlink /multi/data/evil; test -f /multi/data/evil/hostname && echo theirs'),
    ).toBe('/etc\ntheirs\n');
    expect((await berth('plan', dir)).code).toBe(0);
    // The container stands on the volume's snapshots: removing the image (which frees what nothing
    // else uses) and pruning leave them while it exists.
    expect((await berth('image', 'rm', multi)).code).toBe(0);
    expect((await berth('image', 'prune')).code).toBe(0);
    expect(await sh('iv_main', 'ls /multi/data; cat /multi/data/late')).toBe(
      'a\nb\nevil\nlate\nread after the prune\n',
    );
  });

  it('an image of no layers is an empty read-only directory', async () => {
    const res = await applyOnly({
      'none.yaml': pod('none', '[{name: e, mountPath: /empty}]', `[{name: e, image: {reference: ${empty}}}]`),
    });
    expect([res.code, res.stderr]).toEqual([0, '']);
    expect(
      await sh('none_main', 'ls -A /empty; touch /empty/x 2>/dev/null && echo written || echo refused'),
    ).toBe('refused\n');
  });

  it('a subPath through a symlink the image planted is refused; nothing is left mounted', async () => {
    const res = await applyOnly({
      'evil.yaml': pod(
        'evil',
        '[{name: m, mountPath: /x, subPath: data/evil}]',
        `[{name: m, image: {reference: ${multi}}}]`,
      ),
    });
    expect(res.code).toBe(1);
    const bundle = /of (\S+)\/subpaths\/image-0 /.exec(res.stderr)?.[1] ?? '';
    expect(bundle.startsWith(join(root, 'containers/'))).toBe(true);
    expect(res.stderr).toBe(
      `failed run          evil/main: new container: ERR_SUBPATH_UNSAFE: subPath "data/evil" of ${bundle}/subpaths/image-0 is a symbolic link\n`,
    );
    expect(JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout)).toEqual([]);
  });

  it('an image of 100 layers mounts under a mount(8) of util-linux 2.39+ (fsconfig: 256 bytes a value)', async () => {
    // `lowerdir=0:1:…:99` is 289 bytes: such a mount said 'wrong fs type, bad option' until it was
    // told to use mount(2) (LIBMOUNT_FORCE_MOUNT2=always).
    const deep = `${registry.host}/iv/deep:1`;
    const layers = Array.from({ length: 100 }, (_, i) =>
      gzipLayer([
        { name: 'deep/', type: 'directory' },
        { name: `deep/${i}`, body: `${i}\n` },
      ]),
    );
    await pushRawImage(registry.url, 'iv/deep', '1', buildRawImage(layers));
    const PATH = `${await fsconfigMountShim((host as NonNullable<typeof host>).work)}:${process.env.PATH}`;
    await applyOnly({});
    await writeFile(
      join(dir, 'deep.yaml'),
      pod('deep', '[{name: d, mountPath: /deep}]', `[{name: d, image: {reference: ${deep}}}]`),
    );
    const res = await runBerth(['--root', root, '--state', state, 'apply', dir], { PATH });
    expect([res.code, res.stderr]).toEqual([0, '']);
    expect(await sh('deep_main', 'ls /deep/deep | wc -l; cat /deep/deep/0 /deep/deep/99')).toBe(
      '100\n0\n99\n',
    );
  });

  it('a missing image with pullPolicy Never: the pod waits, naming the image', async () => {
    const absent = `${registry.host}/iv/absent:1`;
    await applyOnly({});
    await writeFile(
      join(dir, 'never.yaml'),
      pod(
        'never',
        '[{name: m, mountPath: /x}]',
        `[{name: m, image: {reference: ${absent}, pullPolicy: Never}}]`,
      ),
    );
    const plan = await berth('plan', dir);
    expect(plan.stdout).toBe(
      `wait         ${absent}: not in the store and pullPolicy is Never (never/main)\n` +
        `wait         never: waiting for image ${absent}\n`,
    );
  });
});
