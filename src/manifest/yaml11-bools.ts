// YAML 1.1's booleans, as Kubernetes reads manifests (sigs.k8s.io/yaml is go-yaml v2, YAML 1.1):
// a plain (unquoted) `yes`, `On`, `n`, `off`… is the boolean true or false there, wherever it
// stands, and a string to YAML 1.2. So `hostNetwork: yes` is a boolean, and an argument, an env
// value, a label or a ConfigMap value `yes` is a boolean where a string belongs, which a cluster
// rejects ("cannot unmarshal bool into Go struct field … of type string"): what berth then says of
// it is what it says of `true` there (the schema's "must be string", or a slip podman tolerates:
// slips.ts). A quoted or tagged "yes" stays a string. Map keys are left as written. Pure: rewrites the value
// it is given (a fresh toJS copy).
import { type Document, isAlias, isScalar } from 'yaml';

const TRUE = /^(y|Y|yes|Yes|YES|on|On|ON)$/;
const FALSE = /^(n|N|no|No|NO|off|Off|OFF)$/;

/** Whether `text`, written plain, is a boolean to YAML 1.1 and a string to YAML 1.2. */
export const isYaml11Bool = (text: string): boolean => TRUE.test(text) || FALSE.test(text);

export function applyYaml11Bools(doc: Document, value: unknown): void {
  const walk = (holder: unknown, path: Array<string | number>) => {
    if (holder === null || typeof holder !== 'object') return;
    const entries = Array.isArray(holder) ? holder.entries() : Object.entries(holder);
    for (const [key, v] of entries) {
      const at = [...path, key];
      if (typeof v !== 'string') {
        walk(v, at);
        continue;
      }
      if (!isYaml11Bool(v)) continue;
      // Through a merge key (<<) the node is not found: the value stays as read. An alias is its
      // anchor's node; a tag (`!!str yes`, `! yes`) keeps it a string, as go-yaml v2 resolves it.
      const found = doc.getIn(at, true);
      const node = isAlias(found) ? found.resolve(doc) : found;
      if (isScalar(node) && node.type === 'PLAIN' && node.tag === undefined && node.value === v)
        (holder as Record<string | number, unknown>)[key] = TRUE.test(v);
    }
  };
  walk(value, []);
}
