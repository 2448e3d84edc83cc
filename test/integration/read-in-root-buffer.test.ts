// readInRoot sizes its buffer by the file (one byte more than fstat says, grown while the file
// grows) instead of taking 1 MiB for every /etc/passwd and /etc/group a create reads: the same
// text, a file of exactly the limit still read, one past it still refused, and a file whose fstat
// says 0 (procfs) read whole.
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isBerthError } from '../../src/lib/errors.js';
import { IMAGE_FILE_MAX, readCapped, readInRoot } from '../../src/runtime/rootfs.js';

let rootfs: string;
beforeEach(() => {
  rootfs = mkdtempSync(join(tmpdir(), 'berth-read-in-root-'));
  mkdirSync(join(rootfs, 'etc'));
});
afterEach(() => rmSync(rootfs, { recursive: true, force: true }));

describe('readInRoot takes a buffer the size of the file', () => {
  it('reads a small file without holding a 1 MiB buffer per read', () => {
    const text = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n';
    writeFileSync(join(rootfs, 'etc/passwd'), text);
    const grown: number[] = [];
    for (let i = 0; i < 5; i++) {
      const before = process.memoryUsage().arrayBuffers;
      expect(readInRoot(rootfs, '/etc/passwd', 'img')).toBe(text);
      grown.push(process.memoryUsage().arrayBuffers - before);
    }
    // Was 1 MiB + 1 each (Buffer.alloc(IMAGE_FILE_MAX + 1)), until a garbage collection.
    expect(Math.max(...grown)).toBeLessThan(64 * 1024);
  });

  it('still reads a file of exactly the limit, and refuses one byte more', () => {
    const full = 'x'.repeat(IMAGE_FILE_MAX);
    writeFileSync(join(rootfs, 'etc/group'), full);
    expect(readInRoot(rootfs, '/etc/group', 'img')).toBe(full);
    writeFileSync(join(rootfs, 'etc/group'), `${full}y`);
    let code = '';
    try {
      readInRoot(rootfs, '/etc/group', 'img');
    } catch (err) {
      code = isBerthError(err) ? err.code : String(err);
    }
    expect(code).toBe('ERR_IMAGE_FILE_UNSAFE');
  });

  it('reads past what fstat said when the file holds more (grows), up to the cap', () => {
    // procfs says size 0 and holds kilobytes: the buffer has to grow, several times over.
    const want = readFileSync('/proc/self/auxv');
    const fd = openSync('/proc/self/auxv', 'r');
    try {
      const { buf, n } = readCapped(fd, 0, IMAGE_FILE_MAX + 1);
      expect(Buffer.compare(buf.subarray(0, n), want)).toBe(0);
    } finally {
      closeSync(fd);
    }
    const fd2 = openSync('/proc/self/auxv', 'r');
    try {
      expect(readCapped(fd2, 0, 100).n).toBe(100); // the cap reached: the caller's "grew past"
    } finally {
      closeSync(fd2);
    }
  });
});
