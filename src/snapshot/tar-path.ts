// Entry names from a tar, as raw bytes, cleaned into path components inside the root. Pure.
// Names are bytes, not text: a name that is not UTF-8 must land on disk byte for byte.
import { BerthError } from '../lib/errors.js';

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

const META_PREFIX = Buffer.from('.wh..wh.');

/**
 * `.wh.NAME` → NAME; 'meta' for other `.wh..wh.` names (aufs bookkeeping); undefined when `part`
 * is not a whiteout. A target that is not one normal name (`.wh.`, `.wh..`, `.wh...`) is refused:
 * `..` would name the directory above the one being written.
 */
export function whiteoutTarget(part: Buffer): Buffer | 'meta' | undefined {
  if (!startsWith(part, WHITEOUT_PREFIX)) return undefined;
  if (startsWith(part, META_PREFIX)) return 'meta';
  const target = part.subarray(WHITEOUT_PREFIX.length);
  if (
    target.length === 0 ||
    (target[0] === 0x2e && (target.length === 1 || (target.length === 2 && target[1] === 0x2e)))
  ) {
    throw new BerthError(
      'ERR_LAYER_UNSAFE',
      'integrity',
      `whiteout "${part.toString()}" does not name a single entry of its directory`,
    );
  }
  return target;
}

function startsWith(part: Buffer, prefix: Buffer): boolean {
  return part.length >= prefix.length && part.subarray(0, prefix.length).equals(prefix);
}

/**
 * Xattrs an image may set: `user.*` and file capabilities. Never `trusted.*` (overlay markers),
 * `security.selinux` (the host's labels) or `system.*` (ACLs: permissions the tar's mode does not show).
 */
export function isAllowedXattr(name: string): boolean {
  return name.startsWith('user.') || name === 'security.capability';
}
