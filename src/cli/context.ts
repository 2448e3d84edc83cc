// Builds what commands use from the global flags: the host config, the content store and the
// registry client, each created on first use and shared for the rest of the command.
import { readFile } from 'node:fs/promises';
import type { HostConfig } from '../config/host-config.js';
import { createContentStore } from '../content/index.js';
import { acquireLock } from '../content/lock.js';
import type { ContentStore } from '../content/types.js';
import { type EventRing, eventRingDir, openEventRing } from '../events/ring.js';
import { canonicalPath } from '../lib/canonical-path.js';
import { BerthError, formatErrorLine } from '../lib/errors.js';
import { createFileCache } from '../lib/file-cache.js';
import { refusePlantedLinks } from '../lib/planted-links.js';
import type { NetworkAdapter } from '../network/adapter.js';
import type { NetworkSettings } from '../network/settings.js';
import type { RegistryClient } from '../registry/types.js';
import type { RuntimeDeps } from '../runtime/containers.js';
import { loadHostRuntimeFacts, loadSeccompProfile } from '../runtime/host.js';
import { nameLockPurpose } from '../runtime/name-lock.js';
import { overlayRefusedAt } from '../runtime/overlay-probe.js';
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

export interface OpenedContext {
  ctx: CommandContext;
  close(): Promise<void>;
}

export function openContext(io: CliIO, given: GlobalFlags, signal: AbortSignal): OpenedContext {
  // --root and --state canonical once, here: every path built from them is then compared as-is
  // with the resolved, absolute mount points the kernel lists (a symlinked or relative root).
  refusePlantedLinks(given.root, '--root');
  refusePlantedLinks(given.state, '--state');
  const flags: GlobalFlags = { ...given, root: canonicalPath(given.root), state: canonicalPath(given.state) };
  refuseColon(flags.root, given.root);
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
  const extraClients: RegistryClient[] = [];
  const makeRegistry = async (pullSecrets?: string[]) => {
    const config = await hostConfig();
    const [{ loadCredentials }, { createHostRegistryClient }, { pullSecretCredentials }] = await Promise.all([
      import('../registry/credentials.js'),
      import('./registry-clients.js'),
      import('../registry/pull-secrets.js'),
    ]);
    const host = await loadCredentials(config.authFile);
    const credentials = pullSecrets ? pullSecretCredentials(pullSecrets, host) : host;
    return createHostRegistryClient(config, credentials);
  };
  const registry = once<RegistryClient>(async () => {
    client = await makeRegistry();
    return client;
  });
  const registryWithPullSecrets = async (secrets: string[]) => {
    const created = await makeRegistry(secrets);
    extraClients.push(created);
    return created;
  };
  const snapshots = once<SnapshotStore>(async () => {
    const { unpack } = await hostConfig();
    await rootSecured();
    const filesystems = await readFile('/proc/filesystems', 'utf8').catch(() => '');
    const form = chooseSnapshotForm(unpack.snapshotter, filesystems);
    // `auto` on a root overlayfs will not take an upper directory on (overlay-probe.ts): native there.
    const refused =
      form === 'overlay' &&
      unpack.snapshotter === 'auto' &&
      (await stateSecured()
        .catch(() => undefined) // the answer is then not kept; the state's own error comes where it is needed
        .then(() => overlayRefusedAt(flags.root, flags.state)));
    return createSnapshotStore(flags.root, refused ? 'native' : form);
  });
  let networkOpened: Promise<NetworkAdapter> | undefined; // once a command opened the network
  const runtime = once<RuntimeDeps>(async () => {
    await Promise.all([rootSecured(), stateSecured()]);
    const facts = await loadHostRuntimeFacts();
    const paths = runtimePaths(flags.root, flags.state);
    const fileCache = createFileCache(); // the runtime's and the network adapter's reads alike
    const hostFiles = createFileCache(); // never swept: the host's own files (the seccomp profile)
    return {
      ...facts,
      paths,
      runc: createRunc(paths.runcRoot),
      images: async () => ({ store: await store(), snapshots: await snapshots() }),
      stateCache: new Map(),
      fileCache,
      // Parsed again only when the file changes: a daemon creates many containers (host-files cache).
      seccompProfile: async () =>
        loadSeccompProfile((await hostConfig()).seccompProfile, undefined, hostFiles),
      now: io.now,
      logSizeMax: async () => (await hostConfig()).logs.maxBytes,
      logRotation: async () => ({
        maxFiles: (await hostConfig()).logs.maxFiles,
        lock: () => acquireLock(flags.root, 'logs', { timeoutMs: 60_000 }),
      }),
      createTimeoutMs: async () => (await hostConfig()).createTimeoutMs,
      // As long as a create may take (the image's volumes copied, conmon and runc waited for).
      nameLock: (name) => acquireLock(flags.root, nameLockPurpose(name), { timeoutMs: 10 * 60_000 }),
      network: () =>
        (networkOpened ??= (async () => {
          const { createNetworkAdapter } = await import('../network/adapter.js');
          const { withFormerNetworks } = await import('../network/former-networks.js');
          const open = (settings: NetworkSettings) =>
            createNetworkAdapter({ settings, state: flags.state, fileCache });
          return withFormerNetworks(open((await hostConfig()).network), { state: flags.state, open });
        })()),
    };
  });
  const events = once<EventRing>(async () => {
    const config = await hostConfig();
    await rootSecured();
    const now = () => io.now().getTime();
    return openEventRing({ dir: eventRingDir(flags.root), maxBytes: config.events.maxBytes, now });
  });
  return {
    ctx: {
      ...io,
      flags,
      signal,
      hostConfig,
      store,
      registry,
      registryWithPullSecrets,
      snapshots,
      runtime,
      events,
    },
    async close() {
      // Peers' hosts files follow a join a little later (network/adapter.ts): now, before the
      // command ends, when it opened the network.
      await (await networkOpened?.catch(() => undefined))?.settled().catch((err) => {
        io.stderr.write(`berth: warning: ${formatErrorLine(err)}\n`); // the command itself did its work
      });
      await client?.close();
      for (const c of extraClients) await c.close();
    },
  };
}

/**
 * A --root whose path (links resolved) holds a ':' is refused: conmon reads its log path as
 * DRIVER:PATH and cuts it at the next ':', so every container's log would go to another file,
 * outside the root.
 */
function refuseColon(root: string, given: string): void {
  if (!root.includes(':')) return;
  throw new BerthError(
    'ERR_USAGE',
    'invalid',
    `--root ${given}: ${root} holds a ':', which conmon's log path cannot`,
    {
      hint: "give --root a path without ':'",
    },
  );
}
