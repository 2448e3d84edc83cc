// Registry mirrors from the host config (containerd's hosts.toml model), against two real
// docker-registry processes on loopback and a recording one: mirrors are tried in order, one that is
// down or lacks the image is passed over for the next and then the registry itself, repository paths
// are rewritten, `_default` serves registries without an entry, capabilities decide what is asked
// where, headers go to their host, and the pull's output names the mirror that served it.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import { freePort } from '../helpers/free-port.js';
import {
  failTimes,
  type HostileRegistry,
  serveBody,
  startHostileRegistry,
} from '../helpers/hostile-registry.js';
import { buildImage, createLayout, type Layout, populateRandom, pushImage } from '../helpers/images.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['docker-registry', 'skopeo', 'umoci', 'openssl']);

describe.skipIf(skip)('registry mirrors', () => {
  let origin: TestRegistry;
  let mirror: TestRegistry;
  let recorder: HostileRegistry;
  let layout: Layout;
  let work: string;
  let dead: string;
  let n = 0;
  const pull = async (config: string, ref: string) => {
    const file = join(work, `config-${++n}.yaml`);
    await writeFile(file, config);
    return runBerth([
      '--root',
      join(work, `root-${n}`),
      '--config',
      file,
      'image',
      'pull',
      '--no-unpack',
      ref,
    ]);
  };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-mirrors-'));
    [origin, mirror, recorder] = await Promise.all([
      startRegistry(),
      startRegistry(),
      startHostileRegistry(),
    ]);
    dead = `127.0.0.1:${await freePort()}`; // nothing listens there
    layout = await createLayout();
    await buildImage(layout, 'app', [populateRandom(1, 1000)]);
    await pushImage(layout, 'app', `${origin.host}/test/app:1`);
    await pushImage(layout, 'app', `${origin.host}/test/only-origin:1`);
    await pushImage(layout, 'app', `${mirror.host}/mirror/test/app:1`);
    await pushImage(layout, 'app', `${mirror.host}/mirror/test/only-mirror:1`);
    // The recording mirror holds the blobs (as a pull-through cache would) but resolves no tag.
    const ociDir = join(layout.dir, 'oci');
    const index = JSON.parse(await readFile(join(ociDir, 'index.json'), 'utf8'));
    const desc = index.manifests.find(
      (m: { annotations?: Record<string, string> }) =>
        m.annotations?.['org.opencontainers.image.ref.name'] === 'app',
    );
    const manifestBytes = await readFile(join(ociDir, 'blobs/sha256', desc.digest.slice(7)));
    const manifest = JSON.parse(manifestBytes.toString());
    recorder.putManifest('test/app', [], manifestBytes, desc.mediaType);
    for (const b of [manifest.config, ...manifest.layers]) {
      recorder.putBlob('test/app', await readFile(join(ociDir, 'blobs/sha256', b.digest.slice(7))));
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.all([origin?.stop(), mirror?.stop(), recorder?.close()]);
    await layout?.cleanup();
    if (work) await removeTempRoot(work);
  });

  const withMirrors = (registry: string, mirrors: string) =>
    `registries:\n  "${registry}":\n    mirrors:\n${mirrors}`;
  const rewriting = (host: string) =>
    `      - host: "${host}"\n        rewrite: { "^test/": "mirror/test/" }\n`;

  it('passes over a mirror that is down and pulls from the next one, path rewritten; the output names it', async () => {
    const r = await pull(
      withMirrors(origin.host, `      - host: "${dead}"\n${rewriting(mirror.host)}`),
      `${origin.host}/test/only-mirror:1`,
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(
      new RegExp(
        `^pulled ${origin.host}/test/only-mirror:1 \\(sha256:[a-f0-9]{64}\\) from mirror ${mirror.host}, `,
      ),
    );
  });

  it('falls through to the registry itself when no mirror has the image, and says nothing of mirrors', async () => {
    const r = await pull(
      withMirrors(origin.host, rewriting(mirror.host)),
      `${origin.host}/test/only-origin:1`,
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(
      new RegExp(`^pulled ${origin.host}/test/only-origin:1 \\(sha256:[a-f0-9]{64}\\), `),
    );
  });

  it("reports the registry's own error when every endpoint fails", async () => {
    const r = await pull(withMirrors(origin.host, rewriting(mirror.host)), `${origin.host}/test/nowhere:1`);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(new RegExp(`^berth: ERR_MANIFEST_NOT_FOUND: .*${origin.host}/test/nowhere:1`));
  });

  it('uses the _default mirrors for a registry without an entry of its own', async () => {
    const r = await pull(
      `registries:\n  _default:\n    mirrors:\n${rewriting(mirror.host)}`,
      `${dead}/test/app:1`,
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(
      new RegExp(`^pulled ${dead}/test/app:1 \\(sha256:[a-f0-9]{64}\\) from mirror ${mirror.host}, `),
    );
  });

  it("verifies what a mirror serves as it would the registry's: a tampered layer is refused by its digest, and nothing is named", async () => {
    const liar = await startHostileRegistry();
    try {
      const ociDir = join(layout.dir, 'oci');
      const index = JSON.parse(await readFile(join(ociDir, 'index.json'), 'utf8'));
      const desc = index.manifests.find(
        (m: { annotations?: Record<string, string> }) =>
          m.annotations?.['org.opencontainers.image.ref.name'] === 'app',
      );
      const manifest = JSON.parse(
        (await readFile(join(ociDir, 'blobs/sha256', desc.digest.slice(7)))).toString(),
      );
      const layer = manifest.layers[0] as { digest: string };
      const config = manifest.config as { digest: string };
      liar.putBlob('test/app', await readFile(join(ociDir, 'blobs/sha256', config.digest.slice(7))));
      // The layer's own length, one byte changed: only its digest can tell.
      const tampered = Buffer.from(await readFile(join(ociDir, 'blobs/sha256', layer.digest.slice(7))));
      tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 0xff;
      liar.on(`/blobs/${layer.digest}`, serveBody(tampered, { 'content-length': tampered.length }));
      const root = join(work, `root-${n + 1}`);
      const r = await pull(
        withMirrors(origin.host, `      - host: "${liar.host}"\n        capabilities: [pull]\n`),
        `${origin.host}/test/app:1`,
      );
      expect(liar.requestsTo(`/blobs/${layer.digest}`).length).toBeGreaterThan(0);
      expect([r.code, r.stdout]).toEqual([6, '']);
      expect(r.stderr).toMatch(
        new RegExp(
          `^berth: ERR_DIGEST_MISMATCH: blob ${layer.digest}: content has digest sha256:[a-f0-9]{64} \\(served by mirror ${liar.host.replace(/\./g, '\\.')}\\) \\(the mirror ${liar.host.replace(/\./g, '\\.')} serves other bytes than the digest names: fix or remove it in the host config\\)\\n$`,
        ),
      );
      const ls = await runBerth(['--root', root, 'image', 'ls', '--output', 'json']);
      expect([ls.code, ls.stdout]).toEqual([0, '[]\n']);
      expect(existsSync(join(root, 'content/blobs/sha256', layer.digest.slice(7)))).toBe(false);
    } finally {
      await liar.close();
    }
  });

  it('retries a failing mirror once, then passes over it to the registry', async () => {
    const flaky = await startHostileRegistry();
    try {
      flaky.on('/v2/test/app/manifests/', failTimes(503, 1000));
      const r = await pull(
        withMirrors(origin.host, `      - host: "${flaky.host}"\n`),
        `${origin.host}/test/app:1`,
      );
      expect([r.code, r.stderr]).toEqual([0, '']);
      expect(r.stdout).toMatch(new RegExp(`^pulled ${origin.host}/test/app:1 \\(sha256:[a-f0-9]{64}\\), `));
      expect(flaky.requestsTo('/v2/test/app/manifests/1').length).toBe(2);
    } finally {
      await flaky.close();
    }
  });

  it('asks a pull-only mirror for blobs but never to resolve a tag, with its headers', async () => {
    const config = withMirrors(
      origin.host,
      `      - host: "${recorder.host}"\n        capabilities: [pull]\n        headers: { X-Mirror-Token: abc }\n`,
    );
    const r = await pull(config, `${origin.host}/test/app:1`);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(new RegExp(`^pulled ${origin.host}/test/app:1 \\(sha256:[a-f0-9]{64}\\), `));
    expect(recorder.requestsTo('/manifests/1')).toEqual([]);
    const blobs = recorder.requestsTo('/v2/test/app/blobs/');
    expect(blobs.length).toBe(2); // config and the layer, both from the mirror
    expect(blobs.map((b) => b.headers['x-mirror-token'])).toEqual(['abc', 'abc']);
  });

  it("sends each host's headers to that host only: not to the registry itself, not to another mirror", async () => {
    const [home, empty, cache] = await Promise.all([
      startHostileRegistry(),
      startHostileRegistry(),
      startHostileRegistry(),
    ]);
    try {
      // home: the registry itself (manifest and blobs); empty: a mirror without the image (404s);
      // cache: a pull-only mirror holding the blobs.
      const ociDir = join(layout.dir, 'oci');
      const index = JSON.parse(await readFile(join(ociDir, 'index.json'), 'utf8'));
      const desc = index.manifests.find(
        (m: { annotations?: Record<string, string> }) =>
          m.annotations?.['org.opencontainers.image.ref.name'] === 'app',
      );
      const manifestBytes = await readFile(join(ociDir, 'blobs/sha256', desc.digest.slice(7)));
      const manifest = JSON.parse(manifestBytes.toString());
      home.putManifest('test/app', ['1'], manifestBytes, desc.mediaType);
      for (const b of [manifest.config, ...manifest.layers]) {
        const bytes = await readFile(join(ociDir, 'blobs/sha256', b.digest.slice(7)));
        home.putBlob('test/app', bytes);
        cache.putBlob('test/app', bytes);
      }
      const config =
        `registries:\n  "${home.host}":\n    headers: { X-Home: h }\n    mirrors:\n` +
        `      - host: "${empty.host}"\n        headers: { X-Empty: e }\n` +
        `      - host: "${cache.host}"\n        capabilities: [pull]\n        headers: { X-Cache: c }\n`;
      const r = await pull(config, `${home.host}/test/app:1`);
      expect([r.code, r.stderr]).toEqual([0, '']);
      const ours = (rec: HostileRegistry) =>
        rec.requests.map((q) => ({
          path: q.path.replace(/sha256:[0-9a-f]{64}/, 'D'),
          home: q.headers['x-home'],
          empty: q.headers['x-empty'],
          cache: q.headers['x-cache'],
        }));
      const only = (key: 'home' | 'empty' | 'cache', value: string) => (path: string) => ({
        path,
        home: undefined,
        empty: undefined,
        cache: undefined,
        [key]: value,
      });
      // The tag is resolved at home after the empty mirror's 404; blobs come from the cache.
      expect(ours(home)).toEqual(['/v2/test/app/manifests/1'].map(only('home', 'h')));
      expect(
        ours(empty)
          .map((q) => q.path)
          .filter((p) => p.startsWith('/v2/test/')),
      ).toEqual(['/v2/test/app/manifests/1', '/v2/test/app/blobs/D', '/v2/test/app/blobs/D']);
      expect(ours(empty)).toEqual(ours(empty).map((q) => only('empty', 'e')(q.path)));
      expect(ours(cache)).toEqual(['/v2/test/app/blobs/D', '/v2/test/app/blobs/D'].map(only('cache', 'c')));
    } finally {
      await Promise.all([home.close(), empty.close(), cache.close()]);
    }
  });

  describe('TLS to a mirror: CA bundle, client certificate, skipVerify', () => {
    let tlsMirror: HostileRegistry;
    let pki: string;
    const pem = (name: string) => join(pki, name);
    beforeAll(async () => {
      pki = join(work, 'pki');
      const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: work, stdio: 'ignore' });
      execFileSync('mkdir', ['-p', pki]);
      ssl(
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        pem('ca.key'),
        '-out',
        pem('ca.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=berth-test-ca',
      );
      const signed = (name: string, ext: string) => {
        ssl(
          'req',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-keyout',
          pem(`${name}.key`),
          '-out',
          pem(`${name}.csr`),
          '-subj',
          `/CN=${name}`,
        );
        execFileSync('sh', ['-c', `printf '%s\n' "$1" > "$2"`, 'sh', ext, pem(`${name}.ext`)]);
        ssl(
          'x509',
          '-req',
          '-in',
          pem(`${name}.csr`),
          '-CA',
          pem('ca.pem'),
          '-CAkey',
          pem('ca.key'),
          '-CAcreateserial',
          '-out',
          pem(`${name}.pem`),
          '-days',
          '1',
          '-extfile',
          pem(`${name}.ext`),
        );
      };
      signed('server', 'subjectAltName=IP:127.0.0.1');
      signed('client', 'extendedKeyUsage=clientAuth');
      tlsMirror = await startHostileRegistry({
        tls: {
          key: await readFile(pem('server.key')),
          cert: await readFile(pem('server.pem')),
          ca: await readFile(pem('ca.pem')),
          requestCert: true,
          rejectUnauthorized: true,
        },
      });
      const ociDir = join(layout.dir, 'oci');
      const index = JSON.parse(await readFile(join(ociDir, 'index.json'), 'utf8'));
      const desc = index.manifests.find(
        (m: { annotations?: Record<string, string> }) =>
          m.annotations?.['org.opencontainers.image.ref.name'] === 'app',
      );
      const manifestBytes = await readFile(join(ociDir, 'blobs/sha256', desc.digest.slice(7)));
      tlsMirror.putManifest('test/app', ['1'], manifestBytes, desc.mediaType);
      for (const b of [
        JSON.parse(manifestBytes.toString()).config,
        ...JSON.parse(manifestBytes.toString()).layers,
      ]) {
        tlsMirror.putBlob('test/app', await readFile(join(ociDir, 'blobs/sha256', b.digest.slice(7))));
      }
    }, 60_000);
    afterAll(async () => {
      await tlsMirror?.close();
    });
    const tlsConfig = (settings: string) =>
      withMirrors(dead, `      - host: "${tlsMirror.host}"\n${settings}`);

    it('pulls over TLS with the CA bundle and the client certificate', async () => {
      const r = await pull(
        tlsConfig(
          `        ca: ${pem('ca.pem')}\n        clientCert: ${pem('client.pem')}\n        clientKey: ${pem('client.key')}\n`,
        ),
        `${dead}/test/app:1`,
      );
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(
        new RegExp(`^pulled ${dead}/test/app:1 \\(sha256:[a-f0-9]{64}\\) from mirror ${tlsMirror.host}, `),
      );
    });

    it('with skipVerify instead of the CA bundle too', async () => {
      const r = await pull(
        tlsConfig(
          `        skipVerify: true\n        clientCert: ${pem('client.pem')}\n        clientKey: ${pem('client.key')}\n`,
        ),
        `${dead}/test/app:1`,
      );
      expect(r.stdout).toMatch(/ from mirror /);
    });

    it('refuses a mirror it cannot verify, or that wants a certificate it was not given, and falls through', async () => {
      const before = tlsMirror.requests.length;
      for (const settings of [
        `        clientCert: ${pem('client.pem')}\n        clientKey: ${pem('client.key')}\n`,
        `        ca: ${pem('ca.pem')}\n`,
      ]) {
        const r = await pull(tlsConfig(settings), `${dead}/test/app:1`);
        expect(r.code).not.toBe(0);
        expect(r.stderr).toMatch(new RegExp(`^berth: ERR_REGISTRY_UNAVAILABLE: ${dead}`));
      }
      expect(tlsMirror.requests.length).toBe(before); // no request got through the handshake
    });
  });
});
