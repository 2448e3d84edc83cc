// Paths an image or a container controls, opened on the host, against a real file system in a
// temp dir: a volume's subPath (symlinks planted at the last or a middle component, FIFOs and
// device nodes, a container renaming things while berth walks) and the image's /etc/passwd (a
// FIFO, a device node, a huge file). Device nodes need root (mknod); those cases skip without it.
import { execFileSync, spawn } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isBerthError } from '../../src/lib/errors.js';
import { readInRoot } from '../../src/runtime/rootfs.js';
import { openSubPath } from '../../src/runtime/sub-path.js';

const isRoot = process.getuid?.() === 0;
const codeOf = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    if (isBerthError(err)) return `${err.code}: ${err.message}`;
    throw err;
  }
  return 'no error';
};
/** Where an fd really points, and the fd closed. */
const target = (fd: number) => {
  const at = readlinkSync(`/proc/self/fd/${fd}`);
  closeSync(fd);
  return at;
};

let dir: string;
let vol: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-paths-'));
  vol = join(dir, 'vol');
  mkdirSync(vol);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('a subPath is opened inside its volume, never through a symlink', () => {
  it('opens a directory and a regular file that are inside', () => {
    mkdirSync(join(vol, 'a/b'), { recursive: true });
    writeFileSync(join(vol, 'a/f'), 'x');
    const d = openSubPath(vol, 'a/b');
    expect([d.isDirectory, target(d.fd)]).toEqual([true, join(vol, 'a/b')]);
    const f = openSubPath(vol, 'a/f');
    expect([f.isDirectory, target(f.fd)]).toEqual([false, join(vol, 'a/f')]);
  });

  it('refuses a planted symlink to / as the subPath, and as a component of it', () => {
    symlinkSync('/', join(vol, 'conf'));
    expect(codeOf(() => openSubPath(vol, 'conf'))).toBe(
      `ERR_SUBPATH_UNSAFE: subPath "conf" of ${vol} is a symbolic link`,
    );
    expect(codeOf(() => openSubPath(vol, 'conf/etc'))).toBe(
      `ERR_SUBPATH_UNSAFE: subPath "conf/etc" of ${vol} goes through a symbolic link or a file (never followed out of the volume)`,
    );
    // A relative link that stays inside is refused as well: nothing is ever followed.
    mkdirSync(join(vol, 'real'));
    symlinkSync('real', join(vol, 'alias'));
    expect(codeOf(() => openSubPath(vol, 'alias'))).toBe(
      `ERR_SUBPATH_UNSAFE: subPath "alias" of ${vol} is a symbolic link`,
    );
  });

  it.each([
    [
      '../../../../etc',
      'ERR_SUBPATH_UNSAFE: subPath "../../../../etc" contains "..": it must stay inside the volume',
    ],
    ['a/../..', 'ERR_SUBPATH_UNSAFE: subPath "a/../.." contains "..": it must stay inside the volume'],
    ['/etc', 'ERR_SUBPATH_UNSAFE: subPath "/etc" is absolute: it must be inside the volume'],
    ['a//b', 'ERR_SUBPATH_UNSAFE: subPath "a//b" has an empty or "." component'],
    ['./a', 'ERR_SUBPATH_UNSAFE: subPath "./a" has an empty or "." component'],
    ['', 'ERR_SUBPATH_UNSAFE: subPath is empty'],
  ])('refuses %j as text, before looking at the disk', (subPath, want) => {
    expect(codeOf(() => openSubPath(join(dir, 'no-such-volume'), subPath))).toBe(want);
  });

  it('creates missing directories inside the volume with the mode of its root', () => {
    execFileSync('chmod', ['0777', vol]);
    const old = process.umask(0o022);
    try {
      const d = openSubPath(vol, 'new/deep');
      expect(target(d.fd)).toBe(join(vol, 'new/deep'));
    } finally {
      process.umask(old);
    }
    expect((statSync(join(vol, 'new')).mode & 0o7777).toString(8)).toBe('777');
    expect((statSync(join(vol, 'new/deep')).mode & 0o7777).toString(8)).toBe('777');
  });

  it('refuses a FIFO without blocking', () => {
    execFileSync('mkfifo', [join(vol, 'pipe')]);
    expect(codeOf(() => openSubPath(vol, 'pipe'))).toBe(
      `ERR_SUBPATH_UNSAFE: subPath "pipe" of ${vol} is not a directory or a regular file`,
    );
  });

  it.skipIf(!isRoot)('refuses a device node without opening it', () => {
    execFileSync('mknod', [join(vol, 'disk'), 'b', '7', '200']);
    expect(codeOf(() => openSubPath(vol, 'disk'))).toBe(
      `ERR_SUBPATH_UNSAFE: subPath "disk" of ${vol} is not a directory or a regular file`,
    );
  });

  it('stays inside while a container swaps the path between a directory and a symlink to /', async () => {
    // The shell loop plays the container: conf is a directory, then gone, then a link to /.
    const swapper = spawn(
      'sh',
      [
        '-c',
        'cd "$1" && while :; do mkdir -p conf/etc; rm -rf conf; ln -s / conf; rm -f conf; done',
        'sh',
        vol,
      ],
      { stdio: 'ignore' },
    );
    try {
      const outcomes = { inside: 0, refused: 0 };
      for (let i = 0; i < 2000; i++) {
        try {
          const at = target(openSubPath(vol, 'conf/etc').fd);
          expect(at.startsWith(`${vol}/`)).toBe(true);
          outcomes.inside++;
        } catch (err) {
          if (!isBerthError(err) || err.code !== 'ERR_SUBPATH_UNSAFE') throw err;
          outcomes.refused++;
        }
        if (i % 100 === 0) await new Promise((r) => setImmediate(r));
      }
      expect(outcomes.inside + outcomes.refused).toBe(2000);
    } finally {
      // Gone before afterEach removes the temp dir: a loop still running remade conf in it.
      const exited = new Promise((r) => swapper.once('exit', r));
      swapper.kill('SIGKILL');
      await exited;
    }
  });
});

