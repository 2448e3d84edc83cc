// One manifest file's text → its documents, each validated against its kind's schema and then by
// the checks a schema cannot make (checks.ts); a v1 List or PodList is its items (lists.ts). Pure:
// positions come from the text alone. A file with no document at all is an error
// (ERR_MANIFEST_EMPTY): an empty or comment-only file is what a half-written copy looks like, and
// only deleting a file may remove what it defines.
import { type Document, isMap, LineCounter, parseAllDocuments } from 'yaml';
import { loadSchema } from '../lib/schemas.js';
import { MAX_BLOCK_DEPTH, MAX_FLOW_DEPTH, type TooDeep, tooDeepAt } from '../lib/yaml-depth.js';
import {
  type Diagnostic,
  STACK_OUT,
  syntaxDiagnostics,
  TOO_DEEP_TO_READ,
  validateDocument,
} from '../lib/yaml-validate.js';
import { checkAnnotationSize } from './annotation-size.js';
import { checkImage, checkPod } from './checks.js';
import { cleanVolumePaths } from './clean-paths.js';
import { clusterKindWarning } from './cluster-kinds.js';
import { dropEmptyObjectFields, dropEmptyStrings } from './empty-strings.js';
import { refuseHugePagesMedium } from './hugepages-medium.js';
import type { ManifestDoc } from './kinds.js';
import { isListKind, listItems } from './lists.js';
import { checkNulStrings } from './nul-strings.js';
import { dropNullFields } from './nulls.js';
import { checkObjectMeta } from './object-meta-checks.js';
import { checkObject } from './objects/checks.js';
import { checkPodAnnotations } from './pod-annotation-checks.js';
import { at, type ParsedDoc } from './position.js';
import { checkSecurityAnnotationMatch } from './security-annotation-match.js';
import { aliasServiceAccount } from './service-account-alias.js';
import { isError } from './severity.js';
import { applyPodmanSlips } from './slips.js';
import { applyObjectTiers, applyPodTiers, dropCheckedFields } from './tier-check.js';
import { dropTokenCa } from './token-ca.js';
import { atWrittenColumn, quoteEscapes, quoteEscapeWarnings, withoutQuoteEscapes } from './yaml-escapes.js';
import { applyYaml11Bools } from './yaml11-bools.js';
import { withYaml11Ints } from './yaml11-ints.js';

const KINDS: Record<string, { schema: string }> = {
  'v1/Pod': { schema: 'pod.schema.json' },
  'berth.dev/v1alpha1/Image': { schema: 'image.schema.json' },
  'v1/ConfigMap': { schema: 'configmap.schema.json' },
  'v1/Secret': { schema: 'secret.schema.json' },
  'v1/PersistentVolumeClaim': { schema: 'persistentvolumeclaim.schema.json' },
  'v1/Service': { schema: 'service.schema.json' },
};

/** The schemas (schemas/ file names) manifests are validated against. */
export const MANIFEST_SCHEMAS = Object.values(KINDS).map((k) => k.schema);

export interface ParsedFile {
  parsed: ParsedDoc[];
  diagnostics: Diagnostic[];
}

export function parseFile(text: string, file: string): ParsedFile {
  let lc = new LineCounter();
  const parsed: ParsedDoc[] = [];
  const diagnostics: Diagnostic[] = [];
  // JSON is YAML too; `0400` is octal, `1_000` is 1000 and `<<: *base` merges a mapping in, as
  // Kubernetes reads them (sigs.k8s.io/yaml is YAML 1.1: yaml-octal.ts, yaml11-ints.ts).
  const parse = (source: string) => {
    lc = new LineCounter();
    return parseAllDocuments(source, {
      lineCounter: lc,
      prettyErrors: false,
      // Always the core schema: a `%YAML 1.1` directive would switch to the yaml library's 1.1 schema
      // (dates as timestamps, `1:30` as 90), which is not how go-yaml reads a file either.
      schema: 'core',
      customTags: (tags) => withYaml11Ints(tags),
      merge: true,
    });
  };
  const many = tooManyDocuments(text, file);
  if (many) return { parsed: [], diagnostics: [many] };
  const deep = tooDeepAt(text);
  if (deep !== undefined) return { parsed: [], diagnostics: [tooDeep(text, deep, file)] };
  let docs: ReturnType<typeof parse>;
  let escapes: ReturnType<typeof quoteEscapes>;
  let escapeWarnings: Diagnostic[];
  try {
    docs = parse(text);
    // `\'` in a double-quoted string, as go-yaml reads it (yaml-escapes.ts): read again without them.
    escapes = quoteEscapes(text, Array.isArray(docs) ? docs : [docs]);
    escapeWarnings = quoteEscapeWarnings(text, escapes, file);
    if (escapes.length > 0) {
      docs = parse(withoutQuoteEscapes(text, escapes));
      diagnostics.push(...escapeWarnings);
    }
  } catch (err) {
    // The yaml library's recursive parser out of stack, some thousands of levels down (under
    // go-yaml's bound, which tooDeepAt holds): a syntax error of the file, not of berth.
    if (!(err instanceof RangeError && STACK_OUT.test(err.message))) throw err;
    return {
      parsed: [],
      diagnostics: [{ file, line: 1, col: 1, code: 'ERR_YAML_SYNTAX', message: TOO_DEEP_TO_READ }],
    };
  }
  let documents = 0;
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    let one: ReturnType<typeof checkDocument>;
    try {
      one = checkDocument(doc, lc, file);
    } catch (err) {
      one = { empty: false, diagnostics: [thrown(err, lc, file, doc.range?.[0] ?? 0)], parsed: [] };
    }
    if (!one.empty) documents++;
    diagnostics.push(...one.diagnostics);
    parsed.push(...one.parsed);
  }
  if (documents === 0) {
    diagnostics.push({
      file,
      line: 1,
      col: 1,
      code: 'ERR_MANIFEST_EMPTY',
      message:
        'the file has no documents (empty, or only comments): what it defined stays as it was; delete the file to remove it',
    });
  }
  if (escapes.length === 0) return { parsed, diagnostics };
  const written = atWrittenColumn(text, escapes); // the warnings (first) are placed so already
  return { parsed, diagnostics: diagnostics.map((d, i) => (i < escapeWarnings.length ? d : written(d))) };
}

