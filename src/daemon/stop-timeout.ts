// How long the daemon may take to stop after SIGTERM. A stop starts no new step and cuts every
// wait (a grace period, an init container, a pull: its bytes are parked), but a step under way
// that cannot be cut is finished: the longest is a container's create, bounded by the host
// config's createTimeoutSeconds (60 s by default). The process leaves by itself only after that
// and a margin, and contrib/systemd/berth.service's TimeoutStopSec= is this value for the default
// config (a test checks it), so neither systemd nor berth's own timer cuts a step short.

/** Beyond the longest step: the record written, the API closed, the lock released. */
export const STOP_MARGIN_MS = 30_000;

export function daemonStopTimeoutMs(createTimeoutMs: number): number {
  return createTimeoutMs + STOP_MARGIN_MS;
}
