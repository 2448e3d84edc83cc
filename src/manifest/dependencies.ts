// `berth.dev/depends-on` between pods: parsing the annotation, and what is wrong with the pods'
// dependencies taken together (a pod that depends on itself, on a pod no manifest defines, pods that
// wait for each other in a cycle). Pure: the loader decides what a problem does to its file.
import { findCycles } from './cycles.js';
import { dependencyIdentity, podIdentity } from './identity.js';
import type { ParsedDoc } from './position.js';

export const DEPENDS_ON = 'berth.dev/depends-on';

/** The pods named by a `berth.dev/depends-on` annotation. */
export function dependsOn(annotations: Record<string, string> | undefined): string[] {
  return (annotations?.[DEPENDS_ON] ?? '')
    .split(',')
    .map((d) => d.trim())
    .filter(Boolean);
}

export interface DependencyProblem {
  /** The pod whose annotation is at fault. */
  pod: ParsedDoc;
  message: string;
}

/**
 * Every dependency problem of `pods`; an unknown pod counts only when `complete` (no file's pods are
 * unknown: a broken file without a last good content still runs what it defined).
 */
export function dependencyProblems(pods: ParsedDoc[], complete: boolean): DependencyProblem[] {
  const out: DependencyProblem[] = [];
  // Pods are known by identity (namespace + name); an annotation names pods of its own namespace.
  const idOf = (p: ParsedDoc) => podIdentity(p.value.metadata);
  const needs = (p: ParsedDoc) =>
    dependsOn(p.value.metadata.annotations).map((d) => ({ d, id: dependencyIdentity(p.value.metadata, d) }));
  const names = new Set(pods.map(idOf));
  for (const p of pods) {
    const self = idOf(p);
    for (const { d, id } of needs(p)) {
      if (id === self) out.push({ pod: p, message: `pod ${d} cannot depend on itself` });
      else if (!names.has(id) && complete)
        out.push({ pod: p, message: `pod ${self} depends on "${d}", which no manifest defines` });
    }
  }
  const graph = new Map(
    pods.map((p) => [
      idOf(p),
      needs(p)
        .map((x) => x.id)
        .filter((id) => id !== idOf(p)),
    ]),
  );
  for (const cycle of findCycles(graph)) {
    const message = `pods ${cycle.join(' → ')} depend on each other: none of them would ever start`;
    for (const name of new Set(cycle)) {
      const pod = pods.find((x) => idOf(x) === name) as ParsedDoc;
      out.push({ pod, message });
    }
  }
  return out;
}
