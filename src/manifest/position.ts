// A parsed document with what it takes to point at its nodes: `FILE:LINE:COL` of any path in it.
import type { Document, LineCounter } from 'yaml';
import { type Diagnostic, startOf } from '../lib/yaml-validate.js';
import type { ManifestDoc } from './kinds.js';

export interface ParsedDoc {
  doc: Document;
  value: ManifestDoc;
  file: string;
  lc: LineCounter;
}

/** A diagnostic at the node `path` of a document (the document's start when there is none). */
export function at(p: ParsedDoc, path: Array<string | number>, code: string, message: string): Diagnostic {
  const node = p.doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
  const pos = p.lc.linePos(node?.range?.[0] ?? startOf(p.doc));
  return { file: p.file, line: pos.line, col: pos.col, code, message };
}

/**
 * What an object check (objects/claim-checks.ts, service-checks.ts) calls to refuse a field of the
 * object's spec a cluster refuses: an ERR_MANIFEST_INVALID at `spec.<path>`, added to `out`.
 */
export function specRefuser(
  p: ParsedDoc,
  out: Diagnostic[],
): (path: Array<string | number>, why: string) => void {
  return (path, why) => {
    const field = ['spec', ...path];
    out.push(at(p, field, 'ERR_MANIFEST_INVALID', `${field.join('.')} ${why} (a cluster rejects it too)`));
  };
}
