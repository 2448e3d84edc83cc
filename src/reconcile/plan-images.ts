// The planner's first step: every image the pods and Image documents want that the store lacks
// (or holds but has not unpacked) is pulled, unless a pull of it is already under way, it failed
// and backs off, or its pull policy is Never. Images that will not be there after this pass are
// returned as `unpullable`: the pods that need them wait. Pure.
import { activeFailure, imageKey } from './failures.js';
import type { Action, PlanInput } from './plan-types.js';
import { backingOff } from './plan-waits.js';

export function planImages(input: PlanInput): { actions: Action[]; unpullable: Set<string> } {
  const { desired, observed, frozen } = input;
  const failures = input.failures ?? {};
  const inFlight = input.inFlight ?? new Map<string, string>();
  const actions: Action[] = [];
  const wanted = new Map<string, { platform?: string; source?: string; never: boolean; who: string[] }>();
  const want = (image: string, who: string, never: boolean, platform?: string, source?: string) => {
    const w = wanted.get(image) ?? { never: true, who: [] };
    if (platform) w.platform = platform; // an Image's platform, even when a pod wants the ref too
    if (source) w.source = source;
    w.never &&= never;
    w.who.push(who);
    wanted.set(image, w);
  };
  for (const p of desired.pods) {
    if (frozen.has(p.name)) continue;
    for (const c of [...p.initContainers, ...p.containers])
      want(c.image, `${p.name}/${c.name}`, c.pullPolicy === 'Never');
  }
  for (const i of desired.images)
    want(i.image, `Image ${i.name}`, i.pullPolicy === 'Never', i.platform, i.source);
  const unpullable = new Set<string>(); // missing, and not pulled in this pass
  for (const [image, w] of wanted) {
    if (observed.images.has(image)) continue;
    const pulling = inFlight.get(imageKey(image));
    if (pulling !== undefined) {
      unpullable.add(image); // not pulled by this pass: its pods wait for the pull under way
      actions.push({ kind: 'wait', pod: '', reason: `${image}: ${pulling}` });
      continue;
    }
    const missing = observed.notUnpacked?.has(image) ? 'in the store but not unpacked' : 'not in the store';
    const failed = w.never ? undefined : activeFailure(failures, imageKey(image), input.now);
    if (w.never || failed) unpullable.add(image);
    if (w.never)
      actions.push({
        kind: 'wait',
        pod: '',
        reason: `${image}: ${missing} and pullPolicy is Never (${w.who.join(', ')})`,
      });
    else {
      actions.push(
        failed
          ? backingOff('', `${image}: pull`, failed, input.now)
          : {
              kind: 'pull',
              image,
              ...(w.platform ? { platform: w.platform } : {}),
              ...(w.source ? { source: w.source } : {}),
              for: w.who,
              reason: `${image}: ${missing} (${w.who.join(', ')})`,
            },
      );
    }
  }
  return { actions, unpullable };
}
