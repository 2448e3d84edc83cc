// resolveImage (pull/resolve.ts) bounds an image's layers at MAX_IMAGE_LAYERS, what overlayfs
// stacks, before anything past the manifest is fetched: a manifest naming one small blob 25,000
// times made as many snapshots, each unpacked over all those below it.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Digest } from '../../src/oci/digest.js';
import { MediaType } from '../../src/oci/media-types.js';
import { parsePlatform } from '../../src/oci/platform.js';
import { parseReference } from '../../src/oci/reference.js';
import { resolveImage } from '../../src/pull/resolve.js';
import type { FetchedManifest, RegistryClient } from '../../src/registry/types.js';

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}` as Digest;
const LAYER = { mediaType: MediaType.ociLayerGzip, digest: sha256(Buffer.from('layer')), size: 5 };
const CONFIG = { mediaType: MediaType.ociConfig, digest: sha256(Buffer.from('config')), size: 6 };

/** A registry serving one manifest of `count` layers (one blob named each time) at any target. */
function registryOf(count: number): { client: RegistryClient; manifest: FetchedManifest; asked: string[] } {
  const bytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: CONFIG,
      layers: Array.from({ length: count }, () => LAYER),
    }),
  );
  const manifest = { bytes, mediaType: MediaType.ociManifest, digest: sha256(bytes) };
  const asked: string[] = [];
  const client: RegistryClient = {
    ping: async () => {},
    getManifest: async (_repo, target) => {
      asked.push(`manifest ${target}`);
      return manifest;
    },
    fetchBlob: async (_repo, desc) => {
      asked.push(`blob ${desc.digest}`);
    },
    close: async () => {},
  };
  return { client, manifest, asked };
}

/** overlayfs's OVL_MAX_STACK. */
const MAX_IMAGE_LAYERS = 500;
const ref = parseReference('registry.test/many/layers:v1');
const AMD64 = parsePlatform('linux/amd64');

describe('an image of more layers than overlayfs stacks', () => {
  it(`takes ${MAX_IMAGE_LAYERS} layers`, async () => {
    const { client } = registryOf(MAX_IMAGE_LAYERS);
    expect((await resolveImage(client, ref, AMD64)).manifest.layers).toHaveLength(MAX_IMAGE_LAYERS);
  });

  it('refuses one more with ERR_TOO_MANY_LAYERS naming the reference and the manifest, having fetched only it', async () => {
    const { client, manifest, asked } = registryOf(MAX_IMAGE_LAYERS + 1);
    const err = await resolveImage(client, ref, AMD64).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'ERR_TOO_MANY_LAYERS',
      kind: 'limit',
      message: `registry.test/many/layers:v1: manifest ${manifest.digest} has 501 layers (berth takes images of at most 500, as many as overlayfs stacks)`,
    });
    expect(asked).toEqual(['manifest v1']);
  });
});
