// `berth image pull` against a registry that misbehaves on purpose: every failure is one line
// naming the reference or digest, a non-zero exit chosen by the error's kind, and nothing
// unverified in the store. A pull killed with SIGKILL mid-download is resumed by the next one.

import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ownerToken } from '../../src/lib/process.js';
import { runBerth, spawnBerth } from '../helpers/cli.js';
import {
  cutMidStream,
  type HostileRegistry,
  ignoreRange,
  putSimpleImage,
  rangeStart,
  sha256,
  startHostileRegistry,
} from '../helpers/hostile-registry.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
let reg: HostileRegistry;
let root: string;

beforeEach(async () => {
  reg = await startHostileRegistry();
  root = await mkdtemp(join(tmpdir(), 'berth-hostile-'));
  await writeFile(join(root, 'config.yaml'), 'pull: { retries: 1, idleTimeoutSeconds: 0.5 }\n');
});
afterEach(async () => {
  await reg.close();
  await rm(root, { recursive: true, force: true });
});

// The layers here are bytes, not tars: these tests are about transport and storage, so no unpack.
const pull = (ref: string) =>
  runBerth([
    '--root',
    join(root, 'store'),
    '--config',
    join(root, 'config.yaml'),
    'image',
    'pull',
    '--no-unpack',
    ref,
  ]);
const blobsInStore = async () =>
  readdir(join(root, 'store/content/blobs'), { recursive: true }).catch(() => []);
const ingestLeftovers = async () =>
  (await readdir(join(root, 'store/ingest'), { recursive: true }).catch(() => [] as string[])).filter(
    (n) => n !== 'leases' && !n.endsWith('.stamp'), // a parked partial's boot-clock stamp
  );

async function expectCleanFailure(ref: string, exitCode: number, line: RegExp) {
  const res = await pull(ref);
  expect(res.stderr).toMatch(line);
  expect(res.stderr.trim().split('\n')).toHaveLength(1);
  expect(res.code).toBe(exitCode);
  expect(res.stdout).toBe('');
  return res;
}

