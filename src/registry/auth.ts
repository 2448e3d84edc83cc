// Per-registry authentication state: learns the scheme from 401 challenges, caches Bearer tokens
// per scope until they expire (token.ts fetches them), or answers Basic.
//
// Invariants: a registry's credentials go only to that registry and to the token realm it named
// (as Docker does; token.ts refuses a plain-HTTP realm on a host not allowed plain HTTP), and never
// into an error message. Concurrent 401s for one scope share one token request.
import { BerthError } from '../lib/errors.js';
import { type Challenge, parseChallenges } from './challenge.js';
import type { CredentialLookup } from './credentials.js';
import { basicHeader, fetchToken, type Token, type TokenDeps } from './token.js';

interface BearerState {
  realm: string;
  service?: string;
  tokens: Map<string, Token>;
  inflight: Map<string, Promise<Token>>;
}

interface RegistryAuth {
  scheme?: 'bearer' | 'basic';
  bearer?: BearerState;
}

export interface AuthOptions extends TokenDeps {
  credentials: CredentialLookup;
}

/** Wait for `p`, but give up (ERR_ABORTED) as soon as `signal` aborts. */
async function untilAborted<T>(p: Promise<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
  if (!signal) return p;
  const abort = () => new BerthError('ERR_ABORTED', 'internal', `${what}: aborted`, { cause: signal.reason });
  if (signal.aborted) throw abort();
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        onAbort = () => reject(abort());
        signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
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
   * Handle a 401 to a request that carried `sent` (its Authorization header, if any): learn the
   * challenge and get what the next attempt needs. Returns false when there is nothing new to try
   * (no usable challenge, Basic without credentials, or the very header that was just refused).
   * Another request may have fetched a token meanwhile: then that one is used without asking again.
   */
  async answer(
    registry: string,
    scope: string,
    wwwAuthenticate: string | string[] | undefined,
    sent: string | undefined,
    signal?: AbortSignal,
  ): Promise<boolean> {
    const challenges = parseChallenges(wwwAuthenticate);
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.realm);
    if (bearer) {
      const state = this.bearerState(registry, bearer);
      const held = this.header(registry, scope);
      if (held !== undefined && held !== sent) return true;
      // The token we held was refused (revoked, or too narrow): forget it and ask again.
      state.tokens.delete(scope);
      let pending = state.inflight.get(scope);
      if (!pending) {
        // Shared by every waiter, so not tied to one caller's signal; the idle timeout bounds it.
        pending = fetchToken(this.options, {
          registry,
          realm: state.realm,
          service: state.service,
          scope: bearer.params.scope ?? scope,
          credential: this.options.credentials(registry),
        });
        state.inflight.set(scope, pending);
        pending.then(
          (t) => state.tokens.set(scope, t),
          () => undefined,
        );
        pending.finally(() => state.inflight.delete(scope)).catch(() => undefined);
      }
      await untilAborted(pending, signal, `token for ${registry}`);
      return true;
    }
    if (challenges.some((c) => c.scheme === 'basic')) {
      const c = this.options.credentials(registry);
      const basic = c ? basicHeader(c) : undefined;
      if (!basic || basic === sent) return false;
      this.byRegistry.set(registry, { scheme: 'basic' });
      return true;
    }
    return false;
  }

  private bearerState(registry: string, ch: Challenge): BearerState {
    const auth = this.byRegistry.get(registry) ?? {};
    if (!auth.bearer || auth.bearer.realm !== ch.params.realm) {
      auth.bearer = { realm: ch.params.realm as string, tokens: new Map(), inflight: new Map() };
      if (ch.params.service) auth.bearer.service = ch.params.service;
    }
    auth.scheme = 'bearer';
    this.byRegistry.set(registry, auth);
    return auth.bearer;
  }
}
