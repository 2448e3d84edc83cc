// Per-registry authentication: learns the scheme from 401 challenges, fetches and caches Bearer
// tokens per scope, or answers Basic. Credentials go only to the registry they belong to and to
// the token realm that registry named; never into error messages.
import type { Dispatcher } from 'undici';
import { request } from 'undici';
import { BerthError } from '../lib/errors.js';
import { type Challenge, parseChallenges } from './challenge.js';
import type { Credential, CredentialLookup } from './credentials.js';
import { statusError, transportError } from './errors.js';

interface BearerState {
  realm: string;
  service?: string;
  tokens: Map<string, { token: string; expiresAt: number }>;
}

interface RegistryAuth {
  scheme?: 'bearer' | 'basic';
  bearer?: BearerState;
}

export interface AuthOptions {
  credentials: CredentialLookup;
  dispatcher: Dispatcher;
  now: () => number;
  userAgent: string;
}

function basicHeader(c: Credential): string | undefined {
  if (c.username === undefined || c.password === undefined) return undefined;
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}

export class AuthCache {
  private readonly byRegistry = new Map<string, RegistryAuth>();

  constructor(private readonly options: AuthOptions) {}

  /** The Authorization header to send to `registry` for `scope`, if one is known. */
  header(registry: string, scope: string): string | undefined {
    const auth = this.byRegistry.get(registry);
    if (auth?.scheme === 'basic') {
      const c = this.options.credentials(registry);
      return c ? basicHeader(c) : undefined;
    }
    const t = auth?.bearer?.tokens.get(scope);
    if (t && t.expiresAt > this.options.now()) return `Bearer ${t.token}`;
    return undefined;
  }

  /**
   * Handle a 401: learn the challenge and get what the next attempt needs. Returns false when there
   * is nothing new to try (no usable challenge, or Basic without credentials).
   */
  async answer(
    registry: string,
    scope: string,
    wwwAuthenticate: string | string[] | undefined,
    signal?: AbortSignal,
  ): Promise<boolean> {
    const challenges = parseChallenges(wwwAuthenticate);
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.realm);
    if (bearer) {
      const state = this.bearerState(registry, bearer);
      const wanted = bearer.params.scope ?? scope;
      const token = await this.fetchToken(registry, state, wanted, signal);
      state.tokens.set(scope, token);
      return true;
    }
    if (challenges.some((c) => c.scheme === 'basic')) {
      const c = this.options.credentials(registry);
      if (!c || !basicHeader(c)) return false;
      const prev = this.byRegistry.get(registry)?.scheme;
      this.byRegistry.set(registry, { scheme: 'basic' });
      return prev !== 'basic';
    }
    return false;
  }

  private bearerState(registry: string, ch: Challenge): BearerState {
    const auth = this.byRegistry.get(registry) ?? {};
    if (!auth.bearer || auth.bearer.realm !== ch.params.realm) {
      auth.bearer = { realm: ch.params.realm as string, tokens: new Map() };
      if (ch.params.service) auth.bearer.service = ch.params.service;
    }
    auth.scheme = 'bearer';
    this.byRegistry.set(registry, auth);
    return auth.bearer;
  }

  private async fetchToken(
    registry: string,
    state: BearerState,
    scope: string,
    signal?: AbortSignal,
  ): Promise<{ token: string; expiresAt: number }> {
    const what = `token for ${registry} (${scope})`;
    let url: URL;
    try {
      url = new URL(state.realm);
    } catch {
      throw new BerthError('ERR_AUTH_REALM_INVALID', 'invalid', `${registry}: bad token realm in challenge`);
    }
    if (state.service) url.searchParams.set('service', state.service);
    if (scope) url.searchParams.set('scope', scope);
    const cred = this.options.credentials(registry);
    const headers: Record<string, string> = { 'user-agent': this.options.userAgent };
    const basic = cred ? basicHeader(cred) : undefined;
    let res: Dispatcher.ResponseData;
    try {
      if (cred?.identityToken) {
        const form = new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: cred.identityToken,
          client_id: 'berth',
        });
        if (state.service) form.set('service', state.service);
        if (scope) form.set('scope', scope);
        res = await request(`${url.origin}${url.pathname}`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
          body: form.toString(),
          dispatcher: this.options.dispatcher,
          signal,
        });
      } else {
        if (basic) headers.authorization = basic;
        res = await request(url, { method: 'GET', headers, dispatcher: this.options.dispatcher, signal });
      }
    } catch (err) {
      throw transportError(err, what);
    }
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw statusError(res.statusCode, what, {});
    }
    let json: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      json = (await res.body.json()) as typeof json;
    } catch (err) {
      throw new BerthError('ERR_AUTH_TOKEN_INVALID', 'unavailable', `${what}: malformed token response`, {
        cause: err,
      });
    }
    const token = typeof json.token === 'string' ? json.token : json.access_token;
    if (typeof token !== 'string' || token === '') {
      throw new BerthError('ERR_AUTH_TOKEN_INVALID', 'unavailable', `${what}: no token in response`);
    }
    const ttl = typeof json.expires_in === 'number' && json.expires_in > 0 ? json.expires_in : 60;
    // Renew a little early so a token never expires in flight.
    return { token, expiresAt: this.options.now() + Math.max(1, ttl - 10) * 1000 };
  }
}
