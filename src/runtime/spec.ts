// The OCI runtime config (config.json) of a container: its image's config and its own settings,
// converted by the image-spec rules (Entrypoint + Cmd, Env merged by key, WorkingDir, User) with
// Docker's secure defaults. Pure: everything from the host (rlimits, the user's passwd entry, the
// seccomp profile) comes in as arguments.
import { posix } from 'node:path';
import { BerthError } from '../lib/errors.js';
import type { DnsSettings, HostEntry } from '../network/names.js';
import type { PortMapping } from '../network/ports.js';
import type { ImageConfig } from '../oci/image.js';
import {
  ALL_CAPABILITIES,
  DEFAULT_CAPABILITIES,
  DEFAULT_PATH,
  MASKED_PATHS,
  READONLY_PATHS,
  type SpecMount,
  SYSTEM_MOUNTS,
  WANTED_NOFILE,
} from './defaults.js';
import { byDepth } from './mount-order.js';
import { type ContainerResources, type PodCgroup, resourcesOf } from './resources.js';
import type { ResolvedUser } from './user.js';

export interface ContainerMount {
  /** `bind`: a host path; `volume`: a directory berth keeps; `tmpfs`: memory; `image`: an image's files, read-only. */
  kind: 'bind' | 'volume' | 'tmpfs' | 'image';
  /** Host path (bind, volume), image reference (image); unused for tmpfs. */
  source: string;
  destination: string;
  readOnly: boolean;
  /** A path inside the volume at `source` to mount instead of its root (bind, volume): sub-path.ts. */
  subPath?: string;
  /** The subPath is taken inside the volume's current `..data` (config volumes: config-volumes.ts). */
  dataLink?: boolean;
  /** A pod's hostPath's `type` ("" none), set at each create (never hashed): host-path-open.ts. */
  hostPathType?: string;
  /** Mounts made later under it on the host reach the container (rslave), or both ways (rshared). */
  propagation?: MountPropagation;
  /** Read-only all the way down (runc's `rro`), not just the top mount: always, or where the kernel can. */
  recursiveReadOnly?: 'required' | 'if-possible';
  /** A berth volume's group, set over its tree before each create (volume-ownership.ts). */
  fsGroup?: { gid: number; policy: 'Always' | 'OnRootMismatch'; readOnly?: boolean };
  /** Mount flags kept from the source (a user namespace's read-only binds: userns-mounts.ts). */
  flags?: string[];
}

/** A bind mount's propagation other than private (Kubernetes' HostToContainer, Bidirectional). */
export type MountPropagation = 'rslave' | 'rshared';

/** A container's own settings, on top of its image. */
export interface ContainerSettings {
  name: string;
  /** Replaces the image's Cmd (the Entrypoint stays), as `docker run IMAGE CMD…`. */
  command?: string[];
  /** Replaces the image's Entrypoint (and drops its Cmd), as a Kubernetes `command`. */
  entrypoint?: string[];
  /** The host name inside (default: the container's name). */
  hostname?: string;
  /** The signal that stops it, over the image's StopSignal (a Kubernetes lifecycle.stopSignal). */
  stopSignal?: string;
  /** Overrides the user's group (a Kubernetes runAsGroup). */
  gid?: number;
  /** Allow setuid binaries to gain privileges (Kubernetes allowPrivilegeEscalation; default no). */
  allowPrivilegeEscalation?: boolean;
  /** A network namespace made elsewhere (a pod's) to join, by path. */
  netnsPath?: string;
  env?: string[];
  /** A terminal for its process (Kubernetes `tty`): conmon holds the pty and logs what it prints. */
  tty?: boolean;
  workdir?: string;
  user?: string;
  readOnly?: boolean;
  privileged?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  /**
   * none: a netns of its own (loopback up); bridge: one of its own on the host's bridge network;
   * host: the host's; container:NAME: that container's.
   */
  network?: 'none' | 'bridge' | 'host' | `container:${string}`;
  /** Published ports (`--network bridge` only). */
  ports?: PortMapping[];
  /** A hosts file the network keeps up to date (its pod's), bind-mounted as /etc/hosts. */
  hostsFile?: string;
  /** resolv.conf: the host's without loopback resolvers, plus this (others' only when they ask). */
  dns?: DnsSettings;
  /** A pod's hostAliases off the bridge network: lines after its own in the hosts file berth writes. */
  hostAliases?: HostEntry[];
  mounts?: ContainerMount[];
  resources?: ContainerResources;
  /** Its pod's cgroup, made and set before its own is made inside it. */
  podCgroup?: PodCgroup;
  /** Refuse to start when the resolved user is root (Kubernetes runAsNonRoot): create.ts checks. */
  runAsNonRoot?: boolean;
  /** Groups added to the user's (Kubernetes supplementalGroups and fsGroup). */
  supplementalGroups?: number[];
  /** The host's PID / IPC namespace instead of the container's own (Kubernetes hostPID, hostIPC). */
  hostPID?: boolean;
  hostIPC?: boolean;
  /** Its pod's PID namespace holder record (Kubernetes shareProcessNamespace): pid-holder.ts. */
  pidnsHolder?: string;
  /** Namespaced sysctls (manifest/security-checks.ts admits only those). */
  sysctls?: Record<string, string>;
  /** `unconfined`: no seccomp filter (Kubernetes seccompProfile Unconfined). */
  seccomp?: 'unconfined';
  /** A profile in `<root>/seccomp/` instead of the host's default (Kubernetes seccompProfile Localhost). */
  seccompLocalhost?: string;
  /** Where the container writes its termination message (termination-message.ts). */
  terminationMessagePath?: string;
  /** Kubernetes procMount Unmasked (hostUsers: false only): no masked or read-only paths. */
  procUnmasked?: boolean;
  /** A hostUsers: false pod's home (its ID range and shifted snapshots): a user namespace of its own. */
  userns?: string;
}

