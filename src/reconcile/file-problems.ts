// The problems of manifest files that only reconcile finds, told as the loader tells a file's own
// (FILE:LINE, a code): pods desired state cannot build (`buildable`, given to the load, so their file
// falls back on its last good content and never becomes it: manifest/load-checks.ts) and pods whose
// planning threw (plan-guard.ts). Pure.
import type { Diagnostic } from '../lib/yaml-validate.js';
import { podIdentity } from '../manifest/identity.js';
import type { LoadedDoc } from '../manifest/kinds.js';
import { desiredState, type HostLayout } from './desired.js';
import type { Action } from './plan-types.js';

/**
 * Reconcile's loads: the problems of pods desired state cannot build, so that their file falls back
 * on its last good content, as a file with any other error does, and never becomes its last good
 * content (load-checks.ts). Built pods are remembered (desired-memo.ts): the pass builds them once.
 */
export const buildable =
  (host: HostLayout) =>
  (docs: LoadedDoc[]): Diagnostic[] =>
    (desiredState(docs, host).unusable ?? []).map((u) => u.diagnostic);

/** The diagnostics of pods whose planning threw (plan-guard.ts), at their document's line. */
export function unplannableDiagnostics(actions: Action[], docs: LoadedDoc[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const a of actions) {
    if (a.kind !== 'wait' || !a.unplannable) continue;
    const { file = '', code, message } = a.unplannable;
    const doc = docs.find(
      (d) => d.file === file && d.doc.kind === 'Pod' && podIdentity(d.doc.metadata) === a.pod,
    );
    out.push({
      file,
      line: doc?.line ?? 1,
      col: 1,
      code,
      message: `Pod ${a.pod} cannot be planned: ${message}`,
    });
  }
  return out;
}
