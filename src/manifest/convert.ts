// The conversions of manifest values into what the runtime takes, in one place: the loader runs
// them to turn a value that cannot be used into a positioned diagnostic (checks.ts), and the desired
// state (reconcile/desired.ts) runs the very same ones to build container settings. Each throws a
// BerthError with the code the diagnostic carries. Pure.
import { BerthError } from '../lib/errors.js';
import { formatReference, parseReference } from '../oci/reference.js';
import { parseBytes, parseMilliCpus } from '../runtime/quantity.js';

/** A container image reference, normalised as Docker does (`busybox` → `docker.io/library/busybox:latest`). */
export function normalizeImage(ref: string): string {
  return formatReference(parseReference(ref));
}

/**
 * A quantity as YAML gave it: a string, or a number (`memory: 1e9`, `cpu: .5`), whose JS text is in
 * the grammar too, but for `.inf` (the schema's `number` lets it through).
 */
export function quantityText(value: string | number, what: string): string {
  if (typeof value === 'number' && !Number.isFinite(value))
    throw new BerthError('ERR_BAD_QUANTITY', 'invalid', `${what} ${value} is not a finite number`);
  return String(value);
}

/** `resources.limits.memory` in bytes. */
export function memoryLimitOf(value: string | number): number {
  return parseBytes(quantityText(value, 'memory limit'), 'memory limit');
}

/** `resources.limits.cpu` in thousandths of a core. */
export function cpuLimitOf(value: string | number): number {
  return parseMilliCpus(quantityText(value, 'cpu limit'), 'cpu limit');
}

/**
 * The rule createContainer applies to a container's name (src/runtime/create.ts): it also names
 * the container's directories and its conmon, and at most 63 characters fit everywhere.
 */
const RUNTIME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;
export const MAX_RUNTIME_NAME = 63;

/** The runtime's name of a pod's container: `<pod>_<container>`, at most 63 characters. */
export function runtimeNameOf(pod: string, container: string): string {
  const name = `${pod}_${container}`;
  if (!RUNTIME_NAME.test(name)) {
    throw new BerthError(
      'ERR_MANIFEST_NAME',
      'invalid',
      `pod ${pod}, container ${container}: the container's runtime name "${name}" is ${name.length} characters; at most ${MAX_RUNTIME_NAME} fit (pod and container names together at most ${MAX_RUNTIME_NAME - 1})`,
    );
  }
  return name;
}
