// The tier table (tiers.ts) applied to one Pod document before its schema sees it: each warned field
// gives one WARN_MANIFEST_IGNORED at its key and is dropped from the value; each refused field gives
// one ERR_MANIFEST_UNSUPPORTED naming the field and why (but a refused list given empty, which asks
// for nothing, is dropped in silence), and is dropped too, so the schema adds no
// second line about the same thing (an unsupported volume source is one error, not four `oneOf`
// lines). A warned field whose Kubernetes shape the Pod schema holds (affinity, tolerations, …) is
// dropped only after the schema has checked it (dropCheckedFields): ignored is not unread, and an
// affinity a cluster refuses (a list where it wants an object) is refused here too. Kubernetes'
// volume default is applied here as well: a volume with no source, or with `emptyDir:` null, is an
// emptyDir, and its `sizeLimit: 0` is none, as the kubelet reads it; its port default: `hostPort: 0` is no hostPort; and the kubelet's reading of a zero
// limit: a container's cpu or memory limit of 0 is none (it gives such a container the host's
// capacity), unless a request for it is above 0, which a cluster refuses (it is left for the
// converter's error). Pure: it rewrites the value it is given (a fresh toJS copy).
import { type Document, isMap, type LineCounter } from 'yaml';
import type { Diagnostic } from '../lib/yaml-validate.js';
import { isZeroQuantity } from './convert.js';
import { expandTierPath, POD_FIELD_TIERS, VOLUME_SOURCES } from './tiers.js';

type Path = Array<string | number>;

/** A position: the key of the field at `path` (its value's node with `onValue`, or when there is no key). */
export function keyAt(doc: Document, lc: LineCounter, file: string, path: Path, onValue = false) {
  const parent = doc.getIn(path.slice(0, -1), true);
  const last = path[path.length - 1];
  let range: readonly number[] | undefined;
  if (isMap(parent) && !onValue) {
    const pair = parent.items.find((p) => (p.key as { value?: unknown } | null)?.value === last);
    range = (pair?.key as { range?: number[] } | null)?.range;
  }
  range ??= (doc.getIn(path, true) as { range?: number[] } | undefined)?.range;
  const pos = lc.linePos(range?.[0] ?? 0);
  return (code: string, message: string): Diagnostic => ({
    file,
    line: pos.line,
    col: pos.col,
    code,
    message,
  });
}

/** Every concrete path in `value` a pattern (`*` = any index) names, for fields that are present. */
export function matchPaths(value: unknown, pattern: string[], prefix: Path = []): Path[] {
  if (pattern.length === 0) return [prefix];
  const [seg, ...rest] = pattern as [string, ...string[]];
  if (seg === '*')
    return Array.isArray(value) ? value.flatMap((v, i) => matchPaths(v, rest, [...prefix, i])) : [];
  if (value === null || typeof value !== 'object' || Array.isArray(value) || !(seg in value)) return [];
  return matchPaths((value as Record<string, unknown>)[seg], rest, [...prefix, seg]);
}

/** Calls `fn` with the mapping (or list) holding each field the patterns name in `value`, and its key. */
export function forEachField(
  value: unknown,
  patterns: string[][],
  fn: (holder: Record<string | number, unknown>, key: string | number) => void,
): void {
  for (const pattern of patterns)
    for (const path of matchPaths(value, pattern)) {
      let holder = value as Record<string | number, unknown>;
      for (const k of path.slice(0, -1)) holder = holder[k] as Record<string | number, unknown>;
      fn(holder, path[path.length - 1] as string | number);
    }
}

function valueAt(value: unknown, path: Path): unknown {
  let node = value as Record<string | number, unknown> | undefined;
  for (const k of path) node = node?.[k] as Record<string | number, unknown> | undefined;
  return node;
}

function remove(value: unknown, path: Path): void {
  let node = value as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) node = node[k] as Record<string | number, unknown>;
  delete node[path[path.length - 1] as string | number];
}

const RULES = Object.entries(POD_FIELD_TIERS)
  .filter(([, t]) => t.tier !== 'honoured')
  .flatMap(([key, t]) => expandTierPath(key).map((pattern) => ({ pattern, ...t })));

/** The metadata rows alone: what a cluster sets on every object (kubectl get cm -o yaml, podman's Services). */
const METADATA_RULES = RULES.filter((r) => r.pattern[0] === 'metadata');

/** Whether `schema` describes the field at `pattern` (`*`: a list's items). */
function describes(schema: unknown, pattern: string[]): boolean {
  let node = schema as { properties?: Record<string, unknown>; items?: unknown } | undefined;
  for (const seg of pattern) {
    node = (seg === '*' ? node?.items : node?.properties?.[seg]) as typeof node;
    if (node === undefined) return false;
  }
  return true;
}

/**
 * Diagnostics for the pod's warned and refused fields; drops them (but the warned ones `schema`
 * describes: dropCheckedFields drops those once it has checked them) and applies volume defaults.
 */
