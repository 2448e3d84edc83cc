// A Pod's `spec.serviceAccount` (Kubernetes' DeprecatedServiceAccount) alone is its
// serviceAccountName, as a cluster reads it: Convert_v1_PodSpec_To_core_PodSpec takes it when
// serviceAccountName is not given ("" included), and validation then checks it as a name, so
// `serviceAccount: Bad_Name` alone is refused, and the downward API's fieldRef
// spec.serviceAccountName gives its value. Old charts and docs write only `serviceAccount: x`.
// Beside a serviceAccountName it is left for the tier table to warn of (the cluster drops it there).
// Pure: rewrites the value it is given (a fresh toJS copy), after dropEmptyStrings and before the
// tier table; the name is checked by the schema's own serviceAccountName rules, at the key written.
import type { Document, LineCounter } from 'yaml';
import type { Diagnostic } from '../lib/yaml-validate.js';
import { isObj, podParts } from './plain.js';
import { keyAt } from './tier-check.js';

interface NameRules {
  pattern?: string;
  maxLength?: number;
  'x-pattern-message'?: string;
  'x-length-message'?: string;
}

/** The Pod schema's rules for spec.serviceAccountName. */
function nameRules(schema: object): NameRules {
  const spec = (schema as { properties?: { spec?: { properties?: Record<string, unknown> } } }).properties
    ?.spec;
  const rules = spec?.properties?.serviceAccountName;
  return isObj(rules) ? (rules as NameRules) : {};
}

/** Moves a lone string `spec.serviceAccount` to `spec.serviceAccountName`, or refuses it as that name. */
export function aliasServiceAccount(
  doc: Document,
  value: unknown,
  lc: LineCounter,
  file: string,
  schema: object,
): Diagnostic[] {
  const { spec } = podParts(value);
  const name = spec.serviceAccount;
  if (typeof name !== 'string' || spec.serviceAccountName !== undefined) return [];
  delete spec.serviceAccount;
  const rules = nameRules(schema);
  const why =
    rules.maxLength !== undefined && name.length > rules.maxLength
      ? rules['x-length-message']
      : rules.pattern !== undefined && !new RegExp(rules.pattern, 'u').test(name)
        ? rules['x-pattern-message']
        : undefined;
  if (why === undefined) {
    spec.serviceAccountName = name;
    return [];
  }
  const here = keyAt(doc, lc, file, ['spec', 'serviceAccount'], true);
  return [
    here(
      'ERR_MANIFEST_SCHEMA',
      `spec.serviceAccount ${JSON.stringify(name)} ${why}: without serviceAccountName, it is the pod's serviceAccountName`,
    ),
  ];
}
