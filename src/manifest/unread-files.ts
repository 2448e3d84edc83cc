// Files of the manifests folder that berth does not read (not *.yaml, *.yml or *.json, nor a
// dotfile, editor or backup file: load.ts' isManifestFile) but that define a Kubernetes object: a
// kubelet reads every file of its static pod folder, and kops and GCE's kube-up write theirs as
// `*.manifest`. Each such file is one WARN_FILE_NOT_READ naming what it defines and the rename that
// runs it, so a Pod is never left out silently; a README or a config file stays quiet.
//
// Invariant: only regular files up to 1 MiB (what berth would take as a manifest) are read, with
// no link followed, and nothing else is even opened for reading (no device's open runs); a file
// that cannot be read or parsed, or whose first document is not an object with a string apiVersion
// and kind, says nothing. Never an error: these files define nothing berth runs, whatever they
// hold. Each is parsed once per change (a megabyte of YAML can take seconds): what it defines is
// kept, keyed on its identity, by the rule of file-cache.ts, as long as it stays in its folder; the
// daemon's passes then cost an O_PATH open and a stat per file.
import type { BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { type FileIdentity, isStillValid } from '../lib/file-cache.js';
import { openRegular } from '../lib/open-regular.js';
import { readBounded } from '../lib/read-bounded.js';
import { tooDeepAt } from '../lib/yaml-depth.js';
import type { Diagnostic } from '../lib/yaml-validate.js';

const MAX_BYTES = 1024 * 1024;

/** What each file read defined, by path, with the identity it had then (file-cache.ts' rule). */
const seen = new Map<string, { id: FileIdentity; readAt: number; what: string | undefined }>();

const identity = (st: BigIntStats): FileIdentity => ({
  dev: st.dev,
  ino: st.ino,
  size: st.size,
  mtimeNs: st.mtimeNs,
  ctimeNs: st.ctimeNs,
});

/** What the file defines (`Pod kube-system/etcd`), or undefined when it is not a Kubernetes object. */
async function definedBy(file: string): Promise<string | undefined> {
  const readAt = Date.now();
  const hit = seen.get(file);
  let known: string | undefined;
  // Opened for reading only when a regular file not read before (open-regular.ts): a device node
  // here is never opened (a watchdog's open arms it), a FIFO never waited on.
  const opened = await openRegular(file, {
    noFollow: true,
    check: (st) => {
      if (st.size > MAX_BYTES) return false;
      if (!hit || !isStillValid(hit, identity(st))) return true;
      known = hit.what;
      return false;
    },
  }).catch(() => undefined);
  const fd = opened?.handle;
  if (!fd) return known;
  try {
    const id = identity(opened.stat);
    const bytes = await readBounded(fd, MAX_BYTES); // it may grow past the size checked
    if (!bytes) return undefined;
    const what = parseDefined(bytes.toString('utf8'));
    seen.set(file, { id, readAt, what });
    return what;
  } catch {
    return undefined;
  } finally {
    await fd.close();
  }
}

function parseDefined(text: string): string | undefined {
  if (tooDeepAt(text) !== undefined) return undefined; // go-yaml's bound: no object a cluster reads
  try {
    const doc = parseDocument(text, { uniqueKeys: false, prettyErrors: false }).toJS({ maxAliasCount: 100 });
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return undefined;
    const { apiVersion, kind, metadata } = doc as Record<string, unknown>;
    if (typeof apiVersion !== 'string' || typeof kind !== 'string' || kind === '') return undefined;
    const meta =
      metadata !== null && typeof metadata === 'object' ? (metadata as Record<string, unknown>) : {};
    const name = typeof meta.name === 'string' ? meta.name : '';
    const ns = typeof meta.namespace === 'string' && meta.namespace !== '' ? `${meta.namespace}/` : '';
    return name === '' ? kind : `${kind} ${ns}${name}`;
  } catch {
    return undefined;
  }
}

/** `name` with its last extension (if any) replaced by `.yaml`. */
function renamed(name: string): string {
  const dot = name.lastIndexOf('.');
  return `${dot > 0 ? name.slice(0, dot) : name}.yaml`;
}

/** One warning for each of `names` (files of `dir` berth does not read) that defines an object. */
export async function unreadFileWarnings(dir: string, names: string[]): Promise<Diagnostic[]> {
  const out: Diagnostic[] = [];
  const listed = new Set(names.map((n) => join(dir, n)));
  for (const file of seen.keys()) if (file.startsWith(`${dir}/`) && !listed.has(file)) seen.delete(file);
  for (const name of names) {
    const file = join(dir, name);
    const what = await definedBy(file);
    if (what === undefined) continue;
    out.push({
      file,
      line: 1,
      col: 1,
      code: 'WARN_FILE_NOT_READ',
      message:
        `it defines ${what}, but berth reads only *.yaml, *.yml and *.json files ` +
        `(a kubelet reads every file of its folder): rename it to ${renamed(name)} to run it`,
    });
  }
  return out;
}
