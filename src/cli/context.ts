// Builds what commands use from the global flags: the host config, the content store and the
// registry client, each created on first use and shared for the rest of the command.
import { readFile } from 'node:fs/promises';
import type { HostConfig } from '../config/host-config.js';
import { createContentStore } from '../content/index.js';
import type { ContentStore } from '../content/types.js';
import { canonicalPath } from '../lib/canonical-path.js';
import { isLoopbackRegistry } from '../oci/reference.js';
import type { RegistryClient } from '../registry/types.js';
import type { RuntimeDeps } from '../runtime/containers.js';
import { loadHostRuntimeFacts, loadSeccompProfile } from '../runtime/host.js';
import { runtimePaths } from '../runtime/paths.js';
import { createRunc } from '../runtime/runc.js';
import { chooseSnapshotForm } from '../snapshot/form.js';
import { createSnapshotStore, type SnapshotStore } from '../snapshot/snapshot-store.js';
import type { GlobalFlags } from './args.js';
import type { CliIO, CommandContext } from './command.js';
import { secureRoot, secureState } from './store-modes.js';

function once<T>(make: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => {
    p ??= make();
    return p;
  };
}

/** A container's log file is rotated by conmon beyond this size. */
const LOG_SIZE_MAX = 10 * 2 ** 20;

export interface OpenedContext {
  ctx: CommandContext;
  close(): Promise<void>;
}

export function openContext(io: CliIO, given: GlobalFlags, signal: AbortSignal): OpenedContext {
  // --root and --state canonical once, here: every path built from them is then compared as-is
  // with the resolved, absolute mount points the kernel lists (a symlinked or relative root).
  const flags: GlobalFlags = { ...given, root: canonicalPath(given.root), state: canonicalPath(given.state) };
  // Loaded when first needed (YAML + schema validation, undici): commands that need neither, such
  // as `container start`, start faster without them.
  const hostConfig = once<HostConfig>(async () =>
    (await import('../config/host-config.js')).loadHostConfig(flags.config),
  );
  // Every path into --root or --state goes through these first: modes checked, tightened if loose.
  const rootSecured = once(() => secureRoot(flags.root));
  const stateSecured = once(() => secureState(flags.state));
  const store = once<ContentStore>(async () => {
    await rootSecured();
    return createContentStore({ root: flags.root });
  });
  let client: RegistryClient | undefined;
  const registry = once<RegistryClient>(async () => {
    const config = await hostConfig();
    const [{ loadCredentials }, { createRegistryClient }] = await Promise.all([
      import('../registry/credentials.js'),
      import('../registry/client.js'),
    ]);
    const credentials = await loadCredentials(config.authFile);
    const created = createRegistryClient({
      credentials,
      isPlainHttpAllowed: (host: string) =>
        isLoopbackRegistry(host) || config.plainHttpRegistries.includes(host),
      retries: config.pull.retries,
      idleTimeoutMs: config.pull.idleTimeoutMs,
    });
    client = created;
    return created;
  });
  const snapshots = once<SnapshotStore>(async () => {
    const { unpack } = await hostConfig();
    await rootSecured();
    const filesystems = await readFile('/proc/filesystems', 'utf8').catch(() => '');
    return createSnapshotStore(flags.root, chooseSnapshotForm(unpack.snapshotter, filesystems));
  });
  const runtime = once<RuntimeDeps>(async () => {
    await Promise.all([rootSecured(), stateSecured()]);
    const facts = await loadHostRuntimeFacts();
    const paths = runtimePaths(flags.root, flags.state);
    return {
      ...facts,
      paths,
      runc: createRunc(paths.runcRoot),
      images: async () => ({ store: await store(), snapshots: await snapshots() }),
      stateCache: new Map(),
      seccompProfile: async () => loadSeccompProfile((await hostConfig()).seccompProfile),
      now: io.now,
      logSizeMax: LOG_SIZE_MAX,
      createTimeoutMs: async () => (await hostConfig()).createTimeoutMs,
      network: once(async () =>
        (await import('../network/adapter.js')).createNetworkAdapter({
          settings: (await hostConfig()).network,
          state: flags.state,
        }),
      ),
    };
  });
  return {
    ctx: {
      ...io,
      flags,
      signal,
      hostConfig,
      store,
      registry,
      snapshots,
      runtime,
    },
    async close() {
      await client?.close();
    },
  };
}
