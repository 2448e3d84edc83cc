// A mirror whose manifest fails its digest is not passed over for the next endpoint: the pull fails
// naming the mirror (as for a blob), where a mirror that is down or lacks the image is passed over.
import { describe, expect, it } from 'vitest';
import { BerthError } from '../../src/lib/errors.js';
import { createMirroredClient, type Endpoint } from '../../src/registry/mirrors.js';
import type { RegistryClient } from '../../src/registry/types.js';

const fails = (err: Error): RegistryClient => ({
  ping: async () => undefined,
  getManifest: async () => {
    throw err;
  },
  fetchBlob: async () => undefined,
  close: async () => undefined,
});
const served = {
  bytes: Buffer.from('{}'),
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: 'sha256:00',
};
const origin: Endpoint = {
  host: 'registry.lan',
  client: { ...fails(new Error('unused')), getManifest: async () => served as never },
  capabilities: new Set(['pull', 'resolve']),
  repository: (p) => p,
  origin: true,
};
const mirror = (err: Error): Endpoint => ({
  host: 'mirror.lan',
  client: fails(err),
  capabilities: new Set(['pull', 'resolve']),
  repository: (p) => p,
  origin: false,
});
const repo = { registry: 'registry.lan', repository: 'app' };

describe('mirrors and integrity', () => {
  it('a mirror that is down is passed over for the registry', async () => {
    const c = createMirroredClient(
      () => [mirror(new BerthError('ERR_REGISTRY_UNAVAILABLE', 'unavailable', 'down')), origin],
      async () => undefined,
    );
    await expect(c.getManifest(repo, 'v1')).resolves.toMatchObject({ digest: 'sha256:00' });
  });

  it('a manifest that fails its digest at a mirror fails the pull, naming the mirror', async () => {
    const lie = new BerthError(
      'ERR_DIGEST_MISMATCH',
      'integrity',
      'registry.lan/app@sha256:aa: manifest has digest sha256:bb, requested digest is sha256:aa',
    );
    const c = createMirroredClient(
      () => [mirror(lie), origin],
      async () => undefined,
    );
    await expect(c.getManifest(repo, 'sha256:aa')).rejects.toMatchObject({
      code: 'ERR_DIGEST_MISMATCH',
      message: `${lie.message} (served by mirror mirror.lan)`,
    });
  });
});
