// One registry GET: scheme choice (https unless plain HTTP is allowed for the registry), one round
// of authentication on 401, bounded redirects, per-request stall timeouts.
//
// Invariants: Authorization is attached only to requests to the registry's own origin, so a
// redirect to another host (a CDN, S3) never gets credentials; plain HTTP is never spoken to a
// host that is not allowed it, not even when a redirect asks for it.
import type { Dispatcher } from 'undici';
import { BerthError } from '../lib/errors.js';
import { registryApiHost } from '../oci/reference.js';
import type { AuthCache } from './auth.js';
import { statusError, transportError } from './errors.js';
import { discard } from './response.js';
import { requestVia } from './undici-core.js';

export interface TransportOptions {
  dispatcher: Dispatcher;
  auth: AuthCache;
  isPlainHttpAllowed: (registry: string) => boolean;
  maxRedirects: number;
  /** No headers, or no body bytes, for this long fails the request (ERR_TIMEOUT). */
  idleTimeoutMs: number;
  now: () => number;
  userAgent: string;
  /** Sent with every request to the registry's own origin (host config `headers`), never elsewhere. */
  extraHeaders?: Record<string, string>;
}

export interface GetOptions {
  /** e.g. `repository:library/busybox:pull`; empty for /v2/. */
  scope: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Names the thing in errors: `127.0.0.1:5000/app:1 blob sha256:…`. */
  what: string;
}

export interface RegistryResponse {
  statusCode: number;
  headers: Record<string, string | undefined>;
  body: Dispatcher.ResponseData['body'];
}

function flatHeaders(h: Dispatcher.ResponseData['headers']): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(h)) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

/** `https://host[:port]`, normalised as URL.origin is (a default port is dropped). */
export function registryOrigin(registry: string, plainHttp: boolean): string {
  return new URL(`${plainHttp ? 'http' : 'https'}://${registryApiHost(registry)}`).origin;
}

function nextLocation(t: TransportOptions, o: GetOptions, from: URL, location: string | undefined): URL {
  if (!location)
    throw new BerthError('ERR_REGISTRY_RESPONSE', 'invalid', `${o.what}: redirect without Location`);
  let next: URL;
  try {
    next = new URL(location, from);
  } catch {
    throw new BerthError('ERR_REGISTRY_RESPONSE', 'invalid', `${o.what}: redirect to a malformed URL`);
  }
  if (next.protocol !== 'https:' && !(next.protocol === 'http:' && t.isPlainHttpAllowed(next.host))) {
    throw new BerthError(
      'ERR_INSECURE_REDIRECT',
      'invalid',
      `${o.what}: refused redirect to ${next.protocol}//${next.host} (https only, or plain http to an allowed host)`,
    );
  }
  return next;
}

export async function registryGet(
  t: TransportOptions,
  registry: string,
  path: string,
  o: GetOptions,
): Promise<RegistryResponse> {
  const origin = registryOrigin(registry, t.isPlainHttpAllowed(registry));
  let url = new URL(path, origin);
  let authTried = false;
  for (let hops = 0; ; ) {
    const sameOrigin = url.origin === origin;
    const headers: Record<string, string> = {
      'user-agent': t.userAgent,
      ...(sameOrigin ? t.extraHeaders : undefined),
      ...o.headers,
    };
    const authorization = sameOrigin ? t.auth.header(registry, o.scope) : undefined;
    if (authorization) headers.authorization = authorization;
    let res: Dispatcher.ResponseData;
    try {
      res = await requestVia(t.dispatcher, url, {
        method: 'GET',
        headers,
        signal: o.signal,
        headersTimeout: t.idleTimeoutMs,
        bodyTimeout: t.idleTimeoutMs,
      });
    } catch (err) {
      throw transportError(err, o.what);
    }
    const flat = flatHeaders(res.headers);
    if (res.statusCode === 401 && sameOrigin && !authTried) {
      await discard(res);
      authTried = true;
      const challenge = res.headers['www-authenticate'];
      if (await t.auth.answer(registry, o.scope, challenge, authorization, o.signal)) continue;
      throw statusError(401, o.what, flat, t.now());
    }
    if (res.statusCode >= 300 && res.statusCode < 400 && res.statusCode !== 304) {
      await discard(res);
      if (++hops > t.maxRedirects) {
        throw new BerthError(
          'ERR_TOO_MANY_REDIRECTS',
          'invalid',
          `${o.what}: more than ${t.maxRedirects} redirects`,
        );
      }
      url = nextLocation(t, o, url, flat.location);
      continue;
    }
    return { statusCode: res.statusCode, headers: flat, body: res.body };
  }
}
