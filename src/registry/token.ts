// One token request to a Bearer realm (the distribution token spec): GET with service and scope,
// Basic credentials when we have them; or, for an `identitytoken`, the OAuth2 refresh-token POST.
// Accepts `token` or `access_token`. The realm must be https, or plain http to an allowed host.
import type { Dispatcher } from 'undici';
import { BerthError } from '../lib/errors.js';
import type { Credential } from './credentials.js';
import { statusError, transportError } from './errors.js';
import { discard, readBounded } from './response.js';
import { requestVia } from './undici-core.js';

export interface Token {
  token: string;
  expiresAt: number;
}

export interface TokenRequest {
  /** Whose token: names the registry in errors and picks its credentials. */
  registry: string;
  realm: string;
  service?: string;
  scope: string;
  credential: Credential | undefined;
}

export interface TokenDeps {
  dispatcher: Dispatcher;
  isPlainHttpAllowed: (host: string) => boolean;
  idleTimeoutMs: number;
  now: () => number;
  userAgent: string;
}

/** A token without `expires_in` lives 60 s (the token spec's default). */
const DEFAULT_TOKEN_TTL_S = 60;
/** Token responses are a few KiB; a hostile realm must not make us buffer more. */
const MAX_TOKEN_RESPONSE_BYTES = 1024 * 1024;

export function basicHeader(c: Credential): string | undefined {
  if (c.username === undefined || c.password === undefined) return undefined;
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}

function realmUrl(deps: TokenDeps, what: string, realm: string): URL {
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw new BerthError('ERR_AUTH_REALM_INVALID', 'invalid', `${what}: bad token realm in challenge`);
  }
  const plain = url.protocol === 'http:';
  if ((!plain && url.protocol !== 'https:') || (plain && !deps.isPlainHttpAllowed(url.host))) {
    throw new BerthError(
      'ERR_AUTH_REALM_INVALID',
      'invalid',
      `${what}: refusing token realm ${url.protocol}//${url.host} (https only, or plain http to an allowed host)`,
    );
  }
  return url;
}

export async function fetchToken(deps: TokenDeps, t: TokenRequest): Promise<Token> {
  const what = `token for ${t.registry} (${t.scope || 'no scope'})`;
  const url = realmUrl(deps, what, t.realm);
  const common = {
    headersTimeout: deps.idleTimeoutMs,
    bodyTimeout: deps.idleTimeoutMs,
  };
  const headers: Record<string, string> = { 'user-agent': deps.userAgent };
  let res: Dispatcher.ResponseData;
  try {
    if (t.credential?.identityToken) {
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: t.credential.identityToken,
        client_id: 'berth',
      });
      if (t.service) form.set('service', t.service);
      if (t.scope) form.set('scope', t.scope);
      res = await requestVia(deps.dispatcher, url, {
        ...common,
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      });
    } else {
      if (t.service) url.searchParams.set('service', t.service);
      if (t.scope) url.searchParams.set('scope', t.scope);
      const basic = t.credential ? basicHeader(t.credential) : undefined;
      if (basic) headers.authorization = basic;
      res = await requestVia(deps.dispatcher, url, { ...common, method: 'GET', headers });
    }
  } catch (err) {
    throw transportError(err, what);
  }
  if (res.statusCode !== 200) {
    await discard(res);
    throw statusError(res.statusCode, what, {}, deps.now());
  }
  const json = await readJson(res, what);
  const token = typeof json?.token === 'string' && json.token !== '' ? json.token : json?.access_token;
  if (typeof token !== 'string' || token === '') {
    throw new BerthError('ERR_AUTH_TOKEN_INVALID', 'unavailable', `${what}: no token in response`);
  }
  const ttl =
    typeof json?.expires_in === 'number' && json.expires_in > 0 ? json.expires_in : DEFAULT_TOKEN_TTL_S;
  // Renew a little early so a token does not expire in flight.
  return { token, expiresAt: deps.now() + Math.max(1, ttl - 10) * 1000 };
}

type TokenJson = { token?: unknown; access_token?: unknown; expires_in?: unknown } | null;

async function readJson(res: Dispatcher.ResponseData, what: string): Promise<TokenJson> {
  const bytes = await readBounded(
    res,
    MAX_TOKEN_RESPONSE_BYTES,
    what,
    () => new BerthError('ERR_AUTH_TOKEN_INVALID', 'limit', `${what}: token response too large`),
  );
  try {
    return JSON.parse(bytes.toString('utf8')) as TokenJson;
  } catch (err) {
    throw new BerthError('ERR_AUTH_TOKEN_INVALID', 'unavailable', `${what}: malformed token response`, {
      cause: err,
    });
  }
}
