// The user a container runs as, after its image's and its own settings: extra groups
// (supplementalGroups, fsGroup) added, and runAsNonRoot checked against the result, as the kubelet
// checks it against the image's user, so a root image is refused before it runs. Pure.
import { BerthError } from '../lib/errors.js';
import type { ContainerSettings } from './spec.js';
import type { ResolvedUser } from './user.js';

export function withGroups(user: ResolvedUser, settings: ContainerSettings): ResolvedUser {
  const extra = settings.supplementalGroups ?? [];
  if (extra.length === 0) return user;
  return { ...user, additionalGids: [...new Set([...user.additionalGids, ...extra])] };
}

export function checkNonRoot(user: ResolvedUser, settings: ContainerSettings): void {
  if (settings.runAsNonRoot === true && user.uid === 0)
    throw new BerthError(
      'ERR_RUN_AS_ROOT',
      'invalid',
      `container ${settings.name}: runAsNonRoot is set and it would run as root (uid 0, from ${settings.user === undefined ? "the image's user" : 'runAsUser'})`,
      { hint: 'set runAsUser to a non-zero uid, or use an image with a non-root USER' },
    );
}
