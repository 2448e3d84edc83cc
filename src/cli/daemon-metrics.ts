// The daemon's metrics as the CLI wires them: counters its passes and pulls feed, the collector
// `GET /metrics` renders (on the API socket, and on `metrics.listen` when the host config asks, bound
// again at each retry while another process holds its address).
import { type MetricsListener, parseListenAddress, serveMetrics } from '../api/metrics-listener.js';
import { TextResponse } from '../api/responses.js';
import type { Routes } from '../api/server.js';
import { createMetricsCollector, type MetricsCollector } from '../daemon/metrics-collector.js';
import { createDaemonCounters, type DaemonCounters } from '../events/counters.js';
import { createHostMetrics, readContainerUsage } from '../events/host-metrics.js';
import { METRICS_CONTENT_TYPE } from '../events/metrics.js';
import type { EventRing } from '../events/ring.js';
import { errnoCode } from '../lib/errors.js';
import type { Reconciler } from '../reconcile/loop.js';
import { observePods } from '../reconcile/observe.js';
import type { CommandContext } from './command.js';
import { VERSION } from './version.js';

export interface DaemonMetrics {
  counters: DaemonCounters;
  collector: MetricsCollector;
  routes: Routes;
  /**
   * Serve `metrics.listen` if set; returns its close. An address that cannot be bound (a port any
   * local user can take first) is `onError`'s and tried again every `retryMs`: the daemon, the
   * host's controller, never waits on or stops for its metrics.
   */
  listen(retryMs: number, onError: (err: unknown) => void): Promise<() => Promise<void>>;
}

export function openDaemonMetrics(ctx: CommandContext, r: Reconciler, events: EventRing): DaemonMetrics {
  const counters = createDaemonCounters();
  const collector = createMetricsCollector({
    counters,
    host: createHostMetrics({ root: ctx.flags.root, now: () => ctx.now().getTime() }),
    events,
    pods: () => observePods(r.rt, r.status),
    usage: (id) => readContainerUsage('/sys/fs/cgroup', id),
    version: VERSION,
  });
  return {
    counters,
    collector,
    routes: { 'GET /metrics': async () => new TextResponse(METRICS_CONTENT_TYPE, await collector.render()) },
    async listen(retryMs, onError) {
      const { listen } = (await ctx.hostConfig()).metrics;
      if (!listen) return async () => {};
      parseListenAddress(listen); // a host config that names no address fails the start, as ever
      let served: MetricsListener | undefined;
      let retry: NodeJS.Timeout | undefined;
      let closed = false;
      const attempt = async (first: boolean) => {
        try {
          served = await serveMetrics(listen, () => collector.render());
          if (closed) await served.close(); // closed while it was being bound
        } catch (err) {
          // Only a port another process holds is waited out: an address the host lacks, or one
          // berth may not bind, fails the start, as a config that names none does.
          if (first && errnoCode((err as Error).cause) !== 'EADDRINUSE') throw err;
          onError(err);
          if (!closed) retry = setTimeout(() => attempt(false), retryMs);
        }
      };
      await attempt(true);
      return async () => {
        closed = true;
        clearTimeout(retry);
        await served?.close();
      };
    },
  };
}
