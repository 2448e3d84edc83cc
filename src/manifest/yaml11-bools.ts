// YAML 1.1's booleans where a kind's schema wants a boolean, as Kubernetes reads manifests
// (sigs.k8s.io/yaml is YAML 1.1): `hostNetwork: yes`, `readOnly: On`, `tty: n` are booleans there,
// strings to YAML 1.2, which the schema then refused. Only at the schema's boolean fields, and only
// for plain (unquoted) scalars: an env value or an argument `yes` stays the string it reads as
// (slips.ts says what a cluster makes of an env value). Pure: rewrites the value it is given.
import { type Document, isScalar } from 'yaml';
import { matchPaths } from './tier-check.js';

const TRUE = /^(y|Y|yes|Yes|YES|on|On|ON)$/;
const FALSE = /^(n|N|no|No|NO|off|Off|OFF)$/;

type SchemaNode = {
  type?: unknown;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  additionalProperties?: unknown;
};

const cache = new WeakMap<object, string[][]>();

/** Every path (`*` for an item of a list) the schema types as boolean. */
export function booleanPaths(schema: object): string[][] {
  let paths = cache.get(schema);
  if (!paths) {
    paths = [];
    const walk = (n: SchemaNode | undefined, at: string[]) => {
      if (!n || typeof n !== 'object') return;
      if (n.type === 'boolean') paths?.push(at);
      for (const [k, v] of Object.entries(n.properties ?? {})) walk(v, [...at, k]);
      if (n.items) walk(n.items, [...at, '*']);
    };
    walk(schema as SchemaNode, []);
    cache.set(schema, paths);
  }
  return paths;
}

export function applyYaml11Bools(doc: Document, value: unknown, schema: object): void {
  for (const pattern of booleanPaths(schema)) {
    for (const path of matchPaths(value, pattern)) {
      let holder = value as Record<string | number, unknown>;
      for (const k of path.slice(0, -1)) holder = holder[k] as Record<string | number, unknown>;
      const key = path[path.length - 1] as string | number;
      const v = holder[key];
      if (typeof v !== 'string' || !(TRUE.test(v) || FALSE.test(v))) continue;
      const node = doc.getIn(path, true);
      if (isScalar(node) && node.type === 'PLAIN') holder[key] = TRUE.test(v);
    }
  }
}