export interface HostFacts {
  /** The host's hard RLIMIT_NOFILE. */
  nofileHard: number;
  /** Network namespace to join (a pod's); none for host networking. */
  netnsPath?: string;
  /** PID namespace to join (a pod's shared one); none: its own. */
  pidnsPath?: string;
  /** Per-container files bind-mounted over the image's. */
  hostname: string;
  etcHosts: string;
  resolvConf: string;
  cgroupsPath: string;
  /** OCI `linux.seccomp`, or undefined for none (privileged). */
  seccomp?: object;
  /** The host's capability bounding set. */
  capBound?: bigint;
  /** The host has cgroup namespaces: each container gets its own. */
  cgroupNamespace?: boolean;
  /** The AppArmor profile containers run under (where the host has AppArmor and it is loaded). */
  apparmorProfile?: string;
  /** The kernel makes recursive read-only mounts (mount_setattr, Linux 5.12+). */
  recursiveReadOnly?: boolean;
  /** A user namespace whose 0… maps to host `hostId`… (a hostUsers: false pod's range): its own, or the pod's `path`. */
  idMap?: { hostId: number; size: number; path?: string };
  /** The rootfs by its real path, when not the bundle's `rootfs` (a user namespace's: userns-rootfs.ts). */
  rootPath?: string;
}

/** Whether a kernel release (`uname -r`) has mount_setattr, which recursive read-only mounts need. */
export function kernelHasRecursiveReadOnly(release: string): boolean {
  const [major = 0, minor = 0] = release.split(/[.-]/).map((n) => Number.parseInt(n, 10));
  return major > 5 || (major === 5 && minor >= 12);
}

export function invalid(message: string): BerthError {
  return new BerthError('ERR_CONTAINER_INVALID', 'invalid', message);
}

/**
 * The argv: Entrypoint + Cmd, where `command` replaces Cmd (as `docker run IMAGE CMD…`) and
 * `entrypoint` replaces Entrypoint and drops the image's Cmd (as a Kubernetes `command`).
 */
export function processArgs(
  image: ImageConfig,
  command?: string[],
  entrypoint?: string[],
  imageName = 'the image',
): string[] {
  const ep = entrypoint && entrypoint.length > 0 ? entrypoint : (image.config?.Entrypoint ?? []);
  const imageCmd = entrypoint && entrypoint.length > 0 ? [] : (image.config?.Cmd ?? []);
  const args = [...ep, ...(command && command.length > 0 ? command : imageCmd)];
  if (args.length === 0) {
    const which = imageName === 'the image' ? imageName : `image "${imageName}"`;
    throw new BerthError(
      'ERR_CONTAINER_INVALID',
      'invalid',
      `${which} has no Entrypoint or Cmd and no command was given`,
      {
        hint: 'give the container a command (`command:` in a manifest, or after the image on the command line)',
      },
    );
  }
  return args;
}

