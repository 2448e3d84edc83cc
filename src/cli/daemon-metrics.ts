// The daemon's metrics as the CLI wires them: counters its passes and pulls feed, the collector
// `GET /metrics` renders (on the API socket, and on `metrics.listen` when the host config asks).
import { serveMetrics } from '../api/metrics-listener.js';
import { TextResponse } from '../api/responses.js';
import type { Routes } from '../api/server.js';
import { createMetricsCollector, type MetricsCollector } from '../daemon/metrics-collector.js';
import { createDaemonCounters, type DaemonCounters } from '../events/counters.js';
import { createHostMetrics, readContainerUsage } from '../events/host-metrics.js';
import { METRICS_CONTENT_TYPE } from '../events/metrics.js';
import type { EventRing } from '../events/ring.js';
import type { Reconciler } from '../reconcile/loop.js';
import { observePods } from '../reconcile/observe.js';
import type { CommandContext } from './command.js';
import { VERSION } from './version.js';

export interface DaemonMetrics {
  counters: DaemonCounters;
  collector: MetricsCollector;
  routes: Routes;
  /** Serve `metrics.listen` if set; returns its close. */
  listen(): Promise<() => Promise<void>>;
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
    async listen() {
      const { listen } = (await ctx.hostConfig()).metrics;
      if (!listen) return async () => {};
      const l = await serveMetrics(listen, () => collector.render());
      return l.close;
    },
  };
}
