// `container create`'s flags (shared by `container run` and the daemon's create route): what they
// are, their help lines, and how their parsed values become ContainerSettings. Pure apart from the
// volumes directory; no runtime code is loaded with it.
import { parsePublish } from '../network/ports.js';
import { parseTmpfs, parseVolume } from '../runtime/mounts.js';
import { parseBytes, parseCount, parseMilliCpus } from '../runtime/quantity.js';
import type { ContainerSettings } from '../runtime/spec.js';
import { invalid } from '../runtime/spec.js';

export { CREATE_OPTIONS } from './create-options.js';

/** Their help lines: [flag, description]. */
export const CREATE_FLAGS: Array<[string, string]> = [
  ['-e, --env K=V', 'set an environment variable (repeatable)'],
  ['-v, --volume SRC:DST[:ro]', 'bind a host path, or mount a named volume kept under <root>/volumes'],
  ['--tmpfs DST', 'mount a tmpfs'],
  ['--memory 64Mi', 'memory limit'],
  ['--cpus 0.5', 'CPU limit in cores (or 500m)'],
  ['--pids N', 'most processes at once'],
  ['-u, --user USER[:GROUP]', "run as this user (a name from the image's /etc/passwd, or a uid)"],
  ['-w, --workdir DIR', 'working directory'],
  ['--read-only', 'mount the root filesystem read-only'],
  [
    '--network bridge|none|host|container:NAME',
    "bridge: on the host's bridge network with an address, found by its name; none: a network namespace of its own with loopback up (default); host: the host's; container:NAME: that container's",
  ],
  [
    '-p, --publish [IP:]HOST:CTR[/udp|sctp]',
    'publish a port of a --network bridge container on the host (repeatable)',
  ],
  ['--cap-add CAP, --cap-drop CAP', 'change the default capabilities'],
  ['--privileged', 'every capability, no seccomp, no masked paths (opt-in)'],
];

const list = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]) : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Container settings from create's flags (pure apart from the volumes directory). */
export function settingsFromFlags(
  name: string,
  values: Record<string, unknown>,
  command: string[],
  volumesDir: string,
): ContainerSettings {
  const network = str(values.network) ?? 'none';
  if (network !== 'none' && network !== 'bridge' && network !== 'host' && !/^container:.+/.test(network)) {
    throw invalid(`--network must be bridge, none, host or container:NAME, not "${network}"`);
  }
  const ports = list(values.publish).map((p) => {
    const parsed = parsePublish(p);
    if (!parsed)
      throw invalid(`--publish must be [HOSTIP:]HOSTPORT:CONTAINERPORT[/tcp|udp|sctp], not "${p}"`);
    return parsed;
  });
  if (ports.length > 0 && network !== 'bridge') throw invalid('--publish needs --network bridge');
  const memory = str(values.memory);
  const cpus = str(values.cpus);
  const pids = str(values.pids);
  const resources = {
    ...(memory ? { memoryBytes: parseBytes(memory) } : {}),
    ...(cpus ? { milliCpus: parseMilliCpus(cpus) } : {}),
    ...(pids ? { pids: parseCount(pids, 'pids') } : {}),
  };
  const mounts = [
    ...list(values.volume).map((v) => parseVolume(v, volumesDir)),
    ...list(values.tmpfs).map(parseTmpfs),
  ];
  const user = str(values.user);
  const workdir = str(values.workdir);
  return {
    name,
    ...(command.length > 0 ? { command } : {}),
    env: list(values.env),
    ...(user ? { user } : {}),
    ...(workdir ? { workdir } : {}),
    readOnly: values['read-only'] === true,
    privileged: values.privileged === true,
    capAdd: list(values['cap-add']),
    capDrop: list(values['cap-drop']),
    network: network as ContainerSettings['network'] & string,
    ...(ports.length > 0 ? { ports } : {}),
    mounts,
    ...(Object.keys(resources).length > 0 ? { resources } : {}),
  };
}
