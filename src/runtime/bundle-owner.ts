// Who owns a container, written where a damaged record cannot take it along: the annotations of its
// bundle's config.json (the OCI runtime spec's own field for such data). The record's annotations
// say it too, but a record can be left empty or cut short by a crash or a full disk, and a name says
// nothing for sure (a standalone container may be named `web_extra`, a pod's container `<pod>_<c>`).
// config.json is written once (whole: aside, fsynced, renamed), before the container is created,
// and never again. Its owner is `manifests` with the pod and the container's name in it, or
// `standalone` (made by hand or the API).
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/** The record annotations that say who owns a container; the same keys in config.json. */
export const OWNER_KEYS = {
  owner: 'berth.dev/owner',
  pod: 'berth.dev/pod',
  container: 'berth.dev/container',
} as const;
/** The owner of a container made by hand or through the API. */
export const OWNER_STANDALONE = 'standalone';

export interface BundleOwner {
  owner: string;
  /** The pod (its identity, `<namespace>.<pod>` outside `default`) of a container made from manifests. */
  pod?: string;
  container?: string;
}

/** The annotations for a bundle's config.json of a container whose record has `annotations`. */
export function bundleOwnerAnnotations(
  annotations: Record<string, string> | undefined,
): Record<string, string> {
  const owner = annotations?.[OWNER_KEYS.owner];
  if (owner === undefined) return { [OWNER_KEYS.owner]: OWNER_STANDALONE };
  const out: Record<string, string> = { [OWNER_KEYS.owner]: owner };
  for (const key of [OWNER_KEYS.pod, OWNER_KEYS.container]) {
    const value = annotations?.[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/** A config.json this long is not one berth wrote (its largest part is a seccomp profile). */
const MAX_CONFIG = 16 * 1024 * 1024;

/**
 * The owner config.json `file` names, or undefined when it names none: missing, not a regular file,
 * damaged too, or written by a berth from before owners were written there.
 */
export function readBundleOwner(file: string): BundleOwner | undefined {
  const text = readSmallFile(file);
  if (text === undefined) return undefined;
  let spec: unknown;
  try {
    spec = JSON.parse(text);
  } catch {
    return undefined;
  }
  const notes = (spec as { annotations?: unknown } | null)?.annotations;
  if (typeof notes !== 'object' || notes === null) return undefined;
  const at = (key: string) => {
    const v = (notes as Record<string, unknown>)[key];
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  const owner = at(OWNER_KEYS.owner);
  if (owner === undefined) return undefined;
  const [pod, container] = [at(OWNER_KEYS.pod), at(OWNER_KEYS.container)];
  return { owner, ...(pod ? { pod } : {}), ...(container ? { container } : {}) };
}

function readSmallFile(file: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > MAX_CONFIG) return undefined;
    const buf = Buffer.alloc(st.size);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got).toString('utf8');
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
