// `berth.dev/depends-on` between pods: parsing the annotation (`db`, `db:ready`, `db:started`,
// `setup:completed`), and what is wrong with the pods' dependencies taken together (an unknown
// condition, a pod that depends on itself, on a pod no manifest defines, on the completion of a pod
// that never completes, pods that wait for each other in a cycle). Pure: the loader decides what a
// problem does to its file.
import { findCycles } from './cycles.js';
import { dependencyIdentity, podIdentity } from './identity.js';
import type { ParsedDoc } from './position.js';

export const DEPENDS_ON = 'berth.dev/depends-on';

/**
 * What a dependent waits for: `ready` (every container ready: its readiness probe passes, or it runs
 * and has none), `started` (every app container started: its startup probe passed, or it runs and has
 * none), `completed` (every app container exited 0: a pod that runs to completion).
 */
export const CONDITIONS = ['ready', 'started', 'completed'] as const;
export type DependencyCondition = (typeof CONDITIONS)[number];

export interface DependencyEntry {
  /** The entry as written (`db:ready`). */
  text: string;
  /** The pod's name, in the dependent's namespace. */
  pod: string;
  /** Absent when the entry names an unknown one (a problem, below). */
  condition?: DependencyCondition;
}

const isCondition = (c: string): c is DependencyCondition => (CONDITIONS as readonly string[]).includes(c);

/** Each entry of a `berth.dev/depends-on` annotation: `name` is `name:ready`. */
export function dependencyEntries(annotations: Record<string, string> | undefined): DependencyEntry[] {
  return (annotations?.[DEPENDS_ON] ?? '')
    .split(',')
    .map((d) => d.trim())
    .filter(Boolean)
    .map((text) => {
      const colon = text.indexOf(':');
      if (colon < 0) return { text, pod: text, condition: 'ready' };
      const pod = text.slice(0, colon).trim();
      const condition = text.slice(colon + 1).trim();
      return { text, pod, ...(isCondition(condition) ? { condition } : {}) };
    });
}

/** The pods named by a `berth.dev/depends-on` annotation. */
export function dependsOn(annotations: Record<string, string> | undefined): string[] {
  return dependencyEntries(annotations).map((e) => e.pod);
}

export interface DependencyProblem {
  /** The pod whose annotation is at fault. */
  pod: ParsedDoc;
  message: string;
}

/** What is wrong with one entry of pod `self` on its own (its syntax), if anything. */
function entryProblem(self: string, e: DependencyEntry): string | undefined {
  const head = `pod ${self} depends on "${e.text}"`;
  if (!e.pod) return `${head}, which names no pod (expected name or name:condition)`;
  if (!e.condition) {
    const condition = e.text.slice(e.text.indexOf(':') + 1).trim();
    return `${head}: unknown condition "${condition}" (known: ${CONDITIONS.join(', ')})`;
  }
  return undefined;
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
    dependencyEntries(p.value.metadata.annotations).map((e) => ({
      ...e,
      d: e.pod,
      id: dependencyIdentity(p.value.metadata, e.pod),
    }));
  const byId = new Map(pods.map((p) => [idOf(p), p]));
  for (const p of pods) {
    const self = idOf(p);
    for (const e of needs(p)) {
      const { d, id } = e;
      const bad = entryProblem(self, e);
      const target = byId.get(id);
      if (bad) out.push({ pod: p, message: bad });
      else if (id === self) out.push({ pod: p, message: `pod ${d} cannot depend on itself` });
      else if (!target && complete)
        out.push({ pod: p, message: `pod ${self} depends on "${d}", which no manifest defines` });
      else if (e.condition === 'completed' && target && neverCompletes(target))
        out.push({
          pod: p,
          message: `pod ${self} depends on "${e.text}", but ${d} never completes (${neverCompletes(target)})`,
        });
    }
  }
  const graph = new Map(
    pods.map((p) => [
      idOf(p),
      needs(p)
        .filter((x) => x.pod)
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

/**
 * Why a Pod never completes, or undefined when it can: one of its app containers restarts whatever
 * its exit, under its own restartPolicy Always or the pod's (Kubernetes' default: Always).
 */
function neverCompletes(p: ParsedDoc): string | undefined {
  const spec = (p.value as { spec?: { restartPolicy?: string; containers?: unknown } }).spec;
  const containers = Array.isArray(spec?.containers) ? (spec.containers as Record<string, unknown>[]) : [];
  const own = containers.find((c) => c?.restartPolicy === 'Always');
  if (own) return `restartPolicy Always on container ${String(own.name)}`;
  if ((spec?.restartPolicy ?? 'Always') !== 'Always') return undefined;
  const byPod = containers.length === 0 || containers.some((c) => c?.restartPolicy === undefined);
  return byPod ? 'restartPolicy Always' : undefined;
}
