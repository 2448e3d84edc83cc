// Registry mirrors, in containerd's hosts.toml model: for each registry an ordered list of
// endpoints (its mirrors, or the `_default` ones, then the registry itself). A manifest by tag is
// asked of endpoints with the `resolve` capability, one by digest and blobs of those with `pull`;
// an endpoint that fails is passed over for the next, the registry itself last. Each endpoint has
// its own client (TLS, plain HTTP, headers, credentials by its host) and may rewrite the
// repository path.
//
// Invariants: the registry itself is always the last endpoint and has every capability, so with no
// mirrors configured this behaves exactly as its client does (same errors); a cancelled operation
// never falls through; what a mirror serves is verified as the registry's would be (digests are
// checked by the callers), so a mirror can make a pull fail or slow, never make it wrong by digest.
import { BerthError, isBerthError } from '../lib/errors.js';
import { isDigest } from '../oci/digest.js';
import type { FetchedManifest, RegistryClient, RepoRef } from './types.js';

export type Capability = 'pull' | 'resolve';

export interface Endpoint {
  /** host[:port] requests go to (how the pull's output names a mirror). */
  host: string;
  client: RegistryClient;
  capabilities: ReadonlySet<Capability>;
  /** The repository path at this endpoint (a mirror's rewrite); identity for the registry itself. */
  repository(path: string): string;
  /** The registry itself, not a mirror. */
  origin: boolean;
}

/** `rewrite: {"^library/(.*)": "mirror/$1"}`: the first pattern that matches rewrites the path (pure). */
export function rewriteRepository(path: string, rules: ReadonlyArray<[string, string]>): string {
  for (const [pattern, replacement] of rules) {
    const re = new RegExp(pattern);
    if (re.test(path)) return path.replace(re, replacement);
  }
  return path;
}

async function firstThatWorks<T>(
  endpoints: Endpoint[],
  capability: Capability,
  signal: AbortSignal | undefined,
  attempt: (e: Endpoint) => Promise<T>,
): Promise<T> {
  let last: unknown;
  for (const e of endpoints) {
    if (!e.capabilities.has(capability)) continue;
    try {
      return await attempt(e);
    } catch (err) {
      if (signal?.aborted || e.origin) throw err;
      // Content that fails its digest is not passed over (README, Mirrors): it names the mirror.
      if (isBerthError(err) && err.kind === 'integrity') throw fromMirror(err, e.host);
      last = err;
    }
  }
  throw last ?? new BerthError('ERR_NO_ENDPOINT', 'invalid', `no endpoint can ${capability}`);
}

export function createMirroredClient(
  endpointsFor: (registry: string) => Endpoint[],
  close: () => Promise<void>,
): RegistryClient {
  const at = (e: Endpoint, repo: RepoRef): RepoRef => ({
    registry: e.origin ? repo.registry : e.host,
    repository: e.repository(repo.repository),
  });
  return {
    ping(registry, o) {
      const origin = endpointsFor(registry).find((e) => e.origin) as Endpoint;
      return origin.client.ping(registry, o);
    },
    getManifest(repo, target, expected, o = {}): Promise<FetchedManifest> {
      const capability = isDigest(target) ? 'pull' : 'resolve';
      return firstThatWorks(endpointsFor(repo.registry), capability, o.signal, async (e) => {
        const m = await e.client.getManifest(at(e, repo), target, expected, o);
        return e.origin ? m : { ...m, mirror: e.host };
      });
    },
    fetchBlob(repo, desc, sink, o = {}) {
      // A mirror that fails midway leaves its bytes in the sink: the next endpoint resumes them.
      return firstThatWorks(endpointsFor(repo.registry), 'pull', o.signal, async (e) => {
        await e.client.fetchBlob(at(e, repo), desc, sink, o);
        o.onMirror?.(e.origin ? undefined : e.host);
      });
    },
    close,
  };
}

/** An integrity error of content a mirror served, saying so (the registry itself may hold good bytes). */
export function fromMirror(err: BerthError, host: string): BerthError {
  return new BerthError(err.code, err.kind, `${err.message} (served by mirror ${host})`, {
    cause: err,
    hint: `the mirror ${host} serves other bytes than the digest names: fix or remove it in the host config`,
  });
}
