// The host configuration (/etc/berth/config.yaml): registries, credentials, pull limits.
// Defaults are applied here once; everything downstream reads the normalised HostConfig.
// The JSON Schema in schemas/host-config.schema.json is the source of truth for its shape.
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { BerthError, errnoCode } from '../lib/errors.js';
import { loadSchema } from '../lib/schemas.js';
import { parseYamlWithSchema } from '../lib/yaml-validate.js';
import { checkNetworkSettings, DEFAULT_NETWORK, type NetworkSettings } from '../network/settings.js';

export const DEFAULT_CONFIG_PATH = '/etc/berth/config.yaml';
export const DEFAULT_AUTH_FILE = '/etc/berth/auth.json';

export interface HostConfig {
  /** Registries that may be spoken to over plain HTTP (beyond loopback). */
  plainHttpRegistries: string[];
  authFile: string;
  pull: { maxConcurrentDownloads: number; retries: number; idleTimeoutMs: number };
  /** A containers-common seccomp profile path, 'builtin', or undefined (the usual path when present). */
  seccompProfile: string | undefined;
  /** How long conmon and `runc create` may take to report before a create fails and is undone. */
  createTimeoutMs: number;
  /** The bridge network pods join by default. */
  network: NetworkSettings;
  unpack: {
    maxLayerBytes: number;
    maxImageBytes: number;
    reserveBytes: number;
    maxConcurrentLayers: number;
    snapshotter: SnapshotterSetting;
  };
}

export type SnapshotterSetting = 'auto' | 'overlay' | 'native';

interface RawHostConfig {
  registries?: Record<string, { plainHttp?: boolean }>;
  auth?: { configFile?: string };
  pull?: { maxConcurrentDownloads?: number; retries?: number; idleTimeoutSeconds?: number };
  containers?: { seccompProfile?: string; createTimeoutSeconds?: number };
  network?: Partial<NetworkSettings>;
  unpack?: {
    maxLayerBytes?: number;
    maxImageBytes?: number;
    reserveBytes?: number;
    maxConcurrentLayers?: number;
    snapshotter?: SnapshotterSetting;
  };
}

/** `cpus` is the host's parallelism, passed in so this stays pure. */
export function normalizeHostConfig(raw: RawHostConfig, cpus = 1): HostConfig {
  const registries = raw.registries ?? {};
  return {
    plainHttpRegistries: Object.keys(registries)
      .filter((host) => registries[host]?.plainHttp === true)
      .map((host) => host.toLowerCase()),
    authFile: raw.auth?.configFile ?? DEFAULT_AUTH_FILE,
    pull: {
      maxConcurrentDownloads: raw.pull?.maxConcurrentDownloads ?? 3,
      retries: raw.pull?.retries ?? 4,
      idleTimeoutMs: Math.round((raw.pull?.idleTimeoutSeconds ?? 30) * 1000),
    },
    seccompProfile: raw.containers?.seccompProfile,
    createTimeoutMs: Math.round((raw.containers?.createTimeoutSeconds ?? 60) * 1000),
    network: checkNetworkSettings({ ...DEFAULT_NETWORK, ...raw.network }),
    unpack: {
      maxLayerBytes: raw.unpack?.maxLayerBytes ?? 64 * 2 ** 30,
      maxImageBytes: raw.unpack?.maxImageBytes ?? 128 * 2 ** 30,
      reserveBytes: raw.unpack?.reserveBytes ?? 256 * 2 ** 20,
      maxConcurrentLayers: raw.unpack?.maxConcurrentLayers ?? cpus,
      snapshotter: raw.unpack?.snapshotter ?? 'auto',
    },
  };
}

/** Parse and validate config text; errors are `file:line:col: CODE: message`. */
export function parseHostConfig(text: string, file: string, cpus = 1): HostConfig {
  const raw = parseYamlWithSchema<RawHostConfig>(
    text,
    file,
    loadSchema('host-config.schema.json'),
    'ERR_CONFIG_INVALID',
  );
  return normalizeHostConfig(raw ?? {}, cpus);
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
  return parseHostConfig(text, file, availableParallelism());
}
