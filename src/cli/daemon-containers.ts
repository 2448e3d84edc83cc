// The CLI's side of the daemon's container routes (container-routes.ts): a running daemon that
// serves this very --root, --state and --config creates and starts the container, warm, and the
// command does the rest (output, stop, removal) as it does without one. Any other daemon (another
// root or config, or one too old to say which it serves) is left alone and the command works on
// the store itself, as with no daemon at all.
import { callDaemon, daemonGone, socketPath } from '../api/client.js';
import { DEFAULT_API_LIMITS } from '../api/limits.js';
import { DEFAULT_CONFIG_PATH } from '../config/paths.js';
import { canonicalPath } from '../lib/canonical-path.js';
import type { ContainerStatus } from '../runtime/containers.js';
import type { ContainerRecord } from '../runtime/record.js';
import type { GlobalFlags } from './args.js';
import type { CreateRequest } from './container-routes.js';

/** What a daemon reports it serves in `GET /v1/status`; the CLI delegates only on an exact match. */
export function servedBy(flags: GlobalFlags): { root: string; config: string } {
  return { root: flags.root, config: canonicalPath(flags.config ?? DEFAULT_CONFIG_PATH) };
}

export interface DaemonContainers {
  pid: number;
  /** The request given to daemonContainers. */
  create(): Promise<ContainerRecord>;
  start(name: string): Promise<ContainerStatus>;
}

/** A create waits for conmon and `runc create` (the host config's createTimeout, 60 s by default). */
const CREATE_TIMEOUT_MS = 10 * 60_000;
/** A daemon slower than this to say what it serves (or to begin a thin run's answer) is not waited for. */
export const STATUS_TIMEOUT_MS = 2_000;

/** The socket and status of the daemon serving these flags' root and config, or undefined (none, another's, or slow to say). */
async function daemonStatus(flags: GlobalFlags) {
  const socket = socketPath(flags.state);
  const status = await callDaemon<{ pid: number; root?: string; config?: string }>(
    socket,
    'GET',
    '/v1/status',
    STATUS_TIMEOUT_MS,
  ).catch(() => undefined);
  const ours = servedBy(flags);
  if (!status || status.root !== ours.root || status.config !== ours.config) return undefined;
  return { socket, status };
}

/** The socket of the daemon serving these flags' root and config, or undefined: work on the store here. */
export async function daemonServing(flags: GlobalFlags): Promise<string | undefined> {
  return (await daemonStatus(flags))?.socket;
}

/**
 * The daemon serving these flags' root, state and config, or undefined: work on the store here.
 * Also undefined when the daemon cannot be asked (busy past the status timeout, at its connection
 * limit) or `request` is larger than it reads: a daemon is a shortcut, never a new way to fail.
 */
export async function daemonContainers(
  flags: GlobalFlags,
  request: CreateRequest,
): Promise<DaemonContainers | undefined> {
  if (Buffer.byteLength(JSON.stringify(request)) > DEFAULT_API_LIMITS.maxBodyBytes) return undefined;
  const served = await daemonStatus(flags);
  if (!served) return undefined;
  const { socket, status } = served;
  const post = async <T>(path: string, body: unknown): Promise<T> => {
    const answer = await callDaemon<T>(socket, 'POST', path, CREATE_TIMEOUT_MS, body);
    if (answer !== undefined) return answer;
    // It answered the status a moment ago: it stopped since, its socket gone.
    throw daemonGone(socket, path);
  };
  return {
    pid: status.pid,
    create: () => post<ContainerRecord>('/v1/containers', request),
    start: (name) => post<ContainerStatus>('/v1/containers/start', { name }),
  };
}