/** Image Env, then the container's, merged by key; PATH and HOSTNAME and HOME filled in. */
export function processEnv(image: ImageConfig, extra: string[], hostname: string, home: string): string[] {
  const env = new Map<string, string>();
  const fromImage = image.config?.Env ?? [];
  for (const [i, kv] of [...fromImage, ...extra].entries()) {
    const eq = kv.indexOf('=');
    // The image's `NAME` alone unsets NAME, as containerd and Docker read an image config.
    if (eq === -1 && i < fromImage.length && kv !== '') env.delete(kv);
    else if (eq <= 0) throw invalid(`environment entry "${kv}" is not KEY=VALUE`);
    else env.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  if (!env.has('PATH')) env.set('PATH', DEFAULT_PATH);
  if (!env.has('HOSTNAME')) env.set('HOSTNAME', hostname);
  if (!env.has('HOME')) env.set('HOME', home);
  return [...env].map(([k, v]) => `${k}=${v}`);
}

export function checkContainerPath(path: string, what: string): string {
  if (!path.startsWith('/')) throw invalid(`${what} "${path}" is not an absolute path`);
  if (path.split('/').includes('..')) throw invalid(`${what} "${path}" contains ".."`);
  return path;
}

/**
 * A container path (the image config's WorkingDir, a Volumes key; a mount destination), cleaned by its letters as Docker cleans
 * it (filepath.Clean): `.`, `..` and repeated or trailing slashes go, never above `/`. The image is
 * not its user's to fix, and Docker and containerd run it; a relative path stays as it is, refused.
 */
export function cleanContainerPath(path: string): string {
  if (!path.startsWith('/')) return path;
  return posix.normalize(path).replace(/(?<=.)\/+$/, '');
}

/** The image's WorkingDir, cleaned, or `/`. */
export const imageWorkingDir = (image: ImageConfig): string =>
  cleanContainerPath(image.config?.WorkingDir || '/');

/** Whether a (cleaned, absolute) container path is /proc or under it. */
export function isUnderProc(path: string): boolean {
  return path.split('/').filter((p) => p !== '' && p !== '.')[0] === 'proc';
}

/**
 * A working directory is never under /proc: `/proc/self/fd/N` there is a descriptor runc may have
 * leaked from the host (CVE-2024-21626), and nothing legitimate runs in /proc. create.ts checks the
 * path again after resolving the image's symlinks.
 */
export function checkWorkingDir(path: string, what = 'working directory'): string {
  checkContainerPath(path, what);
  if (isUnderProc(path)) {
    throw new BerthError(
      'ERR_WORKDIR_UNSAFE',
      'invalid',
      `${what} "${path}" is under /proc (a host file descriptor could leak through it)`,
    );
  }
  return path;
}

/**
 * The container's capabilities: Docker's 14 with --cap-add/--cap-drop, or every one the host has
 * when privileged. `hostBound` is the host's bounding set (CapBnd); nothing outside it is asked for.
 */
export function capabilities(settings: ContainerSettings, hostBound?: bigint): string[] {
  const onHost = (c: string) =>
    hostBound === undefined || ((hostBound >> BigInt(ALL_CAPABILITIES.indexOf(c))) & 1n) === 1n;
  if (settings.privileged) return ALL_CAPABILITIES.filter(onHost);
  // `ALL`, as Kubernetes runtimes take it: add ALL starts from every capability, drop ALL from none.
  const isAll = (c: string) => c.toUpperCase() === 'ALL';
  const norm = (c: string) => {
    const name = normCap(c);
    if (!ALL_CAPABILITIES.includes(name)) throw invalid(`unknown capability "${c}"`);
    return name;
  };
  const added = (settings.capAdd ?? []).filter((c) => !isAll(c)).map(norm);
  for (const c of added) if (!onHost(c)) throw invalid(`capability ${c} is not available on this host`);
  const drop = new Set((settings.capDrop ?? []).filter((c) => !isAll(c)).map(norm));
  const base = (settings.capDrop ?? []).some(isAll)
    ? []
    : (settings.capAdd ?? []).some(isAll)
      ? ALL_CAPABILITIES
      : DEFAULT_CAPABILITIES;
  return [...new Set([...base.filter(onHost), ...added])].filter((c) => !drop.has(c));
}

/** `net_admin`, `NET_ADMIN`, `CAP_NET_ADMIN` → `CAP_NET_ADMIN` (unchecked). */
function normCap(c: string): string {
  const up = c.toUpperCase();
  return up.startsWith('CAP_') ? up : `CAP_${up}`;
}

/** sysfs needs a netns the userns owns; an older sandbox's was made first: /sys is bound read-only. */
const SYSFS_IN_USERNS: SpecMount = {
  destination: '/sys',
  type: 'bind',
  source: '/sys',
  options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'],
};

function mountsOf(settings: ContainerSettings, host: HostFacts): SpecMount[] {
  const out: SpecMount[] = SYSTEM_MOUNTS.map((m) =>
    m.destination === '/sys' && host.idMap && !host.idMap.path
      ? SYSFS_IN_USERNS
      : m.destination === '/sys' && settings.privileged
        ? { ...m, options: m.options.filter((o) => o !== 'ro') }
        : m,
  );
  for (const [destination, source] of [
    ['/etc/hostname', host.hostname],
    ['/etc/hosts', host.etcHosts],
    ['/etc/resolv.conf', host.resolvConf],
  ] as const) {
    out.push({ destination, type: 'bind', source, options: ['rbind', 'rprivate'] });
  }
  for (const m of byDepth(settings.mounts ?? [])) {
    checkContainerPath(m.destination, 'mount destination');
    // create.ts stages every subPath; binding the volume root instead would expose all of it.
    if (m.subPath !== undefined) throw invalid(`the subPath of ${m.destination} was not resolved`);
    if (m.kind === 'image') throw invalid(`the image volume at ${m.destination} was not mounted`);
    if (m.kind === 'tmpfs') {
      out.push({
        destination: m.destination,
        type: 'tmpfs',
        source: 'tmpfs',
        options: ['nosuid', 'nodev', 'mode=1777', ...(m.readOnly ? ['ro'] : [])],
      });
    } else {
      out.push({
        destination: m.destination,
        type: 'bind',
        source: m.source,
        options: [
          'rbind',
          m.propagation ?? 'rprivate',
          m.readOnly ? 'ro' : 'rw',
          ...(m.readOnly && wantsRro(m, host) ? ['rro'] : []),
          ...(m.flags ?? []),
        ],
      });
    }
  }
  return out;
}

/**
 * A mount's propagation needs the container's root mount to let it through: runc makes the root
 * rslave by default (host mounts reach in), rshared when a mount is Bidirectional (as CRI runtimes do).
 */
const wantsRro = (m: ContainerMount, host: HostFacts) =>
  m.recursiveReadOnly === 'required' ||
  (m.recursiveReadOnly === 'if-possible' && host.recursiveReadOnly === true);

const sharesMounts = (mounts: ContainerMount[] | undefined) =>
  (mounts ?? []).some((m) => m.propagation === 'rshared');

/** The whole config.json. */
export function buildRuntimeSpec(
  image: ImageConfig,
  settings: ContainerSettings,
  user: ResolvedUser,
  host: HostFacts,
): object {
  const caps = capabilities(settings, host.capBound);
  const workdir = checkWorkingDir(settings.workdir || imageWorkingDir(image));
  const nofile = Math.min(WANTED_NOFILE, host.nofileHard);
  const namespaces: Array<{ type: string; path?: string }> = [
    ...(settings.hostPID ? [] : [host.pidnsPath ? { type: 'pid', path: host.pidnsPath } : { type: 'pid' }]),
    ...(settings.hostIPC ? [] : [{ type: 'ipc' }]),
    { type: 'uts' },
    { type: 'mount' },
    ...(host.cgroupNamespace ? [{ type: 'cgroup' }] : []),
    ...(host.idMap ? [{ type: 'user', ...(host.idMap.path ? { path: host.idMap.path } : {}) }] : []),
  ];
  const idMappings = host.idMap ? [{ containerID: 0, hostID: host.idMap.hostId, size: host.idMap.size }] : [];
  if (settings.network !== 'host') {
    namespaces.push(host.netnsPath ? { type: 'network', path: host.netnsPath } : { type: 'network' });
  }
  const resources = resourcesOf(settings.resources);
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: settings.tty === true,
      user: {
        uid: user.uid,
        gid: user.gid,
        ...(user.additionalGids.length > 0 ? { additionalGids: user.additionalGids } : {}),
      },
      args: processArgs(image, settings.command, settings.entrypoint),
      env: processEnv(image, settings.env ?? [], settings.hostname ?? settings.name, user.home),
      cwd: workdir,
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: nofile, soft: nofile }],
      // The kernel's default, never its creator's: the daemon runs at -999 under systemd (the unit
      // in contrib/) so that the OOM killer takes a container before it, and a container it made
      // would inherit that and be the last one taken.
      oomScoreAdj: 0,
      noNewPrivileges: !settings.privileged && settings.allowPrivilegeEscalation !== true,
      ...(host.apparmorProfile && !settings.privileged ? { apparmorProfile: host.apparmorProfile } : {}),
    },
    root: { path: host.rootPath ?? 'rootfs', readonly: settings.readOnly === true },
    hostname: settings.hostname ?? settings.name,
    mounts: mountsOf(settings, host),
    linux: {
      namespaces,
      ...(sharesMounts(settings.mounts) ? { rootfsPropagation: 'rshared' } : {}),
      ...(host.idMap ? { uidMappings: idMappings, gidMappings: idMappings } : {}),
      cgroupsPath: host.cgroupsPath,
      resources,
      ...(settings.privileged || settings.procUnmasked
        ? {}
        : { maskedPaths: MASKED_PATHS, readonlyPaths: READONLY_PATHS }),
      ...(host.seccomp && !settings.privileged && settings.seccomp !== 'unconfined'
        ? { seccomp: host.seccomp }
        : {}),
      ...(settings.sysctls && Object.keys(settings.sysctls).length > 0 ? { sysctl: settings.sysctls } : {}),
    },
  };
}