describe("the image's /etc/passwd is read only when it is a small regular file", () => {
  const etc = () => {
    mkdirSync(join(dir, 'rootfs/etc'), { recursive: true });
    return join(dir, 'rootfs');
  };
  it('reads a regular file, through a symlink that stays inside the rootfs', () => {
    const rootfs = etc();
    writeFileSync(join(rootfs, 'etc/passwd.real'), 'root:x:0:0::/root:/bin/sh\n');
    symlinkSync('/etc/passwd.real', join(rootfs, 'etc/passwd'));
    expect(readInRoot(rootfs, '/etc/passwd', 'img')).toBe('root:x:0:0::/root:/bin/sh\n');
  });
  it('a symlink to the host file is resolved inside the rootfs, where there is nothing', () => {
    const rootfs = etc();
    symlinkSync('/../../../../etc/shadow', join(rootfs, 'etc/passwd'));
    expect(readInRoot(rootfs, '/etc/passwd', 'img')).toBeUndefined();
  });
  it('refuses a FIFO at once instead of blocking', () => {
    const rootfs = etc();
    execFileSync('mkfifo', [join(rootfs, 'etc/passwd')]);
    expect(codeOf(() => readInRoot(rootfs, '/etc/passwd', 'img'))).toBe(
      'ERR_IMAGE_FILE_UNSAFE: /etc/passwd in image "img" is a FIFO, not a regular file',
    );
  });
  it.skipIf(!isRoot)('refuses a character device (it would read the host device)', () => {
    const rootfs = etc();
    execFileSync('mknod', [join(rootfs, 'etc/group'), 'c', '1', '5']); // /dev/zero: never ends
    expect(codeOf(() => readInRoot(rootfs, '/etc/group', 'img'))).toBe(
      'ERR_IMAGE_FILE_UNSAFE: /etc/group in image "img" is a character device, not a regular file',
    );
  });
  it('refuses a file over 1 MiB', () => {
    const rootfs = etc();
    writeFileSync(join(rootfs, 'etc/passwd'), '');
    truncateSync(join(rootfs, 'etc/passwd'), 2 ** 20 + 1);
    expect(codeOf(() => readInRoot(rootfs, '/etc/passwd', 'img'))).toBe(
      'ERR_IMAGE_FILE_UNSAFE: /etc/passwd in image "img" is 1048577 bytes (at most 1048576)',
    );
  });
});
