import { describe, expect, it } from 'vitest';
import { isBerthError } from '../../src/lib/errors.js';
import { sha256Of } from '../../src/oci/digest.js';
import { parseImageConfig, parseManifest } from '../../src/oci/image.js';
import { MediaType } from '../../src/oci/media-types.js';

const desc = (mediaType: string, body = 'x') => ({ mediaType, digest: sha256Of(body), size: body.length });
const manifest = (extra: Record<string, unknown> = {}) => ({
  schemaVersion: 2,
  mediaType: MediaType.ociManifest,
  config: desc(MediaType.ociConfig, '{}'),
  layers: [desc(MediaType.ociLayerGzip, 'layer')],
  ...extra,
});
const bytes = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isBerthError(err) ? err.code : 'not-a-berth-error';
  }
  return undefined;
}

describe('parseManifest', () => {
  it('reads an OCI manifest', () => {
    const parsed = parseManifest(bytes(manifest()), MediaType.ociManifest, 'x');
    expect(parsed.kind).toBe('manifest');
    if (parsed.kind === 'manifest') expect(parsed.manifest.layers).toHaveLength(1);
  });

  it('reads a manifest with no "layers" or a null one as an image of no layers, as containerd decodes it', () => {
    // tianon/scratch:nolayers has none; Go's encoder writes a nil list as null.
    for (const layers of [undefined, null]) {
      const parsed = parseManifest(bytes(manifest({ layers })), MediaType.ociManifest, 'x');
      expect(parsed.kind === 'manifest' && parsed.manifest.layers).toEqual([]);
    }
    expect(() => parseManifest(bytes(manifest({ layers: {} })), MediaType.ociManifest, 'x')).toThrow(
      'x: "layers" is not a list',
    );
  });

  it('reads a Docker manifest list as an index', () => {
    const list = {
      schemaVersion: 2,
      mediaType: MediaType.dockerManifestList,
      manifests: [{ ...desc(MediaType.dockerManifest), platform: { os: 'linux', architecture: 'amd64' } }],
    };
    const parsed = parseManifest(bytes(list), MediaType.dockerManifestList, 'x');
    expect(parsed.kind === 'index' && parsed.index.manifests[0]?.platform?.architecture).toBe('amd64');
  });

  it('accepts a body without mediaType when the transport names it', () => {
    const { mediaType: _, ...bare } = manifest();
    expect(parseManifest(bytes(bare), MediaType.ociManifest, 'x').kind).toBe('manifest');
  });

  it.each([
    ['malformed JSON', '{"schemaVersion": 2,', MediaType.ociManifest, 'ERR_MALFORMED_JSON'],
    ['schema1 by media type', manifest(), MediaType.dockerSchema1Signed, 'ERR_SCHEMA1'],
    [
      'schema1 by body',
      { schemaVersion: 1, name: 'x', fsLayers: [] },
      MediaType.dockerManifest,
      'ERR_SCHEMA1',
    ],
    ['body and transport disagree', manifest(), MediaType.dockerManifest, 'ERR_MEDIA_TYPE_MISMATCH'],
    ['unknown media type', manifest({ mediaType: 'text/html' }), 'text/html', 'ERR_MEDIA_TYPE_UNSUPPORTED'],
    [
      'manifest served as index',
      manifest({ mediaType: undefined }),
      MediaType.ociIndex,
      'ERR_MANIFEST_INVALID',
    ],
    [
      'bad layer digest',
      manifest({ layers: [{ mediaType: MediaType.ociLayerGzip, digest: 'sha256:zz', size: 1 }] }),
      MediaType.ociManifest,
      'ERR_DESCRIPTOR_INVALID',
    ],
    [
      'negative size',
      manifest({ layers: [{ ...desc(MediaType.ociLayerGzip), size: -1 }] }),
      MediaType.ociManifest,
      'ERR_DESCRIPTOR_INVALID',
    ],
    [
      'unknown layer type',
      manifest({ layers: [desc('application/x-unknown')] }),
      MediaType.ociManifest,
      'ERR_MEDIA_TYPE_UNSUPPORTED',
    ],
    [
      'artifact config',
      manifest({ config: desc('application/vnd.example+json') }),
      MediaType.ociManifest,
      'ERR_MEDIA_TYPE_UNSUPPORTED',
    ],
    ['schemaVersion 3', manifest({ schemaVersion: 3 }), MediaType.ociManifest, 'ERR_MANIFEST_INVALID'],
    ['an array', [], MediaType.ociManifest, 'ERR_MANIFEST_INVALID'],
  ])('%s → %s', (_name, body, type, code) => {
    expect(codeOf(() => parseManifest(bytes(body), type, 'example.com/app:1'))).toBe(code);
  });

  it('names what it was parsing in the error', () => {
    expect(() => parseManifest(bytes('{'), MediaType.ociManifest, 'example.com/app:1')).toThrow(
      /example.com\/app:1/,
    );
  });
});

