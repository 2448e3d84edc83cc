// Whether this host can give a pod a user namespace: the kernel has them (/proc/self/ns/user) and
// they are not switched off (`user.max_user_namespaces` = 0). Refused with the field's name, once,
// when a `hostUsers: false` pod is set up. Paths are passed in so a test can stand for a host
// without them.
import { existsSync, readFileSync } from 'node:fs';
import { BerthError } from '../lib/errors.js';

export interface UsernsProbe {
  nsFile: string;
  maxFile: string;
}

const HOST: UsernsProbe = { nsFile: '/proc/self/ns/user', maxFile: '/proc/sys/user/max_user_namespaces' };

/** Why the host cannot, or undefined when it can. */
export function usernsUnsupported(probe: UsernsProbe = HOST): string | undefined {
  if (!existsSync(probe.nsFile)) return `the kernel has no user namespaces (${probe.nsFile} is missing)`;
  let max: string;
  try {
    max = readFileSync(probe.maxFile, 'utf8').trim();
  } catch {
    return `${probe.maxFile} cannot be read`;
  }
  if (max === '0') return `user namespaces are switched off (${probe.maxFile} is 0)`;
  return undefined;
}

export function checkUsernsHost(pod: string, probe?: UsernsProbe): void {
  const why = usernsUnsupported(probe);
  if (why)
    throw new BerthError(
      'ERR_USERNS_UNAVAILABLE',
      'invalid',
      `pod ${pod}: spec.hostUsers: false needs a user namespace and ${why}`,
      { hint: 'leave hostUsers out to run with the host user IDs' },
    );
}
