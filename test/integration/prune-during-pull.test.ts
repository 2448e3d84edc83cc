// `berth image prune` while a real `berth image pull` is under way: the pull's last layer is held
// mid-body by the registry, so its first layers are fetched and unpacked but the image is not named
// yet. Prune must not take them (the pull holds a lease; GC waits for it), then returns once the
// pull is done, and the image is whole.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootId, processStartTime } from '../../src/lib/process.js';
import { runBerth, spawnBerth } from '../helpers/cli.js';
import { chainIdsOf, fsckStore } from '../helpers/fsck.js';
import { type HostileRegistry, startHostileRegistry } from '../helpers/hostile-registry.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { buildRawImage, gzipLayer, sha256 } from '../helpers/tar-bytes.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['tar'], { root: true });

/** Poll `probe` until it is true, for at most `ms`; fails with `what` otherwise. */
async function waitFor(what: string, probe: () => Promise<boolean> | boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`not reached in ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Run {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exited: Promise<number | null>;
}

function start(args: string[]): Run {
  const child = spawnBerth(args);
  const run: Run = { child, stdout: '', stderr: '', exited: Promise.resolve(null) };
  child.stdout?.on('data', (d: Buffer) => {
    run.stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    run.stderr += d.toString();
  });
  run.exited = new Promise((r) => child.once('exit', (code) => r(code)));
  return run;
}

const ls = async (dir: string) => (await readdir(dir).catch(() => [] as string[])).sort();

describe.skipIf(skip)('image prune during a pull', () => {
  let reg: HostileRegistry;
  let work: string;
  const started: Run[] = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-prune-pull-'));
    reg = await startHostileRegistry();
  });
  afterAll(async () => {
    for (const r of started)
      if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
    for (const r of started) await r.exited;
    await reg?.close();
    await removeTempRoot(work);
  });

  it('keeps what the pull fetched and unpacked, waits for it, and the image comes out whole', async () => {
    const root = join(work, 'store');
    const layers = [
      gzipLayer([
        { name: 'one/', type: 'directory' },
        { name: 'one/a', body: 'first layer\n' },
      ]),
      gzipLayer([
        { name: 'two/', type: 'directory' },
        { name: 'two/b', body: 'second layer\n' },
      ]),
      // Does not compress: the held half is a real part of the body.
      gzipLayer([
        { name: 'three/', type: 'directory' },
        { name: 'three/c', body: randomBytes(2 ** 20) },
      ]),
    ];
    const image = buildRawImage(layers);
    for (const l of layers) reg.putBlob('test/held', l.blob);
    reg.putBlob('test/held', image.config);
    const manifestDigest = reg.putManifest(
      'test/held',
      ['1'],
      image.manifest,
      'application/vnd.oci.image.manifest.v1+json',
    );
    const digests = layers.map((l) => sha256(l.blob));
    const chain = chainIdsOf(layers.map((l) => l.diffId));
    const held = layers[2]?.blob as Buffer;

    // The last layer: headers and half its bytes, then nothing until the test releases it.
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let halfSent = false;
    reg.on(`/blobs/${digests[2]}`, (_req, res) => {
      res.writeHead(200, { 'content-length': held.length, 'content-type': 'application/octet-stream' });
      res.write(held.subarray(0, held.length / 2), () => {
        halfSent = true;
      });
      void gate.then(() => res.end(held.subarray(held.length / 2)));
      return true;
    });

    const ref = `${reg.host}/test/held:1`;
    const pull = start(['--root', root, 'image', 'pull', ref]);
    started.push(pull);
    const blobs = () => ls(join(root, 'content', 'blobs', 'sha256'));
    const published = async () => (await ls(join(root, 'snapshots'))).filter((n) => !n.startsWith('.'));
    const hex = (d: string) => d.slice('sha256:'.length);
    // Layers 1 and 2 fetched and unpacked, layer 3 half sent: the image is not named yet.
    await waitFor('first two layers fetched and unpacked, the last one half sent', async () => {
      const b = await blobs();
      const s = await published();
      // Both snapshots: layers unpack side by side, so the second may be published before the first.
      return (
        halfSent &&
        b.includes(hex(digests[1] as string)) &&
        s.includes(hex(chain[0] as string)) &&
        s.includes(hex(chain[1] as string))
      );
    });
    expect(pull.child.exitCode).toBe(null);
    const blobsBefore = await blobs();
    const snapshotsBefore = await published();
    expect(blobsBefore).toEqual(
      [hex(sha256(image.config)), hex(digests[0] as string), hex(digests[1] as string)].sort(),
    );
    expect(snapshotsBefore).toEqual([hex(chain[0] as string), hex(chain[1] as string)].sort());
    expect(JSON.parse((await runBerth(['--root', root, 'image', 'ls', '-o', 'json'])).stdout)).toEqual([]);

    // A dead process's lease: every pass of GC reads the leases and deletes it, so its going shows
    // that prune has looked at the pull's live lease (and not yet finished).
    const leases = join(root, 'ingest', 'leases');
    const start0 = Number(processStartTime(process.pid));
    const stale = `${process.pid}-${start0 + 1}-${bootId()}-0000beef.lease`;
    await writeFile(join(leases, stale), `${digests[0]}\n`);
    const prune = start(['--root', root, 'image', 'prune', '-o', 'json']);
    started.push(prune);
    let releasedAtPruneExit: boolean | undefined;
    let released = false;
    void prune.exited.then(() => {
      releasedAtPruneExit = released;
    });
    await waitFor(
      'prune read the leases',
      async () => !(await ls(leases)).includes(stale) || prune.child.exitCode !== null,
    );
    // Prune saw the pull's lease: it waits, and has taken nothing.
    expect(prune.child.exitCode).toBe(null);
    expect(await blobs()).toEqual(blobsBefore);
    expect(await published()).toEqual(snapshotsBefore);

    released = true;
    release();
    expect(await pull.exited).toBe(0);
    expect(pull.stderr).toBe('');
    expect(await prune.exited).toBe(0);
    expect(releasedAtPruneExit).toBe(true); // prune returned only after the pull was let go
    expect(prune.stderr).toBe('');
    // By then the image was named: prune found nothing to take.
    expect(JSON.parse(prune.stdout)).toEqual({ removedBlobs: [], freedBytes: 0, removedSnapshots: [] });

    expect(await blobs()).toEqual(
      [hex(manifestDigest), hex(sha256(image.config)), ...digests.map(hex)].sort(),
    );
    expect(await published()).toEqual(chain.map(hex).sort());
    const inspect = await runBerth(['--root', root, 'image', 'inspect', ref]);
    expect(inspect.code).toBe(0);
    expect(JSON.parse(inspect.stdout)).toMatchObject({ name: ref, digest: manifestDigest, layers: 3 });
    expect(await fsckStore(root, { noDeadTemps: true })).toEqual([]);
  });
});
