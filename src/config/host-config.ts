// The host configuration (/etc/berth/config.yaml): registries, credentials, pull limits.
// Defaults are applied here once; everything downstream reads the normalised HostConfig.
// The JSON Schema in schemas/host-config.schema.json is the source of truth for its shape.
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { BerthError, errnoCode, isBerthError } from '../lib/errors.js';
import { preloadValidators } from '../lib/precompiled-validators.js';
import { loadSchema } from '../lib/schemas.js';
import { parseYamlWithSchema, positionOf } from '../lib/yaml-validate.js';
import { checkNetworkSettings, DEFAULT_NETWORK, type NetworkSettings } from '../network/settings.js';
import { type IdPool, idPoolOf } from '../runtime/id-range.js';
import { DEFAULT_AUTH_FILE, DEFAULT_CONFIG_PATH } from './paths.js';
import {
  DEFAULT_REGISTRY_KEY,
  normalizeRegistries,
  type RawRegistry,
  type RegistryConfig,
} from './registries.js';

export { DEFAULT_AUTH_FILE, DEFAULT_CONFIG_PATH };

export interface HostConfig {
  /** Registries that may be spoken to over plain HTTP (beyond loopback). */
  plainHttpRegistries: string[];
  /** Per registry (and `_default`): TLS, headers, mirrors (registries.ts). */
  registries: Record<string, RegistryConfig>;
  authFile: string;
  pull: { maxConcurrentDownloads: number; retries: number; idleTimeoutMs: number; alwaysRefreshMs: number };
  /** A containers-common seccomp profile path, 'builtin', or undefined (the usual path when present). */
  seccompProfile: string | undefined;
  /** How long conmon and `runc create` may take to report before a create fails and is undone. */
  createTimeoutMs: number;
  /** Disk-pressure image GC thresholds (percent of the store's file system). */
  images: { gcHighPercent: number; gcLowPercent: number; importDir?: string };
  /** A container's log: conmon rotates it at maxBytes; berth keeps maxFiles rotated files (log-rotation.ts). */
  logs: { maxBytes: number; maxFiles: number };
  /** The bridge network pods join by default. */
  network: NetworkSettings;
  /** Spare places on it the daemon keeps for the `--network bridge` containers it creates (spare-pool.ts). */
  networkSpares: number;
  unpack: {
    maxLayerBytes: number;
    maxImageBytes: number;
    reserveBytes: number;
    maxConcurrentLayers: number;
    snapshotter: SnapshotterSetting;
  };
  /** The event ring's size in bytes (src/events/ring.ts). */
  events: { maxBytes: number };
  /** A TCP `host:port` to serve `GET /metrics` on too, if any. */
  metrics: { listen: string | undefined };
  /** The host IDs hostUsers: false pods get their ranges from (runtime/id-range.ts). */
  userNamespaces: IdPool;
}

export type SnapshotterSetting = 'auto' | 'overlay' | 'native';

interface RawHostConfig {
  registries?: Record<string, RawRegistry>;
  auth?: { configFile?: string };
  pull?: {
    maxConcurrentDownloads?: number;
    retries?: number;
    idleTimeoutSeconds?: number;
    alwaysRefreshSeconds?: number;
  };
  containers?: { seccompProfile?: string; createTimeoutSeconds?: number };
  images?: { gcHighPercent?: number; gcLowPercent?: number; importDir?: string };
  logs?: { maxBytes?: number; maxFiles?: number };
  network?: Partial<NetworkSettings> & { spares?: number };
  unpack?: {
    maxLayerBytes?: number;
    maxImageBytes?: number;
    reserveBytes?: number;
    maxConcurrentLayers?: number;
    snapshotter?: SnapshotterSetting;
  };
  events?: { maxBytes?: number };
  metrics?: { listen?: string };
  userNamespaces?: Partial<IdPool>;
}

/**
 * `cpus` is the host's parallelism, passed in so this stays pure. `where` gives a section's
 * `file:line:col`, for the checks a schema cannot make (a subnet's range, gc percents in order).
 */
