// One registry GET: scheme choice (https unless plain HTTP is allowed), authentication on 401,
// bounded redirects. Authorization is attached only to requests to the registry's own origin: a
// redirect to another host (a CDN, S3) gets no credentials.
import type { Dispatcher } from 'undici';
import { request } from 'undici';
import { BerthError } from '../lib/errors.js';
import { registryApiHost } from '../oci/reference.js';
import type { AuthCache } from './auth.js';
import { statusError, transportError } from './errors.js';

export interface TransportOptions {
  dispatcher: Dispatcher;
  auth: AuthCache;
  isPlainHttpAllowed: (registry: string) => boolean;
  maxRedirects: number;
  userAgent: string;
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

export function registryOrigin(registry: string, plainHttp: boolean): string {
  return `${plainHttp ? 'http' : 'https'}://${registryApiHost(registry)}`;
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
    const headers: Record<string, string> = { 'user-agent': t.userAgent, ...o.headers };
    const authorization = sameOrigin ? t.auth.header(registry, o.scope) : undefined;
    if (authorization) headers.authorization = authorization;
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        method: 'GET',
        headers,
        dispatcher: t.dispatcher,
        signal: o.signal,
      });
    } catch (err) {
      throw transportError(err, o.what);
    }
    const flat = flatHeaders(res.headers);
    if (res.statusCode === 401 && sameOrigin && !authTried) {
      await res.body.dump().catch(() => undefined);
      authTried = true;
      if (await t.auth.answer(registry, o.scope, res.headers['www-authenticate'], o.signal)) continue;
      throw statusError(401, o.what, flat);
    }
    if (res.statusCode >= 300 && res.statusCode < 400 && res.statusCode !== 304) {
      await res.body.dump().catch(() => undefined);
      const location = flat.location;
      if (!location)
        throw new BerthError('ERR_REGISTRY_RESPONSE', 'invalid', `${o.what}: redirect without Location`);
      if (++hops > t.maxRedirects) {
        throw new BerthError(
          'ERR_TOO_MANY_REDIRECTS',
          'invalid',
          `${o.what}: more than ${t.maxRedirects} redirects`,
        );
      }
      const next = new URL(location, url);
      if (next.protocol === 'http:' && url.protocol === 'https:' && !t.isPlainHttpAllowed(next.host)) {
        throw new BerthError(
          'ERR_INSECURE_REDIRECT',
          'invalid',
          `${o.what}: refused redirect from https to plain http`,
        );
      }
      url = next;
      continue;
    }
    return { statusCode: res.statusCode, headers: flat, body: res.body };
  }
}
