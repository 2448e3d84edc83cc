// `kind: List` and `kind: PodList` (apiVersion v1): what `kubectl get pods -o yaml` writes and the
// kubelet's static pod files accept. Each item becomes a document of its own, checked as if it stood
// alone, with positions still in the file's text (its nodes keep their offsets). Pure.
import { type Document, isMap, isSeq, type Node, Document as YamlDocument } from 'yaml';
import type { Diagnostic } from '../lib/yaml-validate.js';
import { at, type ParsedDoc } from './position.js';

const LIST_KINDS = new Set(['v1/List', 'v1/PodList']);

export function isListKind(apiVersion: unknown, kind: unknown): boolean {
  return LIST_KINDS.has(`${String(apiVersion)}/${String(kind)}`);
}

export interface ListItem {
  doc: Document;
  value: unknown;
  /** The item's offset in the text, for a diagnostic with no node of its own. */
  offset: number;
}

/** The items of a List document, or the one problem that makes it unusable. */
export function listItems(p: ParsedDoc): { items: ListItem[] } | { problem: Diagnostic } {
  const { doc } = p;
  const value = p.value as unknown as { kind: string; items?: unknown };
  const seq = doc.get('items', true);
  // A List cut short at `items:` reads as one with no items: only `items: []` says "nothing".
  if (!isSeq(seq) || !Array.isArray(value.items))
    return {
      problem: at(
        p,
        value.items === undefined ? ['kind'] : ['items'],
        'ERR_MANIFEST_INVALID',
        `a ${value.kind} needs items: a sequence of manifests (items: [] for none)`,
      ),
    };
  const items: ListItem[] = [];
  for (const [i, node] of seq.items.entries()) {
    const item = value.items[i] as Record<string, unknown> | null;
    if (!isMap(node) || item === null || typeof item !== 'object' || Array.isArray(item))
      return {
        problem: at(
          p,
          ['items', i],
          'ERR_MANIFEST_INVALID',
          `items[${i}] must be a mapping with apiVersion and kind`,
        ),
      };
    if (isListKind(item.apiVersion, item.kind))
      return {
        problem: at(
          p,
          ['items', i, 'kind'],
          'ERR_MANIFEST_KIND',
          `items[${i}] is a ${String(item.kind)}: a list inside a list is not read`,
        ),
      };
    // The API's PodList leaves kind and apiVersion off its items; every item of one is a Pod.
    if (value.kind === 'PodList' && item.kind === undefined && item.apiVersion === undefined) {
      item.apiVersion = 'v1';
      item.kind = 'Pod';
    }
    if (value.kind === 'PodList' && (item.kind !== 'Pod' || item.apiVersion !== 'v1'))
      return {
        problem: at(p, ['items', i], 'ERR_MANIFEST_KIND', `items[${i}] of a PodList must be a v1 Pod`),
      };
    const sub = new YamlDocument(node as Node, { merge: true });
    items.push({ doc: sub, value: item, offset: node.range?.[0] ?? 0 });
  }
  return { items };
}
