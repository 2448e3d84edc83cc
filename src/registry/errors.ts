// Mapping transport failures and HTTP statuses to coded errors, and keeping secrets out of the
// messages. Pure: the clock comes in as `now`.
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

/**
 * Strip anything that may be a secret from text that came from elsewhere (an undici message, a
 * URL): `user:pass@` in URLs, Authorization values, token and password query parameters.
 */
export function redact(text: string): string {
  return text
    .replace(/(\/\/)[^/\s@]+@/g, '$1***@')
    .replace(/\b(Basic|Bearer)\s+[A-Za-z0-9\-._~+/]+=*/gi, '$1 ***')
    .replace(/([?&](?:access_token|token|password|refresh_token|client_secret)=)[^&\s]*/gi, '$1***');
}

const TLS_CONFIG_CODES = /^(ERR_TLS|ERR_SSL|UNABLE_TO_|CERT_|DEPTH_ZERO|SELF_SIGNED|HOSTNAME_MISMATCH)/;

/**
 * Turn an error thrown by undici (or the socket) into a BerthError about `what`. Everything
 * network-shaped (refused, reset, DNS, stalls, closed sockets) is kind 'unavailable' and retried.
 * A certificate or TLS-protocol failure is a configuration problem (a registry that speaks plain
 * HTTP, a private CA): retrying cannot fix it, so it is 'invalid' with a hint.
 */
export function transportError(err: unknown, what: string): BerthError {
  if (err instanceof BerthError) return err;
  const code = errnoCode(err) ?? errnoCode((err as { cause?: unknown })?.cause);
  const detail = redact(code ?? (err instanceof Error ? err.message : String(err)));
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return new BerthError('ERR_TIMEOUT', 'unavailable', `${what}: registry stalled (${detail})`, {
      cause: err,
    });
  }
  if (code === 'UND_ERR_ABORTED' || code === 'ABORT_ERR' || (err as Error)?.name === 'AbortError') {
    return new BerthError('ERR_ABORTED', 'internal', `${what}: aborted`, { cause: err });
  }
  if (code && TLS_CONFIG_CODES.test(code)) {
    return new BerthError('ERR_TLS', 'invalid', `${what}: TLS failed (${detail})`, {
      cause: err,
      hint: 'for a plain-HTTP registry, set registries.<host>.plainHttp in the host config',
    });
  }
  const words = code ? TRANSPORT_WORDS[code] : undefined;
  return new BerthError(
    'ERR_REGISTRY_UNAVAILABLE',
    'unavailable',
    `${what}: ${words ? `${words} (${detail})` : detail}`,
    {
      cause: err,
    },
  );
}

/** What the transport codes people meet mean, in words (the code stays beside them). */
const TRANSPORT_WORDS: Record<string, string> = {
  UND_ERR_SOCKET: 'the registry closed the connection',
  UND_ERR_CLOSED: 'the connection was closed',
  UND_ERR_CONNECT_TIMEOUT: 'no connection within the timeout',
  ECONNRESET: 'the connection was reset',
  ECONNREFUSED: 'connection refused',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'timed out',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'the name lookup failed for now',
  EPIPE: 'the connection was closed while sending',
};

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
  now: number,
): BerthError {
  if (status === 401)
    return new BerthError('ERR_UNAUTHORIZED', 'unauthorized', `${what}: authentication required (401)`, {
      hint: 'add credentials to the auth file named in the host config',
    });
  if (status === 403) return new BerthError('ERR_FORBIDDEN', 'forbidden', `${what}: access denied (403)`);
  if (status === 429 || status >= 500) {
    return new RetryAfterError(
      `${what}: registry answered ${status}`,
      parseRetryAfter(headers['retry-after'], now),
    );
  }
  return new BerthError('ERR_REGISTRY_RESPONSE', 'invalid', `${what}: unexpected status ${status}`);
}