export function normalizeHostConfig(
  raw: RawHostConfig,
  cpus = 1,
  where?: (section: string) => string,
): HostConfig {
  const registries = raw.registries ?? {};
  const checked = <T>(section: string, fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      if (!where || !isBerthError(err) || err.lines) throw err;
      const line = `${where(section)}: ${err.code}: ${err.message}`;
      throw new BerthError(err.code, err.kind, line, { lines: [line], cause: err });
    }
  };
  return {
    plainHttpRegistries: Object.keys(registries)
      .filter((host) => host !== DEFAULT_REGISTRY_KEY && registries[host]?.plainHttp === true)
      .map((host) => host.toLowerCase()),
    registries: checked('registries', () => normalizeRegistries(raw.registries)),
    authFile: raw.auth?.configFile ?? DEFAULT_AUTH_FILE,
    pull: {
      maxConcurrentDownloads: raw.pull?.maxConcurrentDownloads ?? 3,
      retries: raw.pull?.retries ?? 4,
      idleTimeoutMs: Math.round((raw.pull?.idleTimeoutSeconds ?? 30) * 1000),
      alwaysRefreshMs: Math.round((raw.pull?.alwaysRefreshSeconds ?? 300) * 1000),
    },
    seccompProfile: raw.containers?.seccompProfile,
    createTimeoutMs: Math.round((raw.containers?.createTimeoutSeconds ?? 60) * 1000),
    images: checked('images', () => imageGcSettings(raw.images)),
    logs: { maxBytes: raw.logs?.maxBytes ?? 10 * 2 ** 20, maxFiles: raw.logs?.maxFiles ?? 3 },
    network: checked('network', () => {
      const { spares: _, ...settings } = raw.network ?? {};
      return checkNetworkSettings({ ...DEFAULT_NETWORK, ...settings });
    }),
    networkSpares: raw.network?.spares ?? 1,
    unpack: {
      maxLayerBytes: raw.unpack?.maxLayerBytes ?? 64 * 2 ** 30,
      maxImageBytes: raw.unpack?.maxImageBytes ?? 128 * 2 ** 30,
      reserveBytes: raw.unpack?.reserveBytes ?? 256 * 2 ** 20,
      maxConcurrentLayers: raw.unpack?.maxConcurrentLayers ?? cpus,
      snapshotter: raw.unpack?.snapshotter ?? 'auto',
    },
    events: { maxBytes: raw.events?.maxBytes ?? 4 * 2 ** 20 },
    metrics: { listen: raw.metrics?.listen },
    userNamespaces: checked('userNamespaces', () => idPoolOf(raw.userNamespaces)),
  };
}

function imageGcSettings(raw: RawHostConfig['images']): HostConfig['images'] {
  const gcHighPercent = raw?.gcHighPercent ?? 85;
  const gcLowPercent = raw?.gcLowPercent ?? Math.min(80, gcHighPercent - 5);
  if (gcLowPercent >= gcHighPercent) {
    throw new BerthError(
      'ERR_CONFIG_INVALID',
      'invalid',
      `images.gcLowPercent (${gcLowPercent}) must be less than images.gcHighPercent (${gcHighPercent})`,
    );
  }
  return { gcHighPercent, gcLowPercent, ...(raw?.importDir ? { importDir: raw.importDir } : {}) };
}

/** Parse and validate config text; errors are `file:line:col: CODE: message`. */
export function parseHostConfig(text: string, file: string, cpus = 1): HostConfig {
  const raw = parseYamlWithSchema<RawHostConfig>(
    text,
    file,
    loadSchema('host-config.schema.json'),
    'ERR_CONFIG_INVALID',
  );
  return normalizeHostConfig(raw ?? {}, cpus, (section) => positionOf(text, file, [section]));
}

/**
 * Load the host config. A missing file at the default path means defaults; a missing file the user
 * named explicitly is an error.
 */
export async function loadHostConfig(path: string | undefined): Promise<HostConfig> {
  const file = path ?? DEFAULT_CONFIG_PATH;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' && path === undefined)
      return normalizeHostConfig({}, availableParallelism());
    throw new BerthError(
      'ERR_CONFIG_UNREADABLE',
      'invalid',
      `cannot read host config ${file}: ${errnoCode(err)}`,
      {
        cause: err,
      },
    );
  }
  await preloadValidators(['host-config.schema.json']);
  return parseHostConfig(text, file, availableParallelism());
}
