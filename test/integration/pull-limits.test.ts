// `berth image pull`'s bounds, seen from the registry's side: manifests and configs capped at 4 MiB
// and images at 500 layers (exit 7, one line, nothing fetched past the cap), layers downloaded 3 at
// a time by default, and layers unpacked `unpack.maxConcurrentLayers` at a time (default: the
// number of CPUs).
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import { type HostileRegistry, sha256, startHostileRegistry } from '../helpers/hostile-registry.js';
import { tarBytes } from '../helpers/tar-bytes.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const MiB = 2 ** 20;
let reg: HostileRegistry;
let root: string;

beforeEach(async () => {
  reg = await startHostileRegistry();
  root = await mkdtemp(join(tmpdir(), 'berth-pull-limits-'));
});
afterEach(async () => {
  await reg.close();
  await rm(root, { recursive: true, force: true });
});

const pull = async (config: string, ...args: string[]) => {
  await writeFile(join(root, 'config.yaml'), config);
  return runBerth([
    '--root',
    join(root, 'store'),
    '--config',
    join(root, 'config.yaml'),
    'image',
    'pull',
    ...args,
  ]);
};

/** An image of the given layers (gzip blobs with their uncompressed digests); returns the manifest's parts. */
function putImage(repo: string, layers: Array<{ blob: Buffer; diffId: string }>, configPad = '') {
  const descs = layers.map((l) => ({
    mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
    ...reg.putBlob(repo, l.blob),
  }));
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: configPad ? { Labels: { pad: configPad } } : {},
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    }),
  );
  const cfg = reg.putBlob(repo, config);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...cfg },
    layers: descs,
  });
  const digest = reg.putManifest(repo, ['v1'], manifest, OCI_MANIFEST);
  return { layers: descs, config: cfg, digest };
}

/** A layer holding `early` (small, first in the stream) and 8 MiB that do not compress. */
async function layer(tag: string): Promise<{ blob: Buffer; diffId: string }> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((r) => pack.on('end', () => r()));
  pack.entry({ name: 'early', mode: 0o644 }, `${tag}\n`);
  pack.entry({ name: 'late', mode: 0o644 }, randomBytes(8 * MiB));
  pack.finalize();
  await done;
  const bytes = Buffer.concat(chunks);
  return { blob: gzipSync(bytes, { level: 1 }), diffId: sha256(bytes) };
}

/** Hold every response to `/blobs/<digest>` of these layers after `head` bytes, until released. */
function holdBlobs(blobs: Array<{ digest: string; body: Buffer }>, head: number) {
  const held: Array<() => void> = [];
  let inFlight = 0;
  let most = 0;
  for (const { digest, body } of blobs) {
    reg.on(`/blobs/${digest}`, (_req, res: ServerResponse) => {
      inFlight++;
      most = Math.max(most, inFlight);
      res.writeHead(200, { 'content-length': body.length });
      res.write(body.subarray(0, head));
      held.push(() => {
        inFlight--;
        res.end(body.subarray(head));
      });
      return true;
    });
  }
  return {
    inFlight: () => inFlight,
    most: () => most,
    releaseAll: () => {
      for (const r of held.splice(0)) r();
    },
    /** Start counting again (a next pull into an empty store). */
    reset: () => {
      inFlight = 0;
      most = 0;
    },
  };
}

async function until<T>(probe: () => T | undefined | Promise<T | undefined>, what: string, ms = 20_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`never happened: ${what}`);
}

/** Check for `ms` that `probe` stays true: how a bound that must not be passed is seen to hold. */
async function holdsFor(probe: () => boolean | Promise<boolean>, ms: number) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!(await probe())) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

describe('manifests and configs are capped at 4 MiB', () => {
  it('a manifest of more than 4 MiB is ERR_MANIFEST_TOO_LARGE, exit 7, whether or not it declares its length', async () => {
    const big = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      annotations: { pad: 'x'.repeat(4 * MiB) },
    });
    reg.putManifest('test/big', ['v1'], big, OCI_MANIFEST);
    const declared = await pull('', `${reg.host}/test/big:v1`);
    expect([declared.code, declared.stdout, declared.stderr]).toEqual([
      7,
      '',
      `berth: ERR_MANIFEST_TOO_LARGE: ${reg.host}/test/big:v1: manifest larger than ${4 * MiB} bytes\n`,
    ]);
    // Chunked, no Content-Length: the read stops at the cap instead of holding the whole body.
    let sent = 0;
    reg.on('/manifests/chunked', (_req, res) => {
      res.writeHead(200, { 'content-type': OCI_MANIFEST });
      const chunk = Buffer.alloc(MiB, 0x20);
      const pump = () => {
        while (sent < 64 * MiB && res.write(chunk)) sent += chunk.length;
        if (sent < 64 * MiB) res.once('drain', pump);
        else res.end();
      };
      pump();
      return true;
    });
    const chunked = await pull('', `${reg.host}/test/big:chunked`);
    expect([chunked.code, chunked.stdout, chunked.stderr]).toEqual([
      7,
      '',
      `berth: ERR_MANIFEST_TOO_LARGE: ${reg.host}/test/big:chunked: manifest larger than ${4 * MiB} bytes\n`,
    ]);
    expect(sent).toBeLessThan(64 * MiB);
    expect(await readdir(join(root, 'store/content/blobs/sha256')).catch(() => [])).toEqual([]);
  });

  it('a config of more than 4 MiB is ERR_BLOB_TOO_LARGE, exit 7, and never fetched', async () => {
    const l = await layer('one');
    const img = putImage('test/fat', [l], 'p'.repeat(4 * MiB));
    expect(img.config.size).toBeGreaterThan(4 * MiB);
    const res = await pull('', `${reg.host}/test/fat:v1`);
    expect([res.code, res.stdout, res.stderr]).toEqual([
      7,
      '',
      `berth: ERR_BLOB_TOO_LARGE: config ${img.config.digest} of ${reg.host}/test/fat:v1 is ${img.config.size} bytes (limit ${4 * MiB})\n`,
    ]);
    expect(reg.requestsTo(`/blobs/${img.config.digest}`)).toEqual([]);
    const ls = await runBerth(['--root', join(root, 'store'), 'image', 'ls', '-o', 'json']);
    expect(JSON.parse(ls.stdout)).toEqual([]);
  });
});

