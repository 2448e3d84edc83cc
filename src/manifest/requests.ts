// Container requests and emptyDir size limits as the host can apply them (shared by the loader's
// checks and desired state, like convert.ts): a cpu request becomes cgroup CPU shares (Kubernetes'
// formula: milli-cores × 1024 / 1000, at least 2, at most 262144), a memory request a memory
// reservation (memory.low on cgroup v2), an emptyDir sizeLimit a byte count. Pure.
import { BerthError } from '../lib/errors.js';
import { ceilScaled, parseQuantity } from '../runtime/quantity.js';
import { quantityText } from './convert.js';

const MAX_BYTES = Number.MAX_SAFE_INTEGER;

const negative = (what: string, text: string) =>
  new BerthError('ERR_BAD_QUANTITY', 'invalid', `${what} "${text}" is negative`);

function bytesOf(value: string | number, what: string): number {
  const text = quantityText(value, what);
  const q = parseQuantity(text, what, '64Mi, 1G or 1048576');
  if (q.negative && q.digits !== 0n) throw negative(what, text);
  const bytes = ceilScaled(q, 0);
  if (bytes > MAX_BYTES)
    throw new BerthError('ERR_BAD_QUANTITY', 'invalid', `${what} "${text}" is out of range (0 to 8Pi)`);
  return bytes;
}

/** `resources.requests.cpu` as CPU shares; undefined for 0. */
export function cpuSharesOf(value: string | number): number | undefined {
  const text = quantityText(value, 'cpu request');
  const q = parseQuantity(text, 'cpu request', '0.5 or 500m');
  if (q.negative && q.digits !== 0n) throw negative('cpu request', text);
  const milli = ceilScaled(q, 3);
  if (!Number.isFinite(milli))
    throw new BerthError('ERR_BAD_QUANTITY', 'invalid', `cpu request "${text}" is out of range`);
  if (milli === 0) return undefined;
  return Math.min(262_144, Math.max(2, Math.floor((milli * 1024) / 1000)));
}

/** `resources.requests.memory` in bytes; undefined for 0. */
export function memoryReservationOf(value: string | number): number | undefined {
  return bytesOf(value, 'memory request') || undefined;
}

/** An emptyDir `sizeLimit` in bytes (0 is dropped by tier-check as none; here it is refused: a tmpfs of 0 bytes). */
export function sizeLimitOf(value: string | number): number {
  const bytes = bytesOf(value, 'emptyDir sizeLimit');
  if (bytes === 0)
    throw new BerthError('ERR_BAD_QUANTITY', 'invalid', 'emptyDir sizeLimit is 0: leave it out for none');
  return bytes;
}
