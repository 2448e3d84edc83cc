// zstd layers and the window their frames ask for. The decoder holds a frame's whole window, and a
// few header bytes can ask for up to 3.75 TiB: berth took windows to 2 GiB, each layer unpacking at
// once holding that much. Now, as containerd's decoder (klauspost/compress) by default, a window of
// up to 512 MiB unpacks (zstd --long=28, a hand-written frame of 256 or 512 MiB), and a larger one
// (zstd --long=30 and 31, a hand-written 576 MiB and 1 GiB window, a single-segment frame declaring
// 2 GiB of content) is refused before the decoder sees it, in one line naming the layer's digest and
// the window's size, exit 7.
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { registryWorkspace } from '../helpers/registry-workspace.js';
import { type BuiltLayer, buildRawImage, pushRawImage, sha256, tarBytes } from '../helpers/tar-bytes.js';

const skip = missingPrereqs(['docker-registry', 'zstd'], { root: true });

const ZSTD = 'application/vnd.oci.image.layer.v1.tar+zstd';
const RAW = tarBytes([
  { name: 'a', body: 'first file\n' },
  { name: 'b', body: 'b'.repeat(300_000) },
  { name: 'c', body: 'last file\n' },
]);
const MAX_BLOCK = 128 * 1024;

/** RAW as one zstd frame of raw blocks, its header written by hand: `header` after the magic. */
function handFrame(header: Buffer): Buffer {
  const parts = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), header];
  for (let at = 0; at < RAW.length; at += MAX_BLOCK) {
    const block = RAW.subarray(at, at + MAX_BLOCK);
    const last = at + MAX_BLOCK >= RAW.length ? 1 : 0;
    const v = last | (0 << 1) | (block.length << 3); // a raw block
    parts.push(Buffer.from([v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff]), block);
  }
  return Buffer.concat(parts);
}

/** A frame with a window descriptor (no content size, no checksum): window 2^(10+e) * (1 + m/8). */
const withWindow = (exponent: number, mantissa = 0) =>
  handFrame(Buffer.from([0x00, (exponent << 3) | mantissa]));

/** The real tool, reading a pipe (so the window is what --long says, not cut to the input's size). */
const zstdLong = (log: number) => execFileSync('zstd', ['-q', '-c', `--long=${log}`], { input: RAW });

const layerOf = (blob: Buffer): BuiltLayer => ({ blob, diffId: sha256(RAW), mediaType: ZSTD });

let n = 0;
const ws = registryWorkspace('berth-zstd-window-', skip);

async function pull(blob: Buffer) {
  const repo = `window/img-${++n}`;
  await pushRawImage(ws.registry.url, repo, '1', buildRawImage([layerOf(blob)]));
  const ref = `${ws.registry.host}/${repo}:1`;
  const root = join(ws.work, `store-${n}`);
  const res = await runBerth(['--root', root, 'image', 'pull', ref]);
  return { res, ref, root };
}

describe.skipIf(skip)('zstd windows', () => {
  it.each([
    ['zstd --long=28 (256 MiB)', () => zstdLong(28)],
    ['a hand-written 256 MiB window', () => withWindow(18)],
    ['a hand-written 512 MiB window, the most', () => withWindow(19)],
  ])('%s unpacks, pulled and by image unpack', async (_label, make) => {
    const blob = make();
    const { res, ref, root } = await pull(blob);
    expect([res.code, res.stderr]).toEqual([0, '']);
    const dest = join(ws.work, `dest-${n}`);
    const unpacked = await runBerth(['--root', root, 'image', 'unpack', ref, dest]);
    expect([unpacked.code, unpacked.stderr]).toEqual([0, '']);
    expect(await readFile(join(dest, 'c'), 'utf8')).toBe('last file\n');
  });

  const over = (mib: number, bytes: number) =>
    `a zstd frame with a window of ${mib} MiB (${bytes} bytes): above the 512 MiB berth decodes with, as containerd does (compress the layer with a smaller window: zstd --long=29 or less)`;
  it.each([
    ['zstd --long=30', () => zstdLong(30), over(1024, 2 ** 30)],
    ['zstd --long=31', () => zstdLong(31), over(2048, 2 ** 31)],
    ['a hand-written 576 MiB window', () => withWindow(19, 1), over(576, 2 ** 29 + 2 ** 26)],
    ['a hand-written 1 GiB window', () => withWindow(20), over(1024, 2 ** 30)],
    [
      'a single-segment frame declaring 2 GiB of content (its window)',
      () => {
        const fcs = Buffer.alloc(8);
        fcs.writeBigUInt64LE(2n ** 31n);
        return handFrame(Buffer.concat([Buffer.from([0xe0]), fcs]));
      },
      over(2048, 2 ** 31),
    ],
  ])('%s is refused naming the layer and the window, exit 7', async (_label, make, why) => {
    const blob = make();
    const { res, ref } = await pull(blob);
    expect([res.code, res.stderr]).toEqual([
      7,
      `berth: ERR_ZSTD_WINDOW_TOO_LARGE: layer ${sha256(blob)} of ${ref}: ${why}\n`,
    ]);
  });
});
