// Which image a name means in index.json. berth writes one entry per name (entriesAfterPut drops
// every other entry of it), but a hand-edited layout or another tool writing into the store may give
// one `org.opencontainers.image.ref.name` to several entries. Entries of one digest are one image
// (the first stands for them all); entries of different digests under one name name no image at
// all: ERR_AMBIGUOUS, naming the name and its digests, for every reader that turns a name into
// content (create, image volumes, unpack, inspect, export, a pull's fallback), and the reconciler
// takes such a name as one the store does not have. umoci refuses such a name too ("tag is
// ambiguous"); skopeo takes the first entry and containerd's import the last, so neither choice is
// what the writer meant. `berth image rm NAME` removes every entry of it; a pull or import names it
// again, once. `berth image ls` lists one row per name and digest (an entry written twice is one
// image), the rows of an ambiguous name marked so. Pure.
import { BerthError } from '../lib/errors.js';
import type { ImageRecord } from './types.js';

/** The entries named `name`, one per digest, in index.json's order. */
export function entriesNamed(records: readonly ImageRecord[], name: string): ImageRecord[] {
  const byDigest = new Map<string, ImageRecord>();
  for (const r of records)
    if (r.name === name && !byDigest.has(r.target.digest)) byDigest.set(r.target.digest, r);
  return [...byDigest.values()];
}

/** index.json's entries one per name and digest, in its order (the first stands for its copies). */
export function distinctEntries(records: readonly ImageRecord[]): ImageRecord[] {
  const seen = new Set<string>();
  return records.filter((r) => {
    const key = `${r.name}\n${r.target.digest}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** ERR_AMBIGUOUS for `name`, given to entries of these digests. */
export function ambiguousName(name: string, entries: readonly ImageRecord[]): BerthError {
  return new BerthError(
    'ERR_AMBIGUOUS',
    'conflict',
    `image name "${name}" is given to ${entries.length} entries of the store's index.json (${entries.map((r) => r.target.digest).join(', ')})`,
    { hint: `remove them with: berth image rm ${name}; then pull or import it again` },
  );
}

/** The image `name` means, or undefined; ERR_AMBIGUOUS when it is given to entries of different digests. */
export function imageNamed(records: readonly ImageRecord[], name: string): ImageRecord | undefined {
  const named = entriesNamed(records, name);
  if (named.length > 1) throw ambiguousName(name, named);
  return named[0];
}

/** The names index.json gives to entries of different digests. */
export function ambiguousNames(records: readonly ImageRecord[]): Set<string> {
  const first = new Map<string, string>();
  const out = new Set<string>();
  for (const r of records) {
    const seen = first.get(r.name);
    if (seen === undefined) first.set(r.name, r.target.digest);
    else if (seen !== r.target.digest) out.add(r.name);
  }
  return out;
}
