// What a cluster refuses in the metadata it sets itself, on any object (apimachinery's
// ValidateObjectMetaAccessor): berth ignores finalizers, ownerReferences and generation with a
// warning (tiers.ts), yet a file whose values there a cluster rejects is refused, so it does not
// load here and fail on `kubectl apply`: each finalizer a qualified name, and not both orphan and
// foregroundDeletion; each owner reference with an apiVersion that has a version, a kind, a name and
// a uid, not a v1 Event, and at most one of them the controller; generation not negative. Runs
// before the tiers drop those fields, on the value as read (nothing is assumed of its types). Pure.
import type { Document, LineCounter } from 'yaml';
import type { Diagnostic } from '../lib/yaml-validate.js';
import { isObj } from './plain.js';
import { qualifiedNameProblem } from './slips.js';
import { keyAt } from './tier-check.js';

const CODE = 'ERR_MANIFEST_INVALID';

/** The version of an apiVersion as apimachinery's ParseGroupVersion reads it ('' when it has none). */
function versionOf(apiVersion: string): string {
  const parts = apiVersion.split('/');
  if (parts.length > 2) return '';
  return parts[parts.length - 1] as string;
}

export function checkObjectMeta(doc: Document, value: unknown, lc: LineCounter, file: string): Diagnostic[] {
  const meta = isObj(value) ? value.metadata : undefined;
  if (!isObj(meta)) return [];
  const out: Diagnostic[] = [];
  const refuse = (path: Array<string | number>, message: string, onValue = true) =>
    out.push(keyAt(doc, lc, file, ['metadata', ...path], onValue)(CODE, message));
  const finalizers = Array.isArray(meta.finalizers) ? meta.finalizers : [];
  for (const [i, f] of finalizers.entries()) {
    const why = typeof f === 'string' ? qualifiedNameProblem(f) : undefined;
    if (why)
      refuse(
        ['finalizers', i],
        `finalizer ${f === '' ? '""' : f} is not a qualified name (${why}): a cluster rejects it too`,
      );
  }
  if (finalizers.includes('orphan') && finalizers.includes('foregroundDeletion'))
    refuse(
      ['finalizers'],
      'finalizers orphan and foregroundDeletion cannot both be set: a cluster rejects them too',
      false,
    );
  const refs = Array.isArray(meta.ownerReferences) ? meta.ownerReferences : [];
  let controller: string | undefined;
  for (const [i, ref] of refs.entries()) {
    if (!isObj(ref)) continue;
    const text = (k: string) => (typeof ref[k] === 'string' ? (ref[k] as string) : '');
    if (versionOf(text('apiVersion')) === '')
      refuse(
        ['ownerReferences', i, ...('apiVersion' in ref ? ['apiVersion'] : [])],
        `ownerReferences.${i}.apiVersion must name a version (v1, apps/v1): a cluster rejects it too`,
      );
    for (const k of ['kind', 'name', 'uid'])
      if (text(k) === '')
        refuse(
          ['ownerReferences', i, ...(k in ref ? [k] : [])],
          `ownerReferences.${i}.${k} must not be empty: a cluster rejects it too`,
        );
    if (['v1', '/v1'].includes(text('apiVersion')) && text('kind') === 'Event')
      refuse(
        ['ownerReferences', i],
        `ownerReferences.${i}: a v1 Event cannot be an owner: a cluster rejects it too`,
      );
    if (ref.controller !== true) continue;
    const name = `${text('kind')}/${text('name')}`;
    if (controller === undefined) controller = name;
    else
      refuse(
        ['ownerReferences', i, 'controller'],
        `ownerReferences.${i}: only one owner can be the controller (${controller} is already): a cluster rejects it too`,
      );
  }
  // A Pod's generation is set to 1 by the API server before it validates (podStrategy's
  // PrepareForCreate): only other kinds' is checked.
  const kind = isObj(value) ? value.kind : undefined;
  if (kind !== 'Pod' && typeof meta.generation === 'number' && meta.generation < 0)
    refuse(['generation'], `generation ${meta.generation} is negative: a cluster rejects it too`);
  return out;
}
