// A container's network when it is created: the namespace it joins (its own, made here and undone
// on failure; a pod's; another container's; or the host's) and, with `--network bridge`, its place
// on the host's bridge network (an address and published ports, through the network adapter).
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
 * `--network bridge`: the container's own namespace on the host's bridge network, found by its name.
 * The network is opened (its modules loaded, the host config read) while `netns` is made: the
 * attach starts as soon as the namespace exists.
 */
export async function joinBridge(
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
  const key = `container-${id}`;
  undo.push(() => net.detach(key));
  await net.attach({
    key,
    owner: { kind: 'container', name: settings.name },
    netns: p.netns,
    ports: settings.ports ?? [],
    names: [settings.name],
    hostsFile: p.hosts,
  });
}