export function applyPodTiers(
  doc: Document,
  value: unknown,
  lc: LineCounter,
  file: string,
  schema?: object,
): Diagnostic[] {
  const out = applyRules(
    RULES,
    doc,
    value,
    lc,
    file,
    (r) => r.tier === 'refused' || !describes(schema, r.pattern),
  );
  defaultVolumes(value);
  defaultHostPorts(value);
  dropZeroLimits(value);
  return out;
}

/** Drops the warned fields applyPodTiers left for `schema` to check. */
export function dropCheckedFields(value: unknown, schema: object): void {
  for (const rule of RULES)
    if (rule.tier === 'warned' && describes(schema, rule.pattern))
      for (const path of matchPaths(value, rule.pattern)) remove(value, path);
}

/** A ConfigMap's, Secret's, PersistentVolumeClaim's or Service's cluster-set metadata, as a Pod's. */
export function applyObjectTiers(doc: Document, value: unknown, lc: LineCounter, file: string): Diagnostic[] {
  return applyRules(METADATA_RULES, doc, value, lc, file);
}

function applyRules(
  rules: typeof RULES,
  doc: Document,
  value: unknown,
  lc: LineCounter,
  file: string,
  drop: (rule: (typeof RULES)[number]) => boolean = () => true,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const rule of rules) {
    const dropIt = drop(rule);
    for (const path of matchPaths(value, rule.pattern)) {
      // An empty list of a refused list field (ephemeralContainers: [], volumeDevices: []) asks for
      // nothing: a cluster checks these lists by their length, so [] is the field not given.
      const v = valueAt(value, path);
      if (rule.tier === 'refused' && rule.list && Array.isArray(v) && v.length === 0) {
        remove(value, path);
        continue;
      }
      const here = keyAt(doc, lc, file, path);
      const field = path.join('.');
      out.push(
        rule.tier === 'warned'
          ? here('WARN_MANIFEST_IGNORED', `${field} is ignored: ${rule.why}`)
          : here('ERR_MANIFEST_UNSUPPORTED', `field ${field} is not supported by berth: ${rule.why}`),
      );
      if (dropIt) remove(value, path);
    }
  }
  return out.sort((a, b) => a.line - b.line || a.col - b.col);
}

function defaultVolumes(value: unknown): void {
  const volumes = (value as { spec?: { volumes?: unknown } } | null)?.spec?.volumes;
  if (!Array.isArray(volumes)) return;
  for (const v of volumes) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) continue;
    const vol = v as Record<string, unknown>;
    if ('emptyDir' in vol && vol.emptyDir === null) vol.emptyDir = {};
    if (!VOLUME_SOURCES.some((s) => s in vol)) vol.emptyDir = {};
    // A sizeLimit of 0 is none: the kubelet sizes only by a limit above 0.
    const dir = vol.emptyDir as { sizeLimit?: unknown } | undefined;
    if (dir !== null && typeof dir === 'object' && isZeroQuantity(dir.sizeLimit)) delete dir.sizeLimit;
  }
}

/** `hostPort: 0` is no hostPort, as Kubernetes reads it (a chart's `default 0`; with hostNetwork, containerPort). */
function defaultHostPorts(value: unknown): void {
  const spec = (value as { spec?: Record<string, unknown> } | null)?.spec;
  for (const list of ['initContainers', 'containers'])
    for (const c of Array.isArray(spec?.[list]) ? (spec[list] as unknown[]) : [])
      for (const p of Array.isArray((c as { ports?: unknown } | null)?.ports)
        ? (c as { ports: unknown[] }).ports
        : [])
        if (p !== null && typeof p === 'object' && (p as { hostPort?: unknown }).hostPort === 0)
          delete (p as { hostPort?: unknown }).hostPort;
}

/**
 * A cpu or memory limit of 0 is no limit, as the kubelet reads it (but beside a request above 0): a
 * container's, and the pod's (spec.resources) where neither it nor any container asks for more.
 */
function dropZeroLimits(value: unknown): void {
  const spec = (value as { spec?: Record<string, unknown> } | null)?.spec;
  const containers = ['initContainers', 'containers'].flatMap((list) =>
    Array.isArray(spec?.[list]) ? (spec[list] as unknown[]) : [],
  );
  const resourcesOf = (c: unknown) =>
    (c as { resources?: unknown } | null)?.resources as
      | { limits?: unknown; requests?: unknown }
      | null
      | undefined;
  const requested = (res: ReturnType<typeof resourcesOf>, name: string) => {
    const r = (res?.requests ?? {}) as Record<string, unknown>;
    return r[name] !== undefined && !isZeroQuantity(r[name]);
  };
  const drop = (res: ReturnType<typeof resourcesOf>, keep: (name: string) => boolean) => {
    const limits = res?.limits;
    if (limits === null || typeof limits !== 'object' || Array.isArray(limits)) return;
    const l = limits as Record<string, unknown>;
    for (const name of ['cpu', 'memory'])
      if (name in l && isZeroQuantity(l[name]) && !keep(name)) delete l[name];
  };
  for (const c of containers) drop(resourcesOf(c), (name) => requested(resourcesOf(c), name));
  const pod = resourcesOf(spec);
  drop(pod, (name) => requested(pod, name) || containers.some((c) => requested(resourcesOf(c), name)));
}