describe('parseImageConfig', () => {
  it('requires one diff_id per layer', () => {
    const cfg = { rootfs: { type: 'layers', diff_ids: [sha256Of('a')] } };
    expect(parseImageConfig(bytes(cfg), 'cfg', 1).rootfs.diff_ids).toHaveLength(1);
    expect(codeOf(() => parseImageConfig(bytes(cfg), 'cfg', 2))).toBe('ERR_MANIFEST_INVALID');
    expect(codeOf(() => parseImageConfig(bytes({}), 'cfg', 0))).toBe('ERR_MANIFEST_INVALID');
  });

  it("takes no diff_ids (Docker's omitempty) or a null list as none, for an image of no layers", () => {
    // docker build of FROM scratch with only config writes "rootfs":{"type":"layers"}.
    for (const rootfs of [{ type: 'layers' }, { type: 'layers', diff_ids: null }]) {
      expect(parseImageConfig(bytes({ rootfs }), 'cfg', 0).rootfs.diff_ids).toEqual([]);
      expect(() => parseImageConfig(bytes({ rootfs }), 'cfg', 1)).toThrow('cfg: has 0 diff_ids for 1 layers');
    }
    expect(() => parseImageConfig(bytes({ rootfs: { diff_ids: 'sha256:x' } }), 'cfg', 1)).toThrow(
      'cfg: rootfs.diff_ids is not a list',
    );
  });

  it('refuses a diff_id that is no digest, naming it (the first is a snapshot path)', () => {
    const parse = (diffIds: unknown[]) =>
      parseImageConfig(
        bytes({ rootfs: { type: 'layers', diff_ids: diffIds } }),
        'config sha256:c',
        diffIds.length,
      );
    expect(() => parse([sha256Of('a'), 5])).toThrow('config sha256:c: rootfs.diff_ids[1] 5 is not a digest');
    expect(() => parse(['sha256:abc'])).toThrow(
      'config sha256:c: rootfs.diff_ids[0] "sha256:abc" is not a digest',
    );
    expect(() => parse(['../../x\n'])).toThrow('rootfs.diff_ids[0] "../../x\\n" is not a digest');
    expect(codeOf(() => parse([null]))).toBe('ERR_MANIFEST_INVALID');
  });

  it('refuses a field of the wrong type by name (as containerd decodes), reads a string Cmd as one argument', () => {
    const rootfs = { type: 'layers', diff_ids: [] };
    const parse = (config: unknown) => parseImageConfig(bytes({ rootfs, config }), 'config sha256:c', 0);
    const message = (config: unknown) => {
      try {
        parse(config);
        return 'parsed';
      } catch (err) {
        return (err as Error).message;
      }
    };
    expect(message({ Env: ['PATH=/bin', 5] })).toBe('config sha256:c: config.Env is not a list of strings');
    expect(message({ Env: { PATH: '/bin' } })).toBe('config sha256:c: config.Env is not a list of strings');
    expect(message({ User: 1000 })).toBe('config sha256:c: config.User is not a string');
    expect(message({ WorkingDir: ['/tmp'] })).toBe('config sha256:c: config.WorkingDir is not a string');
    expect(message({ StopSignal: 15 })).toBe('config sha256:c: config.StopSignal is not a string');
    expect(message({ Volumes: ['/data'] })).toBe('config sha256:c: config.Volumes is not a JSON object');
    expect(message({ Labels: { a: 1 } })).toBe(
      'config sha256:c: config.Labels has a value that is not a string',
    );
    expect(message('x')).toBe('config sha256:c: config is not a JSON object');
    // Docker's StrSlice: a string is one argument; null is absent, as in Go.
    expect(parse({ Cmd: 'echo hi', Entrypoint: '/bin/sh' }).config).toEqual({
      Cmd: ['echo hi'],
      Entrypoint: ['/bin/sh'],
    });
    expect(parse({ Cmd: null, Env: null, User: null, Volumes: null }).config?.Cmd).toBeNull();
  });
});
