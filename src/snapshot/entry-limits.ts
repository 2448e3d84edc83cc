// What no Linux file system can hold, refused by entry before anything is written: a path past
// PATH_MAX (counted with the destination: every call takes the whole host path), a component past
// NAME_MAX, a symlink target past 4095 bytes or empty, an owner outside uid_t, a security.capability that is
// no vfs_cap_data the kernel takes (setxattr's EINVAL). Go's tar reader takes such
// entries, and containerd then fails on a bare ENAMETOOLONG or has the kernel cut the id to 32 bits;
// here each is one short line naming the entry. So is an entry of a type no image unpacker makes
// (a `7`, GNU's `D` or `V`, a vendor's), which containerd, Docker and umoci refuse ("unhandled tar
// header type"), where it was passed over: the layer was another tree for berth than for them. Pure.
import { BerthError } from '../lib/errors.js';
import { cleanComponents } from './tar-path.js';
import type { TarEntry } from './tar-reader.js';

/** With its terminating NUL, as the kernel counts it. */
export const PATH_MAX = 4096;
export const NAME_MAX = 255;
/** (uid_t)-1 tells chown "leave it": it is no owner a file can have. */
export const MAX_ID = 0xffff_fffe;

/** An entry's name as an error shows it: whole when short, else its start and end and its length. */
export function shortName(name: Buffer): string {
  if (name.length <= 80) return name.toString();
  return `${name.subarray(0, 48).toString()}…${name.subarray(-24).toString()} (${name.length} bytes)`;
}

function unsupported(name: Buffer, why: string): BerthError {
  return new BerthError('ERR_LAYER_UNSUPPORTED', 'invalid', `entry ${shortName(name)}: ${why}`);
}

type PathProblem = { name: number } | 'path' | undefined;

function pathProblem(parts: Buffer[], rootLength: number): PathProblem {
  let length = rootLength;
  for (const p of parts) {
    if (p.length > NAME_MAX) return { name: p.length };
    length += 1 + p.length;
  }
  return length >= PATH_MAX ? 'path' : undefined;
}

const TOO_LONG = 'longer than Linux takes';
const NAME_WHY = (n: number) => `a name of ${n} bytes, ${TOO_LONG} (${NAME_MAX})`;
const PATH_WHY = `${TOO_LONG} (${PATH_MAX} bytes with the destination)`;

/** Whether a name of these cleaned components can exist under a root of `rootLength` bytes. */
export function fitsLinux(parts: Buffer[], rootLength: number): boolean {
  return pathProblem(parts, rootLength) === undefined;
}

/** The entry's own path, made of `parts` under a root of `rootLength` bytes. */
function checkEntryPath(name: Buffer, parts: Buffer[], rootLength: number): void {
  const problem = pathProblem(parts, rootLength);
  if (problem === 'path') throw unsupported(name, `a path ${PATH_WHY}`);
  if (problem) throw unsupported(name, NAME_WHY(problem.name));
}

/** A hardlink's target (its cleaned `parts` under the root). */
function checkHardlinkTarget(name: Buffer, target: Buffer, parts: Buffer[], rootLength: number): void {
  const problem = pathProblem(parts, rootLength);
  if (problem === 'path') throw unsupported(name, `a hardlink target of ${target.length} bytes, ${PATH_WHY}`);
  if (problem) throw unsupported(name, `a hardlink target with ${NAME_WHY(problem.name)}`);
}

/**
 * A symlink's target is text the kernel keeps, up to PATH_MAX - 1 bytes, never resolved here; an
 * empty one symlink(2) refuses (ENOENT), as umoci and containerd then fail.
 */
function checkSymlinkTarget(name: Buffer, target: Buffer): void {
  if (target.length === 0) throw unsupported(name, 'a symlink with an empty target, which Linux cannot make');
  if (target.length >= PATH_MAX)
    throw unsupported(name, `a symlink target of ${target.length} bytes, ${TOO_LONG} (${PATH_MAX - 1})`);
}

function checkOwner(name: Buffer, uid: number, gid: number): void {
  if (uid > MAX_ID || gid > MAX_ID || uid < 0 || gid < 0)
    throw unsupported(name, `owner ${uid}:${gid} is no Linux owner (ids go to ${MAX_ID})`);
}

/** The one flag a file capability's header may carry beside its revision (VFS_CAP_FLAGS_EFFECTIVE). */
const CAPS_FLAG_EFFECTIVE = 0x0000_0001;
/**
 * The kernel's validheader (security/commoncap.c): revision 2 in 20 bytes or 3 in 24, the header
 * being exactly the revision but for the effective flag (sansflags); 1, or any other bit, is refused.
 */
function isFileCapability(v: Buffer): boolean {
  const revision = v.length >= 4 ? (v.readUInt32LE(0) & ~CAPS_FLAG_EFFECTIVE) >>> 0 : 0;
  return (v.length === 20 && revision === 0x0200_0000) || (v.length === 24 && revision === 0x0300_0000);
}

function checkXattrs(e: TarEntry): void {
  for (const [name, value] of e.xattrs)
    if (name === 'security.capability' && !isFileCapability(value))
      throw unsupported(
        e.name,
        `security.capability of ${value.length} bytes is no file capability the kernel takes`,
      );
}

/** A type flag as an error shows it: a printable character quoted, any other byte in hex. */
const shownType = (t: string) =>
  /^[\x21-\x7e]$/.test(t) ? `'${t}'` : `\\x${t.charCodeAt(0).toString(16).padStart(2, '0')}`;

/** Everything above that applies to an entry that makes something at `parts`. */
export function checkEntry(e: TarEntry, parts: Buffer[], rootLength: number): void {
  if (e.type === 'other')
    throw unsupported(
      e.name,
      `tar type ${shownType(e.typeflag ?? '?')} is no file, directory, link, device or fifo: no image unpacker makes it (containerd, Docker and umoci refuse it too)`,
    );
  checkEntryPath(e.name, parts, rootLength);
  checkOwner(e.name, e.uid, e.gid);
  checkXattrs(e);
  if (e.type === 'symlink') checkSymlinkTarget(e.name, e.linkname);
  if (e.type === 'link') checkHardlinkTarget(e.name, e.linkname, cleanComponents(e.linkname), rootLength);
}

/** An opaque marker's directory, which the layer makes when it is not there. */
export function checkMarkerDir(e: TarEntry, dir: Buffer[], rootLength: number): void {
  checkEntryPath(e.name, dir, rootLength);
}