describe('bad content never becomes visible', () => {
  it('a layer whose bytes do not match its digest', async () => {
    const img = putSimpleImage(reg, 'test/app', 'v1', Buffer.from('the real layer'));
    reg.on(`/blobs/${img.layer.digest}`, (_req, res) => Boolean(res.writeHead(200).end('a forged layer')));
    await expectCleanFailure(
      `${reg.host}/test/app:v1`,
      6,
      new RegExp(
        `^berth: ERR_DIGEST_MISMATCH: blob ${img.layer.digest}: content has digest ${sha256('a forged layer')}\\n$`,
      ),
    );
    expect((await blobsInStore()).filter((n) => n.includes(img.layer.digest.slice(7)))).toEqual([]);
    expect(await ingestLeftovers()).toEqual([]);
    const ls = await runBerth(['--root', join(root, 'store'), 'image', 'ls', '-o', 'json']);
    expect(JSON.parse(ls.stdout)).toEqual([]);
  });

  it('a config whose bytes do not match its digest', async () => {
    const img = putSimpleImage(reg, 'test/app', 'v1', Buffer.from('layer'));
    reg.on(`/blobs/${img.config.digest}`, (_req, res) => {
      const body = '{"rootfs":{"diff_ids":["x"]}}'.padEnd(img.config.size);
      return Boolean(res.writeHead(200).end(body));
    });
    await expectCleanFailure(
      `${reg.host}/test/app:v1`,
      6,
      /^berth: ERR_DIGEST_MISMATCH: config sha256:[a-f0-9]{64} of /,
    );
    expect(await blobsInStore()).toEqual([]);
  });

  it.each([
    [
      'schema1',
      '{"schemaVersion":1,"name":"x","fsLayers":[]}',
      'application/vnd.docker.distribution.manifest.v1+prettyjws',
      2,
      'ERR_SCHEMA1',
    ],
    // containerd takes text/plain for schema1 (registry.access.redhat.com served it so)
    [
      'schema1 served as text/plain',
      '{"schemaVersion":1,"name":"x","fsLayers":[]}',
      'text/plain',
      2,
      'ERR_SCHEMA1',
    ],
    ['malformed JSON', '{"schemaVersion": 2,', OCI_MANIFEST, 6, 'ERR_MALFORMED_JSON'],
    [
      'Content-Type disagreeing with the body',
      `{"schemaVersion":2,"mediaType":"${OCI_MANIFEST}","config":{},"layers":[]}`,
      'application/vnd.docker.distribution.manifest.v2+json',
      6,
      'ERR_MEDIA_TYPE_MISMATCH',
    ],
    ['an unknown media type', '<html>hello</html>', 'text/html', 6, 'ERR_MALFORMED_JSON'],
  ])('a manifest with %s', async (_name, body, type, code, errCode) => {
    reg.putManifest('test/bad', ['v1'], body, type);
    await expectCleanFailure(
      `${reg.host}/test/bad:v1`,
      code,
      new RegExp(`^berth: ${errCode}: ${reg.host}/test/bad:v1`),
    );
    expect(await blobsInStore()).toEqual([]);
  });

  // Static registries and some proxies serve every manifest as application/json: as
  // go-containerregistry does, the body's own mediaType then says what it is (and must be a manifest
  // or an index berth reads); one that names none is refused, saying what was served.
  it('a manifest served as application/json is read by its mediaType; one without is refused', async () => {
    const img = putSimpleImage(reg, 'test/json', 'v1', Buffer.from('layer'));
    reg.putManifest('test/json', ['v1'], img.manifest, 'application/json; charset=utf-8');
    const res = await pull(`${reg.host}/test/json:v1`);
    expect([res.code, res.stderr]).toEqual([0, '']);
    const index = JSON.parse(await readFile(join(root, 'store/content/index.json'), 'utf8'));
    expect(
      index.manifests.map((m: { mediaType: string; digest: string }) => [m.mediaType, m.digest]),
    ).toEqual([[OCI_MANIFEST, img.digest]]);
    const bare = JSON.stringify({ ...JSON.parse(img.manifest), mediaType: undefined });
    reg.putManifest('test/json', ['bare'], bare, 'application/json');
    await expectCleanFailure(
      `${reg.host}/test/json:bare`,
      6,
      new RegExp(
        `^berth: ERR_MEDIA_TYPE_MISSING: ${reg.host}/test/json:bare: manifest served as application/json names no mediaType of its own\n$`,
      ),
    );
  });

  // berth fetches a foreign / non-distributable layer from the registry only, never from its
  // `urls` (a manifest must not send the host to any address it likes): when the registry does not
  // hold it, the line says so, not only "not found".
  it('a foreign layer the registry does not hold, only its urls', async () => {
    const elsewhere = await startHostileRegistry();
    try {
      const blob = gzipSync(Buffer.from('windows base layer'));
      const layer = elsewhere.putBlob('test/foreign', blob);
      const config = reg.putBlob(
        'test/foreign',
        JSON.stringify({
          os: 'linux',
          architecture: 'amd64',
          rootfs: { type: 'layers', diff_ids: [sha256('x')] },
        }),
      );
      const DOCKER = 'application/vnd.docker.distribution.manifest.v2+json';
      reg.putManifest(
        'test/foreign',
        ['v1'],
        JSON.stringify({
          schemaVersion: 2,
          mediaType: DOCKER,
          config: { mediaType: 'application/vnd.docker.container.image.v1+json', ...config },
          layers: [
            {
              mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
              ...layer,
              urls: [`${elsewhere.url}/v2/test/foreign/blobs/${layer.digest}`],
            },
          ],
        }),
        DOCKER,
      );
      await expectCleanFailure(
        `${reg.host}/test/foreign:v1`,
        3,
        new RegExp(
          `^berth: ERR_BLOB_NOT_FOUND: ${reg.host}/test/foreign blob ${layer.digest}: not found \\(a foreign layer: berth fetches it from the registry only, never from its urls\\)\\n$`,
        ),
      );
      expect(elsewhere.requests).toEqual([]);
    } finally {
      await elsewhere.close();
    }
  });

  it('an index entry served with another media type than the index says', async () => {
    const img = putSimpleImage(reg, 'test/app', 'v1', Buffer.from('layer'));
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
          digest: img.digest,
          size: img.manifest.length,
          platform: { os: 'linux', architecture: 'amd64' },
        },
      ],
    });
    reg.putManifest('test/app', ['multi'], index, 'application/vnd.oci.image.index.v1+json');
    await expectCleanFailure(
      `${reg.host}/test/app:multi`,
      6,
      /^berth: ERR_MEDIA_TYPE_MISMATCH: .* but the index says/,
    );
  });
});

