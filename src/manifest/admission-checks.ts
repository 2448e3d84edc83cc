// What a cluster's default admission plugins refuse of a Pod on create, beyond validation.go, where
// the answer does not hang on objects only a cluster holds. berth ignores these scheduler fields
// (tiers.ts), but a file a cluster refuses is refused here too, at the field:
// - Priority (plugin/pkg/admission/priority): it computes spec.priority and spec.preemptionPolicy
//   from spec.priorityClassName and refuses a pod that gives other values. With no class named (and
//   no globalDefault class, as a cluster has none until one is made) that is 0 and
//   PreemptLowerPriority; system-node-critical and system-cluster-critical, the classes every
//   cluster makes, are 2000001000 and 2000000000, PreemptLowerPriority. Another class's values are
//   the cluster's own: not checked.
// - RuntimeClass (plugin/pkg/admission/runtimeclass): spec.overhead comes from the pod's
//   RuntimeClass; one given (but {}, none to admission) with no runtimeClassName is refused (with one, berth refuses
//   runtimeClassName itself).
// The tier check took these warned fields out of the value, so the document is read again, aliases
// and merges resolved, a null field unset. Pure.
import type { Diagnostic } from '../lib/yaml-validate.js';
import { isObj, podParts } from './plain.js';
import type { ParsedDoc } from './position.js';
import { keyAt } from './tier-check.js';

const PREEMPT = 'PreemptLowerPriority';

/** The values a cluster computes from a priorityClassName (none: ''), or undefined when it is the cluster's own. */
function computed(className: unknown): { priority: number; policy: string } | undefined {
  if (className === undefined || className === null || className === '')
    return { priority: 0, policy: PREEMPT };
  if (className === 'system-node-critical') return { priority: 2000001000, policy: PREEMPT };
  if (className === 'system-cluster-critical') return { priority: 2000000000, policy: PREEMPT };
  return undefined;
}

export function checkAdmission(p: ParsedDoc): Diagnostic[] {
  const { spec } = podParts(p.doc.toJS());
  const out: Diagnostic[] = [];
  const refuse = (field: string, message: string) =>
    out.push(keyAt(p.doc, p.lc, p.file, ['spec', field], true)('ERR_MANIFEST_INVALID', message));
  const want = computed(spec.priorityClassName);
  const from =
    typeof spec.priorityClassName === 'string' && spec.priorityClassName !== ''
      ? `from priorityClassName ${spec.priorityClassName}`
      : 'where no priorityClassName is given (and no PriorityClass is its globalDefault)';
  if (want && typeof spec.priority === 'number' && spec.priority !== want.priority)
    refuse(
      'priority',
      `spec.priority ${spec.priority}: a cluster computes ${want.priority} ${from} and refuses another value (Priority admission); leave it out or name the class`,
    );
  if (want && typeof spec.preemptionPolicy === 'string' && spec.preemptionPolicy !== want.policy)
    refuse(
      'preemptionPolicy',
      `spec.preemptionPolicy ${spec.preemptionPolicy}: a cluster computes ${want.policy} ${from} and refuses another value (Priority admission); a PriorityClass gives Never`,
    );
  const runtimeClass = spec.runtimeClassName;
  // An empty map is none to admission (kubernetes#124899: client libraries send `overhead: {}`).
  const overhead = isObj(spec.overhead) ? Object.keys(spec.overhead).length > 0 : spec.overhead != null;
  if (overhead && (runtimeClass === undefined || runtimeClass === null || runtimeClass === ''))
    refuse(
      'overhead',
      'spec.overhead without a runtimeClassName: a cluster sets it from the RuntimeClass and refuses one given otherwise (RuntimeClass admission); leave it out',
    );
  return out;
}
