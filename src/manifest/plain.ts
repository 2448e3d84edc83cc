// A manifest's plain value (a document's toJS()) as the checks read it before its schema has run:
// any field may be missing or of another type, so every read is checked. Pure.

export type Obj = Record<string, unknown>;

/** A mapping (not null, not a list). */
export const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A Pod's annotations and spec, each an empty mapping where it is not one. */
export function podParts(value: unknown): { annotations: Obj; spec: Obj } {
  const pod = isObj(value) ? value : {};
  const meta = isObj(pod.metadata) ? pod.metadata : {};
  return {
    annotations: isObj(meta.annotations) ? meta.annotations : {},
    spec: isObj(pod.spec) ? pod.spec : {},
  };
}
