// Resolving a path inside a root without ever leaving it: every component is looked at with lstat;
// a symlink is followed as if the root were `/` (absolute targets start at the root, `..` stops at
// the root), as securejoin and containerd's unpacker do. The last component is never followed: it
// is the thing being created, replaced or removed. A part missing from the root may be a symlink of
// lower layers (overlay form, lower-view.ts): `lowerLink` says so, and it is followed the same way.
// Synchronous on purpose (see apply.ts).
import { lstatSync, readlinkSync } from 'node:fs';
import { BerthError, errnoCode } from '../lib/errors.js';
import { cleanComponents } from './tar-path.js';

const MAX_LINKS = 40;

const SLASH = Buffer.from('/');

function concat(root: Buffer, parts: Buffer[]): Buffer {
  const chunks: Buffer[] = [root];
  for (const p of parts) chunks.push(SLASH, p);
  return Buffer.concat(chunks);
}

/**
 * Resolve `parts` (already cleaned) inside `root`, following symlinks in all but the last part.
 * Returns the host path of the parent directory chain plus the last component, both inside root.
 * Missing intermediate directories are reported as `missing` (the caller creates them).
 */
export function resolveInRoot(
  root: Buffer,
  parts: Buffer[],
  isKnownDir: (host: Buffer) => boolean = () => false,
  lowerLink?: (parts: Buffer[]) => Buffer | undefined,
): { resolved: Buffer[] } {
  let links = 0;
  const done: Buffer[] = [];
  const todo = [...parts];
  while (todo.length > 1) {
    const part = todo.shift() as Buffer;
    const candidate = [...done, part];
    const host = concat(root, candidate);
    let isLink = false;
    let lowerTarget: Buffer | undefined;
    if (!isKnownDir(host)) {
      try {
        isLink = lstatSync(host).isSymbolicLink();
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT') throw err;
        lowerTarget = lowerLink?.(candidate);
        isLink = lowerTarget !== undefined;
      }
    }
    if (!isLink) {
      done.push(part);
      continue;
    }
    if (++links > MAX_LINKS) {
      throw new BerthError(
        'ERR_LAYER_UNSAFE',
        'integrity',
        `too many levels of symbolic links in ${host.toString()}`,
      );
    }
    const target = lowerTarget ?? readlinkSync(host, { encoding: 'buffer' });
    const base = target[0] === 0x2f ? [] : done;
    const cleaned = cleanComponents(Buffer.concat([concat(Buffer.alloc(0), base), SLASH, target]));
    done.length = 0;
    todo.unshift(...cleaned);
  }
  return { resolved: [...done, ...todo] };
}

export function hostPath(root: Buffer, parts: Buffer[]): Buffer {
  return concat(root, parts);
}
