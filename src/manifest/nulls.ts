// A field given as null is a field not given, as Kubernetes reads it: `resources:` with only
// commented-out lines under it (what `helm create` writes), or a chart rendering `env:` with nothing
// after it. Without this the schema refused them ("must be object"). A null item of a list stays
// (a cluster rejects it too). Pure: rewrites the value it is given (a fresh toJS copy).

/** Removes every mapping key whose value is null, at any depth. */
export function dropNullFields(value: unknown): void {
  if (Array.isArray(value)) {
    for (const item of value) dropNullFields(item);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const obj = value as Record<string, unknown>;
  for (const [k, v] of Object.entries(obj)) {
    if (v === null) delete obj[k];
    else dropNullFields(v);
  }
}