describe('unreachable, unauthorised and stalling registries', () => {
  it('401 is exit 5 naming the repository', async () => {
    reg.on('/v2/', (_req, res) =>
      Boolean(res.writeHead(401, { 'www-authenticate': 'Basic realm="x"' }).end()),
    );
    await expectCleanFailure(
      `${reg.host}/test/app:v1`,
      5,
      new RegExp(`^berth: ERR_UNAUTHORIZED: ${reg.host}/test/app:v1`),
    );
  });

  it('a stalled blob is a timeout, exit 8, and keeps what arrived for the next pull', async () => {
    const layer = Buffer.alloc(3 << 20, 1);
    const img = putSimpleImage(reg, 'test/app', 'v1', layer);
    reg.on(`/blobs/${img.layer.digest}`, (_req, res) => {
      res.writeHead(200, { 'content-length': layer.length });
      res.write(layer.subarray(0, 2 << 20));
      return true; // and then nothing more
    });
    await expectCleanFailure(
      `${reg.host}/test/app:v1`,
      8,
      new RegExp(`^berth: ERR_TIMEOUT: .*blob ${img.layer.digest}`),
    );
    expect(await ingestLeftovers()).toEqual([`sha256-${img.layer.digest.slice(7)}.partial`]);
  });

  it('a registry that is not there is exit 8', async () => {
    await reg.close();
    await expectCleanFailure(`${reg.host}/test/app:v1`, 8, /^berth: ERR_REGISTRY_UNAVAILABLE: /);
  });
});

describe('kill -9 in the middle of a pull', () => {
  it('the next pull resumes the download with Range and leaves nothing behind', async () => {
    const layer = Buffer.alloc(6 << 20);
    for (let i = 0; i < layer.length; i += 4096) layer.writeUInt32LE(i, i);
    const img = putSimpleImage(reg, 'test/app', 'v1', layer);
    reg.on(`/blobs/${img.layer.digest}`, (_req, res, n) => {
      if (n > 1) return false; // later requests are served normally, honouring Range
      res.writeHead(200, { 'content-length': layer.length });
      res.write(layer.subarray(0, 3 << 20));
      return true;
    });
    const child = spawnBerth([
      '--root',
      join(root, 'store'),
      'image',
      'pull',
      '--no-unpack',
      `${reg.host}/test/app:v1`,
    ]);
    const active = await waitFor(async () => {
      const names = await ingestLeftovers();
      const name = names.find((n) => n.endsWith('.active'));
      if (!name) return undefined;
      return (await stat(join(root, 'store/ingest', name))).size >= 1 << 20 ? name : undefined;
    });
    expect(active).toMatch(
      // Named after its writer: pid, start time and boot (a reused pid never looks like it).
      new RegExp(
        `^sha256-${img.layer.digest.slice(7)}\\.${ownerToken(child.pid as number)}\\.[a-f0-9]+\\.active$`,
      ),
    );
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;

    const res = await pull(`${reg.host}/test/app:v1`);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const blobRequests = reg.requests.filter((r) => r.path.includes(`/blobs/${img.layer.digest}`));
    expect(blobRequests).toHaveLength(2);
    const resumedFrom = Number(/^bytes=(\d+)-$/.exec(blobRequests[1]?.headers.range ?? '')?.[1]);
    expect(resumedFrom).toBeGreaterThanOrEqual(1 << 20);
    expect(await ingestLeftovers()).toEqual([]);
    expect(await readdir(join(root, 'store/ingest/leases'))).toEqual([]);
    const ls = JSON.parse(
      (await runBerth(['--root', join(root, 'store'), 'image', 'ls', '-o', 'json'])).stdout,
    );
    expect(ls.map((i: { name: string }) => i.name)).toEqual([`${reg.host}/test/app:v1`]);
  });
});

