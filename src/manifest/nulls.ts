// A field given as null is a field not given, as Kubernetes reads it: `resources:` with only
// commented-out lines under it (what `helm create` writes), or a chart rendering `env:` with nothing
// after it. Without this the schema refused them ("must be object"). A null item of a list stays
// (a cluster rejects it too). But a null entry of a string map (labels, annotations, a ConfigMap's
// or Secret's data, a nodeSelector, a Service's selector: `EMPTY:` with nothing after it) is "":
// Go's JSON decoder gives a map's element its zero value for null, so the key is there, empty (a
// ConfigMap's key an env reads as "", a label of value ""). Pure: rewrites the value it is given (a
// fresh toJS copy).
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

/** Sets each null entry of the object's string maps (and, for a v1 List, its items') to "". */
function emptyNullEntries(value: unknown): void {
  if (!isObj(value)) return;
  if (isListKind(value.apiVersion, value.kind) && Array.isArray(value.items)) {
    for (const item of value.items) emptyNullEntries(item);
    return;
  }
  const kind = typeof value.kind === 'string' ? value.kind : '';
  // Own keys only: a kind named constructor or __proto__ is no kind of this table.
  const own = Object.hasOwn(STRING_MAPS, kind) ? (STRING_MAPS[kind] ?? []) : [];
  for (const path of [...(STRING_MAPS['*'] ?? []), ...own]) {
    let map: unknown = value;
    for (const k of path) map = isObj(map) ? map[k] : undefined;
    if (isObj(map)) for (const [k, v] of Object.entries(map)) if (v === null) map[k] = '';
  }
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
