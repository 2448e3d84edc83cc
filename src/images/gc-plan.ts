// Which images disk-pressure GC removes, and which kept previous digests are trimmed (pure: no I/O,
// no clock), as the kubelet's image GC: when the store's file system is fuller than `highPercent`,
// unused images go least recently used first (LAST USED, else PULLED) until the estimate is below
// `lowPercent`. Never removed: an image a manifest names (Pod or Image), one a container uses (a
// previous digest too), and the `keep` newest previous digests of an Image's ref.
// The clock can jump (an edge node without an RTC, then NTP): a LAST USED or PULLED ahead of `now`
// (or unreadable) counts as `now` for the order, and is listed in `ahead` for the caller to record
// as now, so the image ages from then instead of sorting as the newest until the clock catches up.

export interface GcImage {
  name: string;
  /** The config digest: what containers record as their imageId. */
  id: string;
  pulledAt: string;
  lastUsedAt?: string;
  /** Set when this entry is a previous digest of the name `previousOf` (see ContentStore.putImage). */
  previousOf?: string;
  replacedAt?: string;
  /** Bytes removing it frees: blobs and snapshots no other image shares. */
  bytes: number;
}

export interface GcInput {
  images: GcImage[];
  /** Names the manifests want (Pods' images, Image refs). */
  wanted: ReadonlySet<string>;
  /** Names and ids of images containers were created from. */
  inUse: ReadonlySet<string>;
  /** Image ref → how many previous digests to keep. */
  keep: ReadonlyMap<string, number>;
  usage: { totalBytes: number; usedBytes: number };
  highPercent: number;
  lowPercent: number;
  /** ms epoch: the time the order is measured against. */
  now: number;
}

export interface GcPlan {
  /** Previous digests beyond their ref's `keep` (removed whatever the disk says). */
  trim: string[];
  /** Whether the file system is above the high threshold. */
  overHigh: boolean;
  /** Unused images to remove, in order, with the bytes each is expected to free. */
  remove: Array<{ name: string; bytes: number }>;
  /** Unused images kept whose LAST USED (else PULLED) is ahead of `now` or unreadable: record as used now. */
  ahead: string[];
}

export function usedPercent(usage: { totalBytes: number; usedBytes: number }): number {
  return usage.totalBytes === 0 ? 0 : (usage.usedBytes * 100) / usage.totalBytes;
}

/**
 * Previous entries beyond each ref's keep, newest kept first. One a container still runs from is
 * never trimmed (its snapshot is that container's lower layer) and does not count toward `keep`.
 */
function planTrim(
  images: GcImage[],
  keep: ReadonlyMap<string, number>,
  inUse: ReadonlySet<string>,
): string[] {
  const byRef = new Map<string, GcImage[]>();
  for (const i of images) {
    if (i.previousOf === undefined || inUse.has(i.name) || inUse.has(i.id)) continue;
    byRef.set(i.previousOf, [...(byRef.get(i.previousOf) ?? []), i]);
  }
  const trim: string[] = [];
  for (const [ref, previous] of byRef) {
    previous.sort(
      (a, b) => (b.replacedAt ?? '').localeCompare(a.replacedAt ?? '') || a.name.localeCompare(b.name),
    );
    trim.push(...previous.slice(keep.get(ref) ?? 0).map((i) => i.name));
  }
  return trim.sort();
}

/** When `i` was last used (else pulled), ms epoch; a time ahead of `now` or unreadable is `now`. */
function usedAt(i: GcImage, now: number): number {
  const t = Date.parse(i.lastUsedAt ?? i.pulledAt);
  return Number.isFinite(t) && t <= now ? t : now;
}

export function planImageGc(input: GcInput): GcPlan {
  const trim = planTrim(input.images, input.keep, input.inUse);
  const overHigh = usedPercent(input.usage) > input.highPercent;
  if (!overHigh) return { trim, overHigh, remove: [], ahead: [] };
  const trimmed = new Set(trim);
  const candidates = input.images
    .filter(
      (i) =>
        !input.wanted.has(i.name) &&
        !input.inUse.has(i.name) &&
        !input.inUse.has(i.id) &&
        (i.previousOf === undefined || trimmed.has(i.name)),
    )
    .sort((a, b) => usedAt(a, input.now) - usedAt(b, input.now) || a.name.localeCompare(b.name));
  const target = (input.lowPercent / 100) * input.usage.totalBytes;
  let used =
    input.usage.usedBytes -
    trim.reduce((n, t) => n + (input.images.find((i) => i.name === t)?.bytes ?? 0), 0);
  const remove: GcPlan['remove'] = [];
  for (const c of candidates) {
    if (used < target) break;
    if (trimmed.has(c.name)) continue; // already going
    remove.push({ name: c.name, bytes: c.bytes });
    used -= c.bytes;
  }
  const going = new Set([...trim, ...remove.map((r) => r.name)]);
  const ahead = candidates
    .filter((c) => !going.has(c.name) && !(Date.parse(c.lastUsedAt ?? c.pulledAt) <= input.now))
    .map((c) => c.name)
    .sort();
  return { trim, overHigh, remove, ahead };
}