describe('two pulls of one image at once', () => {
  const pullArgs = (ref: string) => [
    ...['--root', join(root, 'store'), '--config', join(root, 'config.yaml')],
    ...['image', 'pull', '--no-unpack', ref],
  ];
  const layerOf = () => {
    const layer = Buffer.alloc(4 << 20);
    for (let i = 0; i < layer.length; i += 4096) layer.writeUInt32LE(i, i);
    return layer;
  };
  const activeFile = () => waitFor(async () => (await ingestLeftovers()).find((n) => n.endsWith('.active')));
  const gets = (digest: string) =>
    reg.requests.filter((r) => r.method === 'GET' && r.path.includes(`/blobs/${digest}`));

  it("the second waits for the first's download of a layer instead of fetching it again", async () => {
    const layer = layerOf();
    const img = putSimpleImage(reg, 'test/app', 'v1', layer);
    reg.on(`/blobs/${img.layer.digest}`, (_req, res, n) => {
      if (n > 1) return false;
      res.writeHead(200, { 'content-length': layer.length });
      let sent = 0;
      const tick = setInterval(() => {
        res.write(layer.subarray(sent, sent + (512 << 10)));
        sent += 512 << 10;
        if (sent >= layer.length) {
          clearInterval(tick);
          res.end();
        }
      }, 150);
      return true;
    });
    const first = spawnBerth(pullArgs(`${reg.host}/test/app:v1`));
    const firstDone = new Promise<number | null>((r) => first.once('exit', r));
    await activeFile();
    const second = await runBerth(pullArgs(`${reg.host}/test/app:v1`));
    expect([second.code, second.stderr]).toEqual([0, '']);
    expect(await firstDone).toBe(0);
    expect(gets(img.layer.digest)).toHaveLength(1);
    expect(await ingestLeftovers()).toEqual([]);
  });

  it('the first killed while the second waits: the second fetches the rest itself, resuming it', async () => {
    const layer = layerOf();
    const img = putSimpleImage(reg, 'test/app', 'v1', layer);
    reg.on(`/blobs/${img.layer.digest}`, (_req, res, n) => {
      if (n > 1) return false;
      res.writeHead(200, { 'content-length': layer.length });
      res.write(layer.subarray(0, 2 << 20));
      // Then a trickle, so the first never gives up on it (idleTimeoutSeconds) before it is killed.
      let sent = 2 << 20;
      const trickle = setInterval(() => {
        res.write(layer.subarray(sent, sent + 64));
        sent += 64;
      }, 100);
      res.once('close', () => clearInterval(trickle));
      return true;
    });
    const first = spawnBerth(pullArgs(`${reg.host}/test/app:v1`));
    const firstGone = new Promise((r) => first.once('exit', r));
    const active = await activeFile();
    await waitFor(async () =>
      ((await stat(join(root, 'store/ingest', active)).catch(() => undefined))?.size ?? 0) >= 1 << 20
        ? true
        : undefined,
    );
    const second = spawnBerth(pullArgs(`${reg.host}/test/app:v1`));
    let stderr = '';
    second.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const secondDone = new Promise<number | null>((r) => second.once('exit', r));
    // It has reached the layer (its lease names it) and waits on the first meanwhile.
    const leases = join(root, 'store/ingest/leases');
    const token = ownerToken(second.pid as number);
    await waitFor(async () => {
      for (const n of await readdir(leases).catch(() => [] as string[]))
        if (n.startsWith(`${token}-`) && (await readFile(join(leases, n), 'utf8')).includes(img.layer.digest))
          return true;
      return undefined;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(gets(img.layer.digest)).toHaveLength(1);
    first.kill('SIGKILL');
    await firstGone;
    const res = { code: await secondDone, stderr };
    expect([res.code, res.stderr]).toEqual([0, '']);
    const requests = gets(img.layer.digest);
    expect(requests).toHaveLength(2);
    const resumedFrom = Number(/^bytes=(\d+)-$/.exec(requests[1]?.headers.range ?? '')?.[1]);
    expect(resumedFrom).toBeGreaterThanOrEqual(1 << 20); // what the first had written, parked
    // Only, at most, the killed one's lease: the next store user sweeps it (it holds nothing).
    expect((await ingestLeftovers()).filter((n) => !n.startsWith('leases/'))).toEqual([]);
  });
});

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('condition not reached in time');
}

describe('unpacking during pull', () => {
  it('a layer whose uncompressed digest is not its diffID fails the pull and leaves no snapshot', async () => {
    const tarBytes = Buffer.alloc(1024); // an empty tar: two zero blocks
    const layer = reg.putBlob('test/app', gzipSync(tarBytes));
    const config = reg.putBlob(
      'test/app',
      JSON.stringify({
        os: 'linux',
        architecture: 'amd64',
        rootfs: { type: 'layers', diff_ids: [sha256('not it')] },
      }),
    );
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
    });
    reg.putManifest('test/app', ['v1'], manifest, OCI_MANIFEST);
    const res = await runBerth(['--root', join(root, 'store'), 'image', 'pull', `${reg.host}/test/app:v1`]);
    expect(res.stderr).toBe(
      `berth: ERR_DIFFID_MISMATCH: layer ${layer.digest} of ${reg.host}/test/app:v1: uncompressed content has digest ${sha256(tarBytes)}, config says ${sha256('not it')}\n`,
    );
    expect(res.code).toBe(6);
    expect(await readdir(join(root, 'store/snapshots'))).toEqual([]);
    const ls = await runBerth(['--root', join(root, 'store'), 'image', 'ls', '-o', 'json']);
    expect(JSON.parse(ls.stdout)).toEqual([]);
  });
});

