// The `registries` section of the host config, normalised (pure): per registry host (or `_default`,
// whose mirrors serve every registry without an entry of its own) how to reach the registry itself
// and its mirrors, tried in order (containerd's hosts.toml model; k3s's rewrite of repository paths).
import { BerthError } from '../lib/errors.js';

export type MirrorCapability = 'pull' | 'resolve';

export interface EndpointConfig {
  /** host[:port] */
  host: string;
  plainHttp: boolean;
  /** PEM files: a CA bundle to trust, a client certificate and its key. */
  ca?: string;
  clientCert?: string;
  clientKey?: string;
  skipVerify: boolean;
  headers: Record<string, string>;
}

export interface MirrorConfig extends EndpointConfig {
  capabilities: MirrorCapability[];
  /** [pattern, replacement] applied to the repository path, first match wins. */
  rewrite: Array<[string, string]>;
}

export interface RegistryConfig {
  origin: EndpointConfig;
  mirrors: MirrorConfig[];
}

export const DEFAULT_REGISTRY_KEY = '_default';

interface RawEndpoint {
  plainHttp?: boolean;
  ca?: string;
  clientCert?: string;
  clientKey?: string;
  skipVerify?: boolean;
  headers?: Record<string, string>;
}

export interface RawRegistry extends RawEndpoint {
  mirrors?: Array<
    RawEndpoint & { host: string; capabilities?: MirrorCapability[]; rewrite?: Record<string, string> }
  >;
}

function invalid(message: string): BerthError {
  return new BerthError('ERR_CONFIG_INVALID', 'invalid', message);
}

function endpoint(host: string, raw: RawEndpoint, where: string): EndpointConfig {
  if ((raw.clientCert === undefined) !== (raw.clientKey === undefined)) {
    throw invalid(`${where}: clientCert and clientKey go together`);
  }
  const e: EndpointConfig = {
    host: host.toLowerCase(),
    plainHttp: raw.plainHttp === true,
    skipVerify: raw.skipVerify === true,
    headers: { ...raw.headers },
  };
  if (raw.ca) e.ca = raw.ca;
  if (raw.clientCert) e.clientCert = raw.clientCert;
  if (raw.clientKey) e.clientKey = raw.clientKey;
  return e;
}

export function normalizeRegistries(
  raw: Record<string, RawRegistry> | undefined,
): Record<string, RegistryConfig> {
  const out: Record<string, RegistryConfig> = {};
  for (const [key, r] of Object.entries(raw ?? {})) {
    const where = `registries.${key}`;
    const mirrors = (r.mirrors ?? []).map((m, i): MirrorConfig => {
      const rewrite = Object.entries(m.rewrite ?? {});
      for (const [pattern] of rewrite) {
        try {
          new RegExp(pattern);
        } catch {
          throw invalid(`${where}.mirrors[${i}].rewrite: "${pattern}" is not a regular expression`);
        }
      }
      return {
        ...endpoint(m.host, m, `${where}.mirrors[${i}]`),
        capabilities: [...new Set<MirrorCapability>(m.capabilities ?? ['pull', 'resolve'])],
        rewrite,
      };
    });
    out[key === DEFAULT_REGISTRY_KEY ? key : key.toLowerCase()] = {
      origin: endpoint(key, r, where),
      mirrors,
    };
  }
  return out;
}
