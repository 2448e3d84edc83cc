// Every failure met while a tar entry is applied names the entry as the layer has it ("entry
// NAME: …"), whatever raised it: the layer writer speaks of the host path where the name led (after
// a symlink, a lower layer's too, that is another path), the tar reader of its records, Node of a
// syscall. The caller (unpack-image.ts) puts the layer's digest in front. Pure.
import { BerthError } from '../lib/errors.js';
import { shortName } from './entry-limits.js';

/** "entry NAME" as every message has it (entry-limits.ts says it so too). */
export function entryLabel(name: Buffer): string {
  return `entry ${shortName(name)}`;
}

/** `err` with the entry named in front (unchanged when it already starts so). */
export function namingEntry(err: unknown, name: Buffer): unknown {
  const label = `${entryLabel(name)}: `;
  if (!(err instanceof Error) || err.message.startsWith(label)) return err;
  const message = `${label}${err.message}`;
  if (err instanceof BerthError)
    return new BerthError(err.code, err.kind, message, {
      cause: err,
      ...(err.hint ? { hint: err.hint } : {}),
    });
  // Node's errors keep their errno code (ENOSPC is told as a full file system further up).
  const code = (err as NodeJS.ErrnoException).code;
  return Object.assign(new Error(message, { cause: err }), code === undefined ? {} : { code });
}

/** A tar error between entries (a bad header): where in the layer it is, after the last entry read. */
export function afterEntry(err: unknown, last: Buffer): unknown {
  if (!(err instanceof BerthError) || err.code !== 'ERR_LAYER_CORRUPT') return err;
  return new BerthError(err.code, err.kind, `${err.message} (after ${entryLabel(last)})`, {
    cause: err,
    ...(err.hint ? { hint: err.hint } : {}),
  });
}

/**
 * Which entry left work for the layer's end (a device node, an xattr, a whiteout, an opaque mark:
 * deferred-work.ts) at each path, so a failure there names the entry, not only the path the helper
 * acted on (after a symlink, another one).
 */
export class DeferredNames {
  private readonly byPath = new Map<string, Buffer>();

  constructor(private readonly root: Buffer) {}

  /** `path` (a host path under the root) is where `name`'s deferred work acts. */
  note(path: Buffer, name: Buffer): void {
    this.byPath.set(path.subarray(this.root.length + 1).toString('utf8'), name);
  }

  /** The helper's failure ("…: REL: why", fs-helper.ts) with the entry of REL named, when known. */
  naming(err: unknown): unknown {
    if (!(err instanceof BerthError) || err.code !== 'ERR_UNPACK_FAILED' || this.byPath.size === 0)
      return err;
    const said = err.message.slice(err.message.indexOf(': ') + 2);
    let best: string | undefined;
    for (const rel of this.byPath.keys())
      if (said.startsWith(`${rel}: `) && (best === undefined || rel.length > best.length)) best = rel;
    return best === undefined ? err : namingEntry(err, this.byPath.get(best) as Buffer);
  }
}