/** A layer that unpacks to `early` (a small file at the start) and `late` (8 MiB that do not compress). */
async function twoFileLayer(): Promise<{ tar: Buffer; late: Buffer }> {
  const late = randomBytes(8 << 20);
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((r) => pack.on('end', () => r()));
  pack.entry({ name: 'early', mode: 0o644 }, 'first in the stream\n');
  pack.entry({ name: 'late', mode: 0o644 }, late);
  pack.finalize();
  await done;
  return { tar: Buffer.concat(chunks), late };
}

describe('unpacking while the blob downloads', () => {
  const store = () => join(root, 'store');
  const pullUnpacking = async (ref: string) => {
    await writeFile(join(root, 'patient.yaml'), 'pull: { retries: 1, idleTimeoutSeconds: 30 }\n');
    return runBerth(['--root', store(), '--config', join(root, 'patient.yaml'), 'image', 'pull', ref]);
  };
  const snapshotDirs = async () => readdir(join(store(), 'snapshots')).catch(() => [] as string[]);

  it('files appear in the snapshot being built before the download ends, and it is published after', async () => {
    const { tar: tarBytes, late } = await twoFileLayer();
    const blob = gzipSync(tarBytes, { level: 1 });
    const img = putSimpleImage(reg, 'test/app', 'v1', blob, sha256(tarBytes));
    let release!: () => void;
    const released = new Promise<void>((r) => {
      release = r;
    });
    reg.on(`/blobs/${img.layer.digest}`, (_req, res) => {
      res.writeHead(200, { 'content-length': blob.length });
      res.write(blob.subarray(0, 3 << 20));
      void released.then(() => res.end(blob.subarray(3 << 20)));
      return true;
    });
    const pulling = pullUnpacking(`${reg.host}/test/app:v1`);
    // While the server holds back the rest, the temp snapshot already has the first file.
    const early = await waitFor(async () => {
      for (const d of await snapshotDirs()) {
        if (!d.startsWith('.tmp-')) continue;
        const text = await readFile(join(store(), 'snapshots', d, 'fs/early'), 'utf8').catch(() => undefined);
        if (text) return text;
      }
      return undefined;
    });
    expect(early).toBe('first in the stream\n');
    expect(await blobsInStore()).not.toContain(`sha256/${img.layer.digest.slice(7)}`);
    release();
    const res = await pulling;
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const published = (await snapshotDirs()).filter((d) => /^[a-f0-9]{64}$/.test(d));
    expect(published).toEqual([sha256(tarBytes).slice(7)]);
    const fs = join(store(), 'snapshots', published[0] as string, 'fs');
    expect(await readFile(join(fs, 'late'))).toEqual(late);
  });

  it('a blob that unpacks cleanly but fails its digest publishes nothing', async () => {
    const { tar: tarBytes } = await twoFileLayer();
    const blob = gzipSync(tarBytes, { level: 1 });
    const img = putSimpleImage(reg, 'test/app', 'v1', blob, sha256(tarBytes));
    // Same size, same uncompressed tar (the gzip header's mtime differs): only the digest can tell.
    const lie = Buffer.from(blob);
    lie.writeUInt32LE(12345, 4);
    reg.on(`/blobs/${img.layer.digest}`, (_req, res) => Boolean(res.writeHead(200).end(lie)));
    const res = await pullUnpacking(`${reg.host}/test/app:v1`);
    expect(res.stderr).toBe(
      `berth: ERR_DIGEST_MISMATCH: blob ${img.layer.digest}: content has digest ${sha256(lie)}\n`,
    );
    expect(res.code).toBe(6);
    expect(await snapshotDirs()).toEqual([]);
    expect(await blobsInStore()).not.toContain(`sha256/${img.layer.digest.slice(7)}`);
  });

  it('a download that starts over (Range ignored after a cut) still unpacks exactly', async () => {
    const { tar: tarBytes, late } = await twoFileLayer();
    const blob = gzipSync(tarBytes, { level: 1 });
    const img = putSimpleImage(reg, 'test/app', 'v1', blob, sha256(tarBytes));
    reg.on(`/blobs/${img.layer.digest}`, cutMidStream(blob, 5 << 20, 1));
    reg.on(`/blobs/${img.layer.digest}`, ignoreRange(blob));
    const res = await pullUnpacking(`${reg.host}/test/app:v1`);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const requests = reg.requestsTo(`/blobs/${img.layer.digest}`);
    expect(requests).toHaveLength(2);
    expect(rangeStart({ headers: requests[1]?.headers ?? {} } as never)).toBeGreaterThan(0);
    const fs = join(store(), 'snapshots', sha256(tarBytes).slice(7), 'fs');
    expect(await readFile(join(fs, 'late'))).toEqual(late);
    expect(await readFile(join(fs, 'early'), 'utf8')).toBe('first in the stream\n');
  });
});
