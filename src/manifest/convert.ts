// The conversions of manifest values into what the runtime takes, in one place: the loader runs
// them to turn a value that cannot be used into a positioned diagnostic (checks.ts), and the desired
// state (reconcile/desired.ts) runs the very same ones to build container settings. Each throws a
// BerthError with the code the diagnostic carries. Pure.
import { BerthError } from '../lib/errors.js';
import { formatReference, parseReference } from '../oci/reference.js';
import { isContainerName, MAX_CONTAINER_NAME } from '../runtime/container-name.js';
import { parseBytes, parseMilliCpus, parseQuantity } from '../runtime/quantity.js';

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

/** Whether a quantity as YAML gave it is zero (`0`, "0m", "0Gi"); one that does not parse is not. */
export function isZeroQuantity(value: unknown): boolean {
  if (typeof value === 'number') return value === 0;
  if (typeof value !== 'string') return false;
  try {
    return parseQuantity(value).digits === 0n;
  } catch {
    return false; // its own diagnostic says what is wrong with it
  }
}

/** `resources.limits.memory` in bytes. */
export function memoryLimitOf(value: string | number): number {
  return parseBytes(quantityText(value, 'memory limit'), 'memory limit');
}

/** `resources.limits.cpu` in thousandths of a core. */
export function cpuLimitOf(value: string | number): number {
  return parseMilliCpus(quantityText(value, 'cpu limit'), 'cpu limit');
}

/** The runtime's name of a pod's container: `<pod>_<container>` (`<namespace>.<pod>_<container>`). */
export function runtimeNameOf(pod: string, container: string): string {
  const name = `${pod}_${container}`;
  if (!isContainerName(name)) {
    throw new BerthError(
      'ERR_MANIFEST_NAME',
      'invalid',
      `pod ${pod}, container ${container}: the container's runtime name "${name}" is not a container name (letters, digits, "_", "." or "-", at most ${MAX_CONTAINER_NAME})`,
    );
  }
  return name;
}
