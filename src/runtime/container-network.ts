// A container's network when it is created: the namespace it joins (its own, made here and undone
// on failure; a pod's; another container's; or the host's) and, with `--network bridge`, its place
// on the host's bridge network (an address and published ports, through the network adapter; in
// the daemon, a spare's namespace and address when one is ready: network/spare-pool.ts).
import { findContainer, type RuntimeDeps } from './containers.js';
import { createNetns, removeNetns } from './netns.js';
import { type ContainerPaths, containerPaths } from './paths.js';
import { isMountPoint } from './rootfs.js';
import { type ContainerSettings, invalid } from './spec.js';

/**
 * The network namespace the container joins: its own (made now, undone on failure), another
 * container's (its own, or the pod's it joined), or none for host networking.
 */
export async function networkNamespace(
  deps: RuntimeDeps,
  settings: ContainerSettings,
  p: ContainerPaths,
  undo: Array<() => Promise<void>>,
): Promise<string | undefined> {
  const network = settings.network ?? 'none';
  if (network === 'host') return undefined;
  if (settings.netnsPath) {
    if (!(await isMountPoint(settings.netnsPath)))
      throw invalid(`network namespace ${settings.netnsPath} does not exist`);
    return settings.netnsPath;
  }
  if (network === 'none' || network === 'bridge') {
    undo.push(() => removeNetns(p.netns));
    await createNetns(p.netns);
    return p.netns;
  }
  const owner = await findContainer(deps, network.slice('container:'.length));
  // A pod's container: the pod's namespace, which it joined (as `podman run --network container:`).
  if (owner.settings.netnsPath) {
    if (!(await isMountPoint(owner.settings.netnsPath)))
      throw invalid(`--network ${network}: its pod's network namespace is gone`);
    return owner.settings.netnsPath;
  }
  const ownerNetwork = owner.settings.network ?? 'none';
  if (ownerNetwork !== 'none' && ownerNetwork !== 'bridge') {
    throw invalid(
      `--network ${network}: that container has no network namespace of its own (${ownerNetwork})`,
    );
  }
  return containerPaths(deps.paths, owner.id).netns;
}

/**
 * The container's namespace (`networked`: its path, none for the host's) and, with `--network
 * bridge`, its place on the bridge network (`attached`): a spare's when the daemon's pool has one
 * ready, else a namespace made now and attached. Every step is undone through `undo` on failure.
 */
export function containerNetwork(
  deps: RuntimeDeps,
  settings: ContainerSettings,
  id: string,
  p: ContainerPaths,
  undo: Array<() => Promise<void>>,
): { networked: Promise<string | undefined>; attached?: Promise<void> } {
  if (settings.network !== 'bridge') return { networked: networkNamespace(deps, settings, p, undo) };
  // A spare's namespace is the container's once bound at its path: `runc create` goes on while the
  // claim makes its port rules.
  let inPlace: () => void = () => {};
  const bound = new Promise<boolean>((res) => {
    inPlace = () => res(true);
  });
  const taking = deps.spares ? takeSpare(deps, settings, id, p, undo, inPlace) : Promise.resolve(false);
  const spared = Promise.race([bound, taking]);
  const networked = spared.then((taken) => (taken ? p.netns : networkNamespace(deps, settings, p, undo)));
  const attached = spared.then(async (taken) => {
    if (taken) await taking;
    else await joinBridge(deps, settings, id, p, undo, networked);
  });
  return { networked, attached };
}

const bridgeRequest = (settings: ContainerSettings, id: string, p: ContainerPaths) => ({
  key: `container-${id}`,
  owner: { kind: 'container' as const, name: settings.name },
  netns: p.netns,
  ports: settings.ports ?? [],
  names: [settings.name],
  hostsFile: p.hosts,
});

/**
 * Whether the container's namespace and place are a spare's (bound at its path, attached);
 * `inPlace` is called once the namespace is at its path.
 */
async function takeSpare(
  deps: RuntimeDeps,
  settings: ContainerSettings,
  id: string,
  p: ContainerPaths,
  undo: Array<() => Promise<void>>,
  inPlace: () => void,
): Promise<boolean> {
  if (!deps.spares || !deps.network) return false;
  const net = await deps.network();
  // Undone as an attach is: its place, then the namespace (both nothing when no spare was had).
  undo.push(() => removeNetns(p.netns));
  undo.push(() => net.detach(`container-${id}`));
  return (await deps.spares.take(bridgeRequest(settings, id, p), inPlace)) !== undefined;
}

/**
 * `--network bridge`: the container's own namespace on the host's bridge network, found by its name.
 * The network is opened (its modules loaded, the host config read) while `netns` is made: the
 * attach starts as soon as the namespace exists.
 */
async function joinBridge(
  deps: RuntimeDeps,
  settings: ContainerSettings,
  id: string,
  p: ContainerPaths,
  undo: Array<() => Promise<void>>,
  netns: Promise<unknown>,
): Promise<void> {
  if (!deps.network) throw invalid('--network bridge: this berth has no network configured');
  const opened = deps.network();
  opened.catch(() => undefined); // awaited below, once the namespace is there
  await netns;
  const net = await opened;
  const req = bridgeRequest(settings, id, p);
  undo.push(() => net.detach(req.key));
  await net.attach(req);
}