/**
 * The most documents a file may hold (its `---` markers, counted before the YAML is read). One host
 * runs some hundred pods; without a bound, a 4 MiB file of `---` lines was a million documents,
 * 17 s of the daemon's thread and a gigabyte of memory to read.
 */
export const MAX_DOCUMENTS = 1000;

/** ERR_TOO_MANY_DOCUMENTS at the marker past MAX_DOCUMENTS, or undefined. */
function tooManyDocuments(text: string, file: string): Diagnostic | undefined {
  const marker = /^---(?=[ \t\r\n]|$)/gm;
  let count = 0;
  for (let m = marker.exec(text); m; m = marker.exec(text)) {
    if (++count <= MAX_DOCUMENTS) continue;
    return {
      file,
      line: text.slice(0, m.index).split('\n').length,
      col: 1,
      code: 'ERR_TOO_MANY_DOCUMENTS',
      message: `more than ${MAX_DOCUMENTS} documents in one file: split it into several files`,
    };
  }
  return undefined;
}

/** A text nested past go-yaml's bound (lib/yaml-depth.ts), placed where the level past it opens. */
function tooDeep(text: string, { offset, kind }: TooDeep, file: string): Diagnostic {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const what =
    kind === 'flow'
      ? `flow collections ([ and {) nested more than ${MAX_FLOW_DEPTH} deep`
      : `block collections opened on one line (- - - …) nested more than ${MAX_BLOCK_DEPTH} deep`;
  return {
    file,
    line,
    col: offset - before.lastIndexOf('\n'),
    code: 'ERR_YAML_SYNTAX',
    message: `${what}: go-yaml, and so a cluster, refuses it too ("exceeded max depth of ${MAX_FLOW_DEPTH}")`,
  };
}

/** One document: empty, or checked (a ParsedDoc for each object it defines when it has no problem). */
function checkDocument(
  doc: Document.Parsed,
  lc: LineCounter,
  file: string,
): { empty: boolean; diagnostics: Diagnostic[]; parsed: ParsedDoc[] } {
  if (doc.errors.length > 0)
    return { empty: false, diagnostics: syntaxDiagnostics(doc, lc, file), parsed: [] };
  const value = doc.toJS() as unknown;
  if (value === null || value === undefined) return { empty: true, diagnostics: [], parsed: [] };
  const p = { doc, value: value as ManifestDoc, file, lc };
  const { apiVersion, kind } = (isMap(doc.contents) ? value : {}) as { apiVersion?: unknown; kind?: unknown };
  if (!isListKind(apiVersion, kind)) return { empty: false, ...checkObjectDocument(p) };
  dropNullFields(value);
  const list = listItems(p);
  if ('problem' in list) return { empty: false, diagnostics: [list.problem], parsed: [] };
  const diagnostics: Diagnostic[] = [];
  const parsed: ParsedDoc[] = [];
  for (const item of list.items) {
    let one: ReturnType<typeof checkObjectDocument>;
    try {
      one = checkObjectDocument({ doc: item.doc, value: item.value as ManifestDoc, file, lc });
    } catch (err) {
      one = { diagnostics: [thrown(err, lc, file, item.offset)], parsed: [] };
    }
    diagnostics.push(...one.diagnostics);
    parsed.push(...one.parsed);
  }
  return { empty: false, diagnostics, parsed };
}

