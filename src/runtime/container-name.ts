// The rule for a container's name, one for every way a container is made (container create and
// run, the API, a pod's containers): letters, digits, '_', '.' and '-', starting with a letter or
// digit (so never '/', NUL or a name of dots alone), at most 191 characters: the longest name a
// pod's container has, `<namespace>.<pod>_<container>` of three 63-character DNS labels. The name is
// only a record's field, conmon's --name (journald's CONTAINER_NAME, unused with k8s-file) and a
// hashed lock purpose: every file, socket, cgroup and runc id is named by the container's id, so
// nothing needs a shorter one. A container without a hostname of its own (every standalone one) has
// its name as hostname, and a hostname is at most 63 characters (a DNS label). Pure.
import { BerthError } from '../lib/errors.js';

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
/** `<namespace>.<pod>_<container>`, each a DNS label. */
export const MAX_CONTAINER_NAME = 63 + 1 + 63 + 1 + 63;
/** A name that is also the container's hostname. */
export const MAX_HOSTNAME_NAME = 63;

/** Whether `name` is a container's name (its characters and at most MAX_CONTAINER_NAME of them). */
export function isContainerName(name: string): boolean {
  return NAME.test(name) && name.length <= MAX_CONTAINER_NAME;
}

/** Throws ERR_CONTAINER_INVALID unless `name` names a container; `hostname`: it has its own. */
export function checkContainerName(name: string, hostname: string | undefined): void {
  const max = hostname === undefined ? MAX_HOSTNAME_NAME : MAX_CONTAINER_NAME;
  const why = hostname === undefined ? ': it is also its hostname' : '';
  if (!NAME.test(name))
    throw invalid(`container name "${name}" must be letters, digits, "_", "." or "-" (at most ${max}${why})`);
  if (name.length > max)
    throw invalid(`container name "${name}" is ${name.length} characters; at most ${max} fit${why}`);
}

function invalid(message: string): BerthError {
  return new BerthError('ERR_CONTAINER_INVALID', 'invalid', message);
}
