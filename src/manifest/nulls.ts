// A field given as null is a field not given, as Kubernetes reads it: `resources:` with only
// commented-out lines under it (what `helm create` writes), or a chart rendering `env:` with nothing
// after it. Without this the schema refused them ("must be object"). A null item of a list stays
// (a cluster rejects it too). But a null entry of a string map (labels, annotations, a ConfigMap's
// or Secret's data, a nodeSelector, a Service's selector: `EMPTY:` with nothing after it) is "":
// Go's JSON decoder gives a map's element its zero value for null, so the key is there, empty (a
// ConfigMap's key an env reads as "", a label of value ""). A null entry of a resource list (a
// container's `requests: {cpu: }`, a pod's overhead, a claim's requests) is the quantity 0, its key
// kept: Quantity.UnmarshalJSON reads null as zero, so a cluster holds a request of 0, not the limit
// a request left out defaults to, and refuses a request above a limit given so. Pure: rewrites the
// value it is given (a fresh toJS copy).
import { isListKind } from './lists.js';
import { isObj } from './plain.js';

/** Each kind's string maps (`*`: every kind's), by their path in the object. */
const STRING_MAPS: Record<string, string[][]> = {
  '*': [
    ['metadata', 'labels'],
    ['metadata', 'annotations'],
  ],
  ConfigMap: [['data'], ['binaryData']],
  Secret: [['data'], ['stringData']],
  Pod: [['spec', 'nodeSelector']],
  Service: [['spec', 'selector']],
};

const RESOURCE_LISTS = ['limits', 'requests'];
const CONTAINER_LISTS = ['containers', 'initContainers', 'ephemeralContainers'];

/** Each kind's resource lists (maps of quantities), by their path in the object; `*` is each item of a list. */
const QUANTITY_MAPS: Record<string, string[][]> = {
  Pod: [
    ...CONTAINER_LISTS.flatMap((l) => RESOURCE_LISTS.map((r) => ['spec', l, '*', 'resources', r])),
    ...RESOURCE_LISTS.map((r) => ['spec', 'resources', r]),
    ['spec', 'overhead'],
  ],
  PersistentVolumeClaim: RESOURCE_LISTS.map((r) => ['spec', 'resources', r]),
};

/** The maps at `path` in `value`, `*` standing for each item of a list. */
function mapsAt(value: unknown, path: string[]): Record<string, unknown>[] {
  if (path.length === 0) return isObj(value) ? [value] : [];
  const [k, ...rest] = path as [string, ...string[]];
  if (k === '*') return Array.isArray(value) ? value.flatMap((item) => mapsAt(item, rest)) : [];
  return isObj(value) ? mapsAt(value[k], rest) : [];
}

/** Sets each null entry of the maps the table names for the object's kind to `zero`. */
function fillNullEntries(value: Record<string, unknown>, table: Record<string, string[][]>, zero: string) {
  const kind = typeof value.kind === 'string' ? value.kind : '';
  // Own keys only: a kind named constructor or __proto__ is no kind of this table.
  const own = Object.hasOwn(table, kind) ? (table[kind] ?? []) : [];
  for (const path of [...(table['*'] ?? []), ...own])
    for (const map of mapsAt(value, path))
      for (const [k, v] of Object.entries(map)) if (v === null) map[k] = zero;
}

/** Sets each null entry of the object's string maps (and, for a v1 List, its items') to "", of its resource lists to "0". */
function emptyNullEntries(value: unknown): void {
  if (!isObj(value)) return;
  if (isListKind(value.apiVersion, value.kind) && Array.isArray(value.items)) {
    for (const item of value.items) emptyNullEntries(item);
    return;
  }
  fillNullEntries(value, STRING_MAPS, '');
  fillNullEntries(value, QUANTITY_MAPS, '0');
}

/** Removes every mapping key whose value is null, at any depth (a string map's entry becomes ""). */
export function dropNullFields(value: unknown): void {
  emptyNullEntries(value);
  dropNulls(value);
}

function dropNulls(value: unknown): void {
  if (Array.isArray(value)) {
    for (const item of value) dropNulls(item);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const obj = value as Record<string, unknown>;
  for (const [k, v] of Object.entries(obj)) {
    if (v === null) delete obj[k];
    else dropNulls(v);
  }
}