/** One object (a document, or an item of a List): its diagnostics, and itself when it has no error. */
function checkObjectDocument(p: ParsedDoc): { diagnostics: Diagnostic[]; parsed: ParsedDoc[] } {
  const { doc, value, lc, file } = p;
  const problem = (d: Diagnostic) => ({ diagnostics: [d], parsed: [] });
  if (!isMap(doc.contents))
    return problem(
      at(p, [], 'ERR_MANIFEST_INVALID', 'a manifest must be a mapping with apiVersion and kind'),
    );
  dropNullFields(value);
  const { apiVersion, kind } = value as { apiVersion?: unknown; kind?: unknown };
  if (apiVersion === undefined && kind !== undefined)
    return problem(
      at(
        p,
        ['kind'],
        'ERR_MANIFEST_KIND',
        `the ${String(kind)} has no apiVersion: a cluster rejects it too (add apiVersion: v1)`,
      ),
    );
  if (kind === undefined && apiVersion === undefined)
    return problem(
      at(
        p,
        [],
        'ERR_MANIFEST_KIND',
        'the document has no apiVersion and no kind: a cluster rejects it too ("Object \'Kind\' is missing"); an empty document is one with nothing in it, not {}',
      ),
    );
  if (kind === undefined && apiVersion !== undefined)
    return problem(
      at(
        p,
        [],
        'ERR_MANIFEST_KIND',
        `the document (apiVersion ${String(apiVersion)}) has no kind: a cluster rejects it too (add kind: Pod, or the kind it is)`,
      ),
    );
  const known = KINDS[`${String(apiVersion)}/${String(kind)}`];
  const ignored = known ? undefined : clusterKindWarning(p, apiVersion, kind);
  if (ignored) return { diagnostics: [ignored], parsed: [] };
  if (!known) {
    return problem(
      at(
        p,
        kind === undefined ? [] : ['kind'],
        'ERR_MANIFEST_KIND',
        `apiVersion ${String(apiVersion)}, kind ${String(kind)} is not a kind berth runs (v1 Pod, ConfigMap, Secret, PersistentVolumeClaim, Service, and a v1 List or PodList of them; berth.dev/v1alpha1 Image)`,
      ),
    );
  }
  const schema = loadSchema(known.schema);
  applyYaml11Bools(doc, value);
  if (kind !== 'Image') dropEmptyObjectFields(kind, value);
  // A Pod's warned and refused fields, and the slips podman tolerates, are said (and dropped) first;
  // the other v1 objects' cluster-set metadata too.
  const early =
    kind === 'Pod'
      ? podPrechecks(doc, value, lc, file, schema)
      : kind === 'Image'
        ? []
        : [...checkObjectMeta(doc, value, lc, file), ...applyObjectTiers(doc, value, lc, file)];
  const problems = validateDocument(doc, value, lc, file, schema, 'ERR_MANIFEST_SCHEMA');
  if (kind === 'Pod') dropCheckedFields(value, schema);
  if (problems.length === 0) {
    const kind = p.value.kind;
    problems.push(...(kind === 'Pod' ? checkPod(p) : kind === 'Image' ? checkImage(p) : checkObject(p)));
    problems.push(...checkNulStrings(p), ...checkAnnotationSize(p));
  }
  problems.unshift(...early);
  problems.sort((a, b) => a.line - b.line || a.col - b.col);
  // Warnings are reported, and the document is used all the same.
  const usable = !problems.some(isError);
  return { diagnostics: problems, parsed: usable ? [p] : [] };
}

/** Whatever a document does to the parser (an alias bomb: "Excessive alias count"), it is a
 * problem of its file, never an exception out of the load. */
function thrown(err: unknown, lc: LineCounter, file: string, offset: number): Diagnostic {
  const pos = lc.linePos(offset);
  const why = err instanceof Error ? err.message : String(err);
  return { file, line: pos.line, col: pos.col, code: 'ERR_MANIFEST_INVALID', message: why };
}

function podPrechecks(
  doc: Document,
  value: unknown,
  lc: LineCounter,
  file: string,
  schema: object,
): Diagnostic[] {
  dropEmptyStrings(value);
  cleanVolumePaths(value);
  const alias = aliasServiceAccount(doc, value, lc, file, schema);
  return [
    ...alias,
    ...checkObjectMeta(doc, value, lc, file),
    ...checkPodAnnotations(doc, value, lc, file),
    ...checkSecurityAnnotationMatch(doc, value, lc, file),
    ...dropTokenCa(doc, value, lc, file),
    ...applyPodTiers(doc, value, lc, file, schema),
    ...applyPodmanSlips(doc, value, lc, file),
    ...refuseHugePagesMedium(doc, value, lc, file),
  ];
}
