// YAML text → validated value, with every problem reported as `file:line:col: CODE: message`
// pointing at the offending node. Shared by the host config and manifests.
import { createRequire } from 'node:module';
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';
import { type Document, isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import { BerthError } from './errors.js';
import { printable } from './printable.js';

export interface Diagnostic {
  file: string;
  line: number;
  col: number;
  code: string;
  message: string;
}

/**
 * The one-line form people and logs read. Its file name and message may carry what a manifest wrote
 * (a value named in a message): control characters are escaped, so the line stays one line and
 * cannot move the cursor or clear a terminal (JSON output keeps the Diagnostic itself).
 */
export function formatDiagnostic(d: Diagnostic): string {
  return printable(`${d.file}:${d.line}:${d.col}: ${d.code}: ${d.message}`);
}

/**
 * How berth's schemas are compiled, at run time here and at build time (scripts/bundle.mjs makes
 * the bundle's precompiled validators with these). validateSchema off: checking berth's own schemas
 * against the draft-07 meta-schema compiled that meta-schema in every process (~20 ms of CPU); the
 * schemas are checked once, by test/unit/schemas-valid.test.ts.
 */
export const AJV_OPTIONS = { allErrors: true, strict: false, validateSchema: false } as const;

// Made on first use (~4 ms), when a schema has no validator compiled at build time (running from
// source: the tests). ajv is required then, not imported: the bundle's schemas are all compiled, and
// evaluating ajv's modules cost every CLI start that reads the host config some 10 ms.
let ajv: Ajv | undefined;
const validators = new WeakMap<object, ValidateFunction>();

/** `validate` stands for `schema` (a validator compiled at build time: precompiled-validators.ts). */
export function usePrecompiled(schema: object, validate: ValidateFunction): void {
  if (!validators.has(schema)) validators.set(schema, validate);
}

function validatorFor(schema: object): ValidateFunction {
  let v = validators.get(schema);
  if (!v) {
    ajv ??= new (createRequire(import.meta.url)('ajv') as typeof import('ajv')).Ajv(AJV_OPTIONS);
    v = ajv.compile(schema);
    validators.set(schema, v);
  }
  return v;
}

/** A parsed document's YAML syntax errors, positioned. */
export function syntaxDiagnostics(doc: Document, lc: LineCounter, file: string): Diagnostic[] {
  return doc.errors.map((e) => {
    const pos = lc.linePos(e.pos[0]);
    return {
      file,
      line: pos.line,
      col: pos.col,
      code: 'ERR_YAML_SYNTAX',
      message: STACK_OUT.test(e.message) ? TOO_DEEP_TO_READ : (e.message.split('\n')[0] ?? ''),
    };
  });
}

/** V8's RangeError, which the yaml library's recursive parser reports as a document error (or throws). */
export const STACK_OUT = /^Maximum call stack size exceeded/;
export const TOO_DEEP_TO_READ =
  'collections nested too deep to read: the YAML reader ran out of stack (some hundreds of levels)';

/** Every schema violation of one parsed document, positioned at the offending node. */
export function validateDocument(
  doc: Document,
  value: unknown,
  lc: LineCounter,
  file: string,
  schema: object,
  code: string,
): Diagnostic[] {
  const validate = validatorFor(schema);
  if (validate(value)) return [];
  const out = withoutBranchNoise(validate.errors ?? []).map((err) =>
    diagnosticFor(err, doc, lc, file, code, schema),
  );
  // The same node and message can come from several branches (oneOf): report it once.
  const seen = new Set<string>();
  return out.filter((d) => {
    const key = formatDiagnostic(d);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * A `oneOf` that fails because of another error at or under the same node (an unknown field, a bad
 * value) says nothing more: one problem is one diagnostic, not the branch-by-branch list.
 */
function withoutBranchNoise(errors: ErrorObject[]): ErrorObject[] {
  // `propertyNames` repeats, as "property name must be valid", the error its own schema just gave.
  errors = errors.filter(
    (e) =>
      e.keyword !== 'propertyNames' ||
      !errors.some(
        (o) => o !== e && o.instancePath === e.instancePath && o.schemaPath.includes('/propertyNames/'),
      ),
  );
  // An `if` that failed its `then` (or `else`) says only that; the branch's own error says what.
  errors = errors.filter(
    (e) => e.keyword !== 'if' || !errors.some((o) => /\/(then|else)\//.test(o.schemaPath)),
  );
  // A failed `anyOf` is one line (its node's `x-anyof-message` says what the branches mean: a
  // quantity, string or number); its branches' own errors (a pattern, a type) only repeat it less clearly.
  const anyOfs = errors.filter((e) => e.keyword === 'anyOf');
  errors = errors.filter(
    (e) =>
      !anyOfs.some(
        (w) => w !== e && e.instancePath === w.instancePath && e.schemaPath.startsWith(`${w.schemaPath}/`),
      ),
  );
  const isBranch = (e: ErrorObject) => e.keyword === 'oneOf' || e.schemaPath.includes('/oneOf/');
  const real = errors.filter((e) => !isBranch(e));
  return errors.filter(
    (e) =>
      !isBranch(e) ||
      (!real.some(
        (o) => o.instancePath === e.instancePath || o.instancePath.startsWith(`${e.instancePath}/`),
      ) &&
        e.keyword === 'oneOf'),
  );
}

/** Parse YAML and validate it against `schema`; throws one BerthError whose `lines` hold one diagnostic each. */
export function parseYamlWithSchema<T>(
  text: string,
  file: string,
  schema: object,
  code: string,
): T | undefined {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const diagnostics = syntaxDiagnostics(doc, lineCounter, file);
  if (diagnostics.length === 0) {
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) return undefined;
    const validate = validatorFor(schema);
    if (!validate(value)) {
      for (const err of withoutBranchNoise(validate.errors ?? []))
        diagnostics.push(diagnosticFor(err, doc, lineCounter, file, code, schema));
    } else {
      return value as T;
    }
  }
  const lines = diagnostics.map(formatDiagnostic);
  throw new BerthError(code, 'invalid', lines.join('\n'), { lines });
}

function diagnosticFor(
  err: ErrorObject,
  doc: Document,
  lc: LineCounter,
  file: string,
  code: string,
  schema?: object,
): Diagnostic {
  const path = err.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  let node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
  let subject = err.instancePath === '' ? 'document' : err.instancePath.slice(1).replace(/\//g, '.');
  let message = `${subject} ${err.message ?? 'is invalid'}`;
  if (err.keyword === 'additionalProperties') {
    const extra = String((err.params as { additionalProperty: string }).additionalProperty);
    const parent = doc.getIn(path, true);
    if (isMap(parent)) {
      const pair = parent.items.find((p) => (p.key as { value?: unknown } | null)?.value === extra);
      node = (pair?.key as typeof node) ?? node;
    }
    subject = [...path, extra].join('.');
    const near = schema ? nearestField(extra, schemaNode(schema, err.schemaPath)?.properties) : undefined;
    message = `unknown field ${subject}${near ? ` (did you mean ${near}?)` : ''}`;
  } else if (err.keyword === 'pattern' && schema) {
    // A pattern says nothing to people: its schema node may carry the words (`x-pattern-message`).
    const words = schemaNode(schema, err.schemaPath)?.['x-pattern-message'];
    if (typeof words === 'string') message = `${subject} ${words}`;
  } else if (err.keyword === 'maxLength' && schema) {
    // A bound berth sets tighter than Kubernetes says why (`x-length-message`).
    const words = schemaNode(schema, err.schemaPath)?.['x-length-message'];
    if (typeof words === 'string') message = `${subject} ${words}`;
  } else if (err.keyword === 'anyOf' && schema) {
    const words = schemaNode(schema, err.schemaPath)?.['x-anyof-message'];
    if (typeof words === 'string') message = `${subject} ${words}`;
  } else if (err.keyword === 'maximum' && schema) {
    // A bound that is not Kubernetes' own says where it comes from (`x-bound-message`).
    const words = schemaNode(schema, err.schemaPath)?.['x-bound-message'];
    if (typeof words === 'string') message = `${subject} ${words}`;
  } else if (err.keyword === 'required' && schemaWords(schema, err.schemaPath, 'x-required-message')) {
    // A field one case needs (a selector's values for operator In) may say which case.
    const missing = String((err.params as { missingProperty: string }).missingProperty);
    message = `${subject}.${missing} ${schemaWords(schema, err.schemaPath, 'x-required-message')}`;
  } else if (
    /^(min|max)(Properties|Items)$/.test(err.keyword) &&
    schemaWords(schema, err.schemaPath, 'x-count-message')
  ) {
    // A count with its own words (a probe's one action, a selector's values for its operator).
    message = `${subject} ${schemaWords(schema, err.schemaPath, 'x-count-message')}`;
  } else if (err.keyword === 'oneOf') {
    // None given (a probe with only its timing): name what it may have, when each branch names one.
    const branches = schema ? schemaNode(schema, err.schemaPath)?.oneOf : undefined;
    const names = Array.isArray(branches)
      ? branches.map((b: { required?: unknown }) =>
          Array.isArray(b?.required) && b.required.length === 1 ? String(b.required[0]) : undefined,
        )
      : [];
    const none = (err.params as { passingSchemas?: unknown }).passingSchemas == null;
    message =
      none && names.length > 0 && names.every(Boolean)
        ? `${subject} must have one of ${names.join(', ')} (none is given)`
        : `${subject} must have exactly one of its possible sources, not several`;
  } else if (err.keyword === 'false schema' && schema) {
    // A field forbidden in one case (a probe on an init container that is not a sidecar): the
    // `then` that forbids it may say why (`x-false-message`), three steps up its schema path.
    const words = schemaNode(schema, err.schemaPath.split('/').slice(0, -2).join('/'))?.['x-false-message'];
    message = `${subject} ${typeof words === 'string' ? words : 'is not allowed here'}`;
  } else if (err.keyword === 'const') {
    // A value one case pins (a toleration's with operator Exists) may say which case (`x-const-message`).
    const words = schema ? schemaNode(schema, err.schemaPath)?.['x-const-message'] : undefined;
    message = `${subject} must be ${JSON.stringify((err.params as { allowedValue: unknown }).allowedValue)}${typeof words === 'string' ? ` ${words}` : ''}`;
  } else if (err.keyword === 'uniqueItems') {
    // At the later of the two equal items, where the repeat is; its node may say why (`x-unique-message`).
    // ajv names the two as i and j, the later one either way round (scalars are seen from the end).
    const { i: a, j: b } = err.params as { i: number; j: number };
    const i = Math.max(a, b);
    node = (doc.getIn([...path, i], true) as typeof node) ?? node;
    const words = schema ? schemaNode(schema, err.schemaPath)?.['x-unique-message'] : undefined;
    message = `${subject}.${i} ${typeof words === 'string' ? words : `repeats an earlier item`}`;
  } else if (
    err.keyword === 'type' &&
    isScalar(node) &&
    node.type === 'PLAIN' &&
    typeof node.value === 'string' &&
    String((err.params as { type: unknown }).type).includes('string')
  ) {
    // Read as a string here, yet not one to the schema: a YAML 1.1 boolean (manifest/yaml11-bools.ts).
    const text = node.source ?? node.value;
    message = `${subject} must be a string: a plain ${text} is a boolean to Kubernetes (YAML 1.1), which rejects it there; quote it ("${text}")`;
  } else if (err.keyword === 'enum') {
    const values = (err.params as { allowedValues: unknown[] }).allowedValues;
    message = `${subject} must be one of ${values.map((v) => (v === '' ? '""' : String(v))).join(', ')}`;
  }
  const offset = node?.range?.[0] ?? startOf(doc);
  const pos = lc.linePos(offset);
  return { file, line: pos.line, col: pos.col, code, message };
}

/** `file:line:col` of the node at `path` in a one-document text (its start when there is none). */
export function positionOf(text: string, file: string, path: string[]): string {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
  const pair = isMap(doc.contents)
    ? doc.contents.items.find((p) => (p.key as { value?: unknown } | null)?.value === path[0])
    : undefined;
  // The section's key, where the user looks for it (`network:`), rather than its first value.
  const offset =
    path.length === 1 && pair
      ? ((pair.key as { range?: [number, number, number] }).range?.[0] ?? 0)
      : (node?.range?.[0] ?? startOf(doc));
  const pos = lc.linePos(offset);
  return `${file}:${pos.line}:${pos.col}`;
}

/** Where a document's content starts (for a List's item, where the item starts in the file). */
export function startOf(doc: Document): number {
  return (doc.contents as { range?: [number, number, number] } | null)?.range?.[0] ?? 0;
}

/** The schema object holding the keyword at `schemaPath` (`#/properties/a/pattern` → properties.a). */
function schemaNode(schema: object, schemaPath: string): Record<string, unknown> | undefined {
  let node: unknown = schema;
  for (const key of schemaPath.split('/').slice(1, -1)) {
    if (!node || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return node && typeof node === 'object' ? (node as Record<string, unknown>) : undefined;
}

/** The words (`x-…-message`) the schema node of an error gives, if any. */
function schemaWords(schema: object | undefined, schemaPath: string, key: string): string | undefined {
  const words = schema ? schemaNode(schema, schemaPath)?.[key] : undefined;
  return typeof words === 'string' ? words : undefined;
}

/** A known field one slip away from `name` (case, one letter more, less or changed), if any. */
function nearestField(name: string, properties: unknown): string | undefined {
  if (!properties || typeof properties !== 'object') return undefined;
  const known = Object.keys(properties);
  return (
    known.find((k) => k.toLowerCase() === name.toLowerCase()) ??
    (name.length > 3 ? known.find((k) => editDistance(k, name) === 1) : undefined)
  );
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j] as number;
      row[j] = Math.min(cur + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length] as number;
}
