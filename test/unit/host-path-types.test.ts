// hostPath types as the kubelet applies them, on real files: …OrCreate makes what is missing, every
// type checks what is there (a socket, a character device, a directory, a file), a mismatch is one
// coded error naming the pod, the path and what was found.
import { mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareHostPath, withHostPathTypes } from '../../src/reconcile/host-path-types.js';
import type { ContainerSettings } from '../../src/runtime/spec.js';

let dir: string;
let server: Server;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-hostpath-'));
  server = createServer();
  await new Promise<void>((res) => server.listen(join(dir, 'api.sock'), res));
  await writeFile(join(dir, 'file'), 'x');
});
afterAll(async () => {
  await new Promise((res) => server.close(res));
  await rm(dir, { recursive: true, force: true });
});

const prep = (path: string, type: string) => prepareHostPath('web', { path, type });

describe('prepareHostPath', () => {
  it('takes what matches its type, through symlinks as the kubelet does', async () => {
    await symlink(join(dir, 'api.sock'), join(dir, 'link.sock'));
    for (const [path, type] of [
      [join(dir, 'api.sock'), 'Socket'],
      [join(dir, 'link.sock'), 'Socket'],
      ['/dev/null', 'CharDevice'],
      [dir, 'Directory'],
      [dir, 'DirectoryOrCreate'],
      [join(dir, 'file'), 'File'],
      [join(dir, 'file'), 'FileOrCreate'],
      ['/no/such/thing', ''],
    ] as const)
      await expect(prep(path, type)).resolves.toBeUndefined();
  });

  it("makes a missing directory (0755) or an empty file (0644), never the file's directory", async () => {
    await prep(join(dir, 'made/deep'), 'DirectoryOrCreate');
    expect((await stat(join(dir, 'made/deep'))).mode & 0o7777).toBe(0o755);
    await prep(join(dir, 'made/lock'), 'FileOrCreate');
    const made = await stat(join(dir, 'made/lock'));
    expect([made.isFile(), made.size, made.mode & 0o777]).toEqual([true, 0, 0o644]);
    await expect(prep(join(dir, 'none/lock'), 'FileOrCreate')).rejects.toThrow(
      `pod web: hostPath ${dir}/none/lock (type FileOrCreate) cannot be made: its directory does not exist (FileOrCreate makes no directory)`,
    );
  });

  it('refuses a mismatch or a missing path, saying what is there', async () => {
    const cases: Array<[string, string, string]> = [
      [join(dir, 'file'), 'Socket', 'is a file, not a socket'],
      [dir, 'File', 'is a directory, not a file'],
      [join(dir, 'file'), 'DirectoryOrCreate', 'is a file, not a directory'],
      [join(dir, 'api.sock'), 'FileOrCreate', 'is a socket, not a file'],
      ['/dev/null', 'BlockDevice', 'is a character device, not a block device'],
      [join(dir, 'gone.sock'), 'Socket', 'does not exist: it must be a socket'],
    ];
    for (const [path, type, why] of cases)
      await expect(prep(path, type)).rejects.toMatchObject({
        code: 'ERR_HOSTPATH_TYPE',
        message: `pod web: hostPath ${path} (type ${type}) ${why}`,
      });
  });
});

describe('withHostPathTypes', () => {
  it("gives each hostPath bind its volume's type for the create, and leaves every other mount as it is", () => {
    const settings = {
      mounts: [
        { kind: 'bind', source: '/srv/data', destination: '/a', readOnly: false },
        { kind: 'bind', source: '/srv/any', destination: '/b', readOnly: false },
        { kind: 'bind', source: '/srv/data', destination: '/c', readOnly: true, subPath: 'x' },
        { kind: 'bind', source: '/var/lib/berth/pods/web/volumes/cfg', destination: '/d', readOnly: true },
        { kind: 'volume', source: '/srv/data', destination: '/e', readOnly: false },
      ],
    } as ContainerSettings;
    const typed = withHostPathTypes(settings, [
      { path: '/srv/any', type: '' },
      { path: '/srv/data', type: '' },
      { path: '/srv/data', type: 'Directory' },
    ]);
    expect(typed.mounts?.map((m) => m.hostPathType)).toEqual([
      'Directory',
      '',
      'Directory',
      undefined,
      undefined,
    ]);
    expect(settings.mounts?.map((m) => m.hostPathType)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(withHostPathTypes(settings, [])).toBe(settings);
  });
});
