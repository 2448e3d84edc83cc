// The planner's first step: every image the pods and Image documents want that the store lacks
// (or holds but has not unpacked) is pulled, unless a pull of it is already under way, it failed
// and backs off, or its pull policy is Never. Images that will not be there after this pass are
// returned as `unpullable`: the pods that need them wait. Pure.
import { activeFailure, imageKey } from './failures.js';
import type { Action, PlanInput } from './plan-types.js';
import { backingOff } from './plan-waits.js';

/**
 * An `Image` with pullPolicy Always that the store holds: pulled again once `imageRefreshMs` has
 * passed since its last pull (a moved tag is followed), else a wait until then (the daemon wakes
 * for it). A pull under way or a failure backing off is left alone: what runs keeps running.
 */
function planRefresh(input: PlanInput, image: string, w: Wanted): Action[] {
  const refreshMs = input.imageRefreshMs as number;
  if (input.inFlight?.has(imageKey(image)) || activeFailure(input.failures ?? {}, imageKey(image), input.now))
    return [];
  const last = input.observed.pulledAt?.get(image) ?? 0;
  const due = last + refreshMs;
  if (due > input.now)
    return [
      {
        kind: 'wait',
        pod: '',
        reason: `${image}: pullPolicy Always, resolved again in ${Math.ceil((due - input.now) / 1000)} s`,
        until: due,
      },
    ];
  const ago = last ? `last pulled ${Math.round((input.now - last) / 1000)} s ago` : 'never pulled here';
  return [
    {
      kind: 'pull',
      image,
      ...(w.platform ? { platform: w.platform } : {}),
      ...(w.source ? { source: w.source } : {}),
      for: w.who,
      reason: `${image}: pullPolicy Always, ${ago} (${w.who.join(', ')})`,
    },
  ];
}

/** What an `Image` object adds to a wanted reference: its platform, archive source, and pullPolicy Always. */
interface ImageWant {
  platform?: string;
  source?: string;
  always?: boolean;
}

interface Wanted extends ImageWant {
  never: boolean;
  who: string[];
}

export function planImages(input: PlanInput): { actions: Action[]; unpullable: Set<string> } {
  const { desired, observed, frozen } = input;
  const failures = input.failures ?? {};
  const inFlight = input.inFlight ?? new Map<string, string>();
  const actions: Action[] = [];
  const wanted = new Map<string, Wanted>();
  const want = (image: string, who: string, never: boolean, from: ImageWant = {}) => {
    const { platform, source, always } = from;
    const w = wanted.get(image) ?? { never: true, who: [] };
    if (always) w.always = true;
    if (platform) w.platform = platform; // an Image's platform, even when a pod wants the ref too
    if (source) w.source = source;
    w.never &&= never;
    w.who.push(who);
    wanted.set(image, w);
  };
  for (const p of desired.pods) {
    if (frozen.has(p.name)) continue;
    for (const c of [...p.initContainers, ...p.containers]) {
      want(c.image, `${p.name}/${c.name}`, c.pullPolicy === 'Never');
      for (const v of c.volumeImages ?? []) want(v.image, `${p.name}/${c.name}`, v.pullPolicy === 'Never');
    }
  }
  for (const i of desired.images)
    want(i.image, `Image ${i.name}`, i.pullPolicy === 'Never', {
      platform: i.platform,
      source: i.source,
      always: i.pullPolicy === 'Always',
    });
  const unpullable = new Set<string>(); // missing, and not pulled in this pass
  for (const [image, w] of wanted) {
    if (observed.images.has(image)) {
      if (w.always && input.imageRefreshMs) actions.push(...planRefresh(input, image, w));
      continue;
    }
    const pulling = inFlight.get(imageKey(image));
    if (pulling !== undefined) {
      unpullable.add(image); // not pulled by this pass: its pods wait for the pull under way
      actions.push({ kind: 'wait', pod: '', reason: `${image}: ${pulling}` });
      continue;
    }
    const missing = observed.ambiguousImages?.has(image)
      ? "given to entries of different digests in the store's index.json"
      : observed.notUnpacked?.has(image)
        ? 'in the store but not unpacked'
        : 'not in the store';
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
