// Entry names from a tar, as raw bytes, cleaned into path components inside the root. Pure.
// Names are bytes, not text: a name that is not UTF-8 must land on disk byte for byte.

const SLASH = 0x2f;

/**
 * Split and clean like filepath.Clean("/" + name): `.` and empty parts vanish, `..` removes the
 * previous part and never climbs above the root. Returns [] for the root itself.
 */
export function cleanComponents(name: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= name.length; i++) {
    if (i === name.length || name[i] === SLASH) {
      const part = name.subarray(start, i);
      start = i + 1;
      if (part.length === 0 || (part.length === 1 && part[0] === 0x2e)) continue;
      if (part.length === 2 && part[0] === 0x2e && part[1] === 0x2e) {
        out.pop();
        continue;
      }
      out.push(part);
    }
  }
  return out;
}

export const WHITEOUT_PREFIX = Buffer.from('.wh.');
export const OPAQUE_MARKER = Buffer.from('.wh..wh..opq');

export function isOpaqueMarker(part: Buffer): boolean {
  return part.equals(OPAQUE_MARKER);
}

/** `.wh.NAME` → NAME; undefined when `part` is not a whiteout. */
export function whiteoutTarget(part: Buffer): Buffer | undefined {
  if (
    part.length <= WHITEOUT_PREFIX.length ||
    !part.subarray(0, WHITEOUT_PREFIX.length).equals(WHITEOUT_PREFIX)
  ) {
    return undefined;
  }
  return part.subarray(WHITEOUT_PREFIX.length);
}

/** `trusted.*` and overlay xattrs are the host's business, never an image's. */
export function isAllowedXattr(name: string): boolean {
  return !name.startsWith('trusted.') && !name.includes('overlay.');
}
