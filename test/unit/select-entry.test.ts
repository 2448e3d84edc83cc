// Choosing an index entry for a platform (pull/select-entry.ts), nested indexes included: the entry
// containerd's LimitManifests would follow, attestations never, and a refusal that stays one short
// line however wide the index.
import { describe, expect, it } from 'vitest';
import type { Descriptor } from '../../src/oci/descriptor.js';
import type { Digest } from '../../src/oci/digest.js';
import { MediaType } from '../../src/oci/media-types.js';
import { type Platform, parsePlatform } from '../../src/oci/platform.js';
import { chooseEntry, describeOffers, isReferrer, OFFERS_SHOWN } from '../../src/pull/select-entry.js';

const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}` as Digest;
let next = 0;
function entry(
  kind: 'index' | 'manifest',
  platform?: string | Platform,
  more: Partial<Descriptor> = {},
): Descriptor {
  const d: Descriptor = {
    mediaType: kind === 'index' ? MediaType.ociIndex : MediaType.ociManifest,
    digest: digest(++next),
    size: 100,
    ...more,
  };
  if (platform) d.platform = typeof platform === 'string' ? parsePlatform(platform) : platform;
  return d;
}
const AMD64 = parsePlatform('linux/amd64');
const ATTESTATION = { annotations: { 'vnd.docker.reference.type': 'attestation-manifest' } };

describe('chooseEntry', () => {
  it('descends an index entry that names no platform when no entry names the one asked for', () => {
    const inner = entry('index');
    expect(chooseEntry(AMD64, [entry('manifest', 'linux/arm64'), inner])).toBe(inner);
  });

  it('takes an index entry for the platform like a manifest entry, by rank', () => {
    const plain = entry('manifest', 'linux/amd64');
    const v3 = entry('index', 'linux/amd64/v3');
    expect(chooseEntry(parsePlatform('linux/amd64/v3'), [plain, v3])).toBe(v3);
    expect(chooseEntry(AMD64, [v3, plain])).toBe(plain);
  });

  it('prefers an entry that names the platform to one that names none, whatever the order', () => {
    const unlabelled = entry('index');
    const labelled = entry('index', 'linux/amd64');
    expect(chooseEntry(AMD64, [unlabelled, labelled])).toBe(labelled);
  });

  it('skips entries, indexes too, that name another platform', () => {
    expect(
      chooseEntry(AMD64, [entry('index', 'linux/arm64'), entry('index', 'windows/amd64')]),
    ).toBeUndefined();
  });

  it('keeps the index order between entries that name no platform', () => {
    const first = entry('index');
    expect(chooseEntry(AMD64, [first, entry('manifest'), entry('index')])).toBe(first);
  });

  it('never chooses an attestation, even for --platform unknown/unknown', () => {
    const labelled = entry('manifest', { os: 'unknown', architecture: 'unknown' });
    const annotated = entry('manifest', undefined, ATTESTATION);
    const image = entry('manifest');
    expect(chooseEntry(AMD64, [annotated, labelled, image])).toBe(image);
    expect(chooseEntry(parsePlatform('unknown/unknown'), [labelled, annotated])).toBeUndefined();
    expect(chooseEntry(AMD64, [entry('manifest', 'linux/amd64', ATTESTATION)])).toBeUndefined();
    expect(
      chooseEntry(AMD64, [entry('index', undefined, { artifactType: 'application/x-sbom' })]),
    ).toBeUndefined();
    expect(isReferrer(labelled) && isReferrer(annotated) && !isReferrer(image)).toBe(true);
  });

  it('finds the one match of a wide index', () => {
    const others = Array.from({ length: 20_000 }, (_, i) =>
      entry('index', { os: 'plan9', architecture: `a${i}` }),
    );
    const match = entry('index', 'linux/amd64');
    expect(chooseEntry(AMD64, [...others, match, ...others])).toBe(match);
  });
});

describe('describeOffers', () => {
  it('names each platform once, unknown for none, and no attestations', () => {
    const entries = [
      entry('manifest', 'linux/arm64/v8'),
      entry('index', 'linux/arm64/v8'),
      entry('index'),
      entry('manifest', { os: 'unknown', architecture: 'unknown' }),
    ];
    expect(describeOffers(entries)).toBe('linux/arm64/v8, unknown');
    expect(describeOffers([entry('manifest', undefined, ATTESTATION)])).toBe('nothing');
  });

  it('stays short for a wide index', () => {
    const wide = Array.from({ length: 5000 }, (_, i) =>
      entry('manifest', { os: 'plan9', architecture: `a${i}` }),
    );
    const shown = Array.from({ length: OFFERS_SHOWN }, (_, i) => `plan9/a${i}`).join(', ');
    expect(describeOffers(wide)).toBe(`${shown} and ${5000 - OFFERS_SHOWN} more`);
  });
});