describe('layers are capped at 500, what overlayfs stacks', () => {
  it('a manifest of 501 layers (one small blob named each time) is ERR_TOO_MANY_LAYERS, exit 7, and nothing past it fetched', async () => {
    const bytes = tarBytes([{ name: 'f', body: 'x' }]);
    const one = { blob: gzipSync(bytes), diffId: sha256(bytes) };
    const { digest } = putImage(
      'test/deep',
      Array.from({ length: 501 }, () => one),
    );
    const res = await pull('', `${reg.host}/test/deep:v1`);
    expect([res.code, res.stdout, res.stderr]).toEqual([
      7,
      '',
      `berth: ERR_TOO_MANY_LAYERS: ${reg.host}/test/deep:v1: manifest ${digest} has 501 layers (berth takes images of at most 500, as many as overlayfs stacks)\n`,
    ]);
    expect(reg.requestsTo('/blobs/')).toEqual([]);
    const ls = await runBerth(['--root', join(root, 'store'), 'image', 'ls', '-o', 'json']);
    expect(JSON.parse(ls.stdout)).toEqual([]);
  });
});

describe('concurrency', () => {
  it('layers download 3 at a time by default, and pull.maxConcurrentDownloads at a time when set', async () => {
    const layers = await Promise.all(['a', 'b', 'c', 'd', 'e', 'f'].map(layer));
    const img = putImage('test/six', layers);
    const gate = holdBlobs(
      img.layers.map((d, i) => ({ digest: d.digest, body: layers[i]?.blob as Buffer })),
      64 * 1024,
    );
    for (const [config, want] of [
      ['', 3],
      ['pull: { maxConcurrentDownloads: 2 }\n', 2],
    ] as const) {
      await rm(join(root, 'store'), { recursive: true, force: true });
      gate.reset();
      const pulling = pull(config, '--no-unpack', `${reg.host}/test/six:v1`);
      await until(() => (gate.inFlight() === want ? true : undefined), `${want} downloads in flight`);
      // None beyond the bound starts while those are held.
      expect(await holdsFor(() => gate.inFlight() === want, 500)).toBe(true);
      // Released, the held ones let the rest start (each held in turn), never more than the bound at once.
      let done = false;
      void pulling.then(() => {
        done = true;
      });
      while (!done) {
        gate.releaseAll();
        await new Promise((r) => setTimeout(r, 20));
      }
      const res = await pulling;
      expect([res.code, res.stderr]).toEqual([0, '']);
      expect(gate.most()).toBe(want);
    }
  });

  it('layers unpack unpack.maxConcurrentLayers at a time; by default as many as the host has CPUs', async () => {
    const cpus = availableParallelism();
    const count = cpus + 1;
    const layers = await Promise.all(Array.from({ length: count }, (_, i) => layer(`layer ${i}`)));
    const img = putImage('test/many', layers);
    const snapshots = join(root, 'store/snapshots');
    /** Temp snapshots that already hold their layer's first file: unpacks under way. */
    const unpacking = async () => {
      let n = 0;
      for (const d of await readdir(snapshots).catch(() => [] as string[])) {
        if (!d.startsWith('.tmp-')) continue;
        if (await readFile(join(snapshots, d, 'fs/early'), 'utf8').catch(() => undefined)) n++;
      }
      return n;
    };
    const downloads = `pull: { maxConcurrentDownloads: ${count}, idleTimeoutSeconds: 60 }\n`;
    const gate = holdBlobs(
      img.layers.map((d, i) => ({ digest: d.digest, body: layers[i]?.blob as Buffer })),
      3 * MiB,
    );
    for (const [config, want] of [
      [downloads, cpus],
      [`${downloads}unpack: { maxConcurrentLayers: 1 }\n`, 1],
    ] as const) {
      await rm(join(root, 'store'), { recursive: true, force: true });
      gate.reset();
      const pulling = pull(config, `${reg.host}/test/many:v1`);
      // Every layer is downloading (held), yet only `want` of them unpack while the bytes land.
      await until(() => (gate.inFlight() === count ? true : undefined), 'every layer downloading');
      await until(async () => ((await unpacking()) === want ? true : undefined), `${want} unpacks under way`);
      expect(await holdsFor(async () => (await unpacking()) === want, 500)).toBe(true);
      gate.releaseAll();
      const res = await pulling;
      expect([res.code, res.stderr]).toEqual([0, '']);
      const published = (await readdir(snapshots)).filter((d) => /^[a-f0-9]{64}$/.test(d));
      expect(published).toHaveLength(count);
    }
  }, 120_000);
});
