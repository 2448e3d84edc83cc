// The registry client commands use, built from the host config: one client per endpoint (the
// registry itself or a mirror, each with its TLS files, plain-HTTP permission and headers), wrapped
// so that each registry's mirrors are tried first (registry/mirrors.ts). With no registries
// configured there is one endpoint per registry and one shared client, as before mirrors existed.
import { readFileSync } from 'node:fs';
import type { HostConfig } from '../config/host-config.js';
import { DEFAULT_REGISTRY_KEY, type EndpointConfig, type MirrorConfig } from '../config/registries.js';
import { BerthError, errnoCode } from '../lib/errors.js';
import { isLoopbackRegistry } from '../oci/reference.js';
import { createRegistryClient } from '../registry/client.js';
import type { CredentialLookup } from '../registry/credentials.js';
import { createMirroredClient, type Endpoint, rewriteRepository } from '../registry/mirrors.js';
import type { RegistryClient } from '../registry/types.js';

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new BerthError(
      'ERR_CONFIG_UNREADABLE',
      'invalid',
      `cannot read ${what} ${file}: ${errnoCode(err) ?? err}`,
      {
        cause: err,
      },
    );
  }
}

/** What of an endpoint's settings needs a client of its own (TLS, headers, plain HTTP). */
function clientKey(e: EndpointConfig | undefined): string {
  if (!e) return '';
  const { host: _, ...rest } = e;
  return JSON.stringify(rest) === JSON.stringify({ plainHttp: false, skipVerify: false, headers: {} })
    ? ''
    : JSON.stringify(e);
}

const ORIGIN_CAPABILITIES = new Set(['pull', 'resolve'] as const);

export function createHostRegistryClient(config: HostConfig, credentials: CredentialLookup): RegistryClient {
  const clients = new Map<string, RegistryClient>();
  const clientFor = (e: EndpointConfig | undefined, isMirror: boolean): RegistryClient => {
    const key = `${isMirror}:${clientKey(e)}`;
    let c = clients.get(key);
    if (c) return c;
    const tls =
      e && (e.ca || e.clientCert || e.skipVerify)
        ? {
            ...(e.ca ? { ca: readPem(e.ca, 'CA bundle') } : {}),
            ...(e.clientCert ? { cert: readPem(e.clientCert, 'client certificate') } : {}),
            ...(e.clientKey ? { key: readPem(e.clientKey, 'client key') } : {}),
            ...(e.skipVerify ? { rejectUnauthorized: false } : {}),
          }
        : undefined;
    c = createRegistryClient({
      credentials,
      // An endpoint given TLS settings speaks TLS, on loopback too (where plain HTTP is the default).
      isPlainHttpAllowed: (host: string) =>
        e !== undefined && host === e.host && tls !== undefined
          ? e.plainHttp
          : isLoopbackRegistry(host) ||
            config.plainHttpRegistries.includes(host) ||
            (e?.plainHttp === true && host === e.host),
      // A mirror that is down is passed over soon; the registry itself gets the configured retries.
      retries: isMirror ? Math.min(1, config.pull.retries) : config.pull.retries,
      idleTimeoutMs: config.pull.idleTimeoutMs,
      ...(e && Object.keys(e.headers).length > 0 ? { headers: e.headers } : {}),
      ...(tls ? { tls } : {}),
    });
    clients.set(key, c);
    return c;
  };
  const endpointsFor = (registry: string): Endpoint[] => {
    const own = config.registries[registry];
    const mirrors: MirrorConfig[] = own
      ? own.mirrors
      : (config.registries[DEFAULT_REGISTRY_KEY]?.mirrors ?? []);
    return [
      ...mirrors.map(
        (m): Endpoint => ({
          host: m.host,
          client: clientFor(m, true),
          capabilities: new Set(m.capabilities),
          repository: (path) => rewriteRepository(path, m.rewrite),
          origin: false,
        }),
      ),
      {
        host: registry,
        client: clientFor(own?.origin, false),
        capabilities: ORIGIN_CAPABILITIES,
        repository: (path) => path,
        origin: true,
      },
    ];
  };
  return createMirroredClient(endpointsFor, async () => {
    await Promise.all([...clients.values()].map((c) => c.close()));
  });
}
