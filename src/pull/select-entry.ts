// Which entry of an image index to follow for a platform, as containerd's LimitManifests chooses it
// (one entry a level, never a search of the whole tree), and how a refusal says what an index offers.
// Pure: no I/O. resolve.ts fetches what is chosen and, for an index, chooses again inside it.
import type { Descriptor } from '../oci/descriptor.js';
import { formatPlatform, type Platform, selectPlatform } from '../oci/platform.js';

/** buildx marks its attestation manifests so (value `attestation-manifest`); any value names a referrer. */
export const REFERENCE_TYPE_ANNOTATION = 'vnd.docker.reference.type';

/**
 * An entry that is about another manifest rather than an image of its own: an attestation (the
 * annotation, or buildx's `unknown/unknown` platform) or an artifact. Never chosen, whatever the
 * platform asked for (`--platform unknown/unknown` included).
 */
export function isReferrer(d: Descriptor): boolean {
  if (d.annotations?.[REFERENCE_TYPE_ANNOTATION] !== undefined) return true;
  if (d.artifactType !== undefined) return true;
  return d.platform?.os === 'unknown' && d.platform.architecture === 'unknown';
}

/**
 * The entry to follow for `want`, manifest or index alike: the best-ranked one whose platform
 * matches (ties keep the index's order), else the first that names no platform (containerd sorts
 * those last); entries for other platforms are skipped. undefined when none is left.
 */
export function chooseEntry(want: Platform, entries: readonly Descriptor[]): Descriptor | undefined {
  const images = entries.filter((e) => !isReferrer(e));
  return selectPlatform(want, images) ?? images.find((e) => !e.platform);
}

/** Platforms named in an error at most; a wide index says how many more it offers. */
export const OFFERS_SHOWN = 8;

/** What an index offers, for a refusal: its distinct platforms (`unknown` for none), bounded. */
export function describeOffers(entries: readonly Descriptor[]): string {
  const offered = [
    ...new Set(
      entries.filter((e) => !isReferrer(e)).map((e) => (e.platform ? formatPlatform(e.platform) : 'unknown')),
    ),
  ];
  if (offered.length === 0) return 'nothing';
  const shown = offered.slice(0, OFFERS_SHOWN).join(', ');
  return offered.length > OFFERS_SHOWN ? `${shown} and ${offered.length - OFFERS_SHOWN} more` : shown;
}
