// Mapping transport failures and HTTP statuses to coded errors. Pure.
import { BerthError, errnoCode } from '../lib/errors.js';

/** A transient failure that says when to come back (429 / 503 with Retry-After). */
export class RetryAfterError extends BerthError {
  constructor(
    message: string,
    readonly retryAfterMs: number | undefined,
  ) {
    super('ERR_REGISTRY_UNAVAILABLE', 'unavailable', message);
  }
}

const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_CLOSED',
]);

/** Turn an error thrown by undici (or the socket) into a BerthError about `what`. */
export function transportError(err: unknown, what: string): BerthError {
  if (err instanceof BerthError) return err;
  const code = errnoCode(err) ?? errnoCode((err as { cause?: unknown })?.cause);
  const detail = code ?? (err instanceof Error ? err.message : String(err));
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return new BerthError('ERR_TIMEOUT', 'unavailable', `${what}: registry stalled (${detail})`, {
      cause: err,
    });
  }
  if (code === 'UND_ERR_ABORTED' || (err as Error)?.name === 'AbortError') {
    return new BerthError('ERR_ABORTED', 'internal', `${what}: aborted`, { cause: err });
  }
  if (
    code &&
    (code.startsWith('ERR_TLS') || code.includes('CERT') || code === 'DEPTH_ZERO_SELF_SIGNED_CERT')
  ) {
    return new BerthError('ERR_TLS', 'invalid', `${what}: TLS failed (${detail})`, {
      cause: err,
      hint: 'for a plain-HTTP registry, set registries.<host>.plainHttp in the host config',
    });
  }
  if (code === undefined || TRANSIENT_CODES.has(code) || code.startsWith('UND_ERR')) {
    return new BerthError('ERR_REGISTRY_UNAVAILABLE', 'unavailable', `${what}: ${detail}`, { cause: err });
  }
  return new BerthError('ERR_REGISTRY_UNAVAILABLE', 'unavailable', `${what}: ${detail}`, { cause: err });
}

/** Seconds or an HTTP date → milliseconds from `now`. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

export function statusError(
  status: number,
  what: string,
  headers: Record<string, string | undefined>,
): BerthError {
  if (status === 401)
    return new BerthError('ERR_UNAUTHORIZED', 'unauthorized', `${what}: authentication required (401)`, {
      hint: 'add credentials to the auth file named in the host config',
    });
  if (status === 403) return new BerthError('ERR_FORBIDDEN', 'forbidden', `${what}: access denied (403)`);
  if (status === 429 || status === 502 || status === 503 || status === 504 || status >= 500) {
    return new RetryAfterError(
      `${what}: registry answered ${status}`,
      parseRetryAfter(headers['retry-after'], Date.now()),
    );
  }
  return new BerthError('ERR_REGISTRY_RESPONSE', 'invalid', `${what}: unexpected status ${status}`);
}
