// `GET /metrics` of the daemon: what its passes counted (counters.ts), the pods and containers as
// they are (pods read at scrape, containers as the last pass saw them, their cgroup usage read at
// scrape), the store's bytes and free space (host-metrics.ts), and the event ring's own counts.
import type { DaemonCounters } from '../events/counters.js';
import type { HostMetrics } from '../events/host-metrics.js';
import { family, formatMetrics, type MetricFamily } from '../events/metrics.js';
import type { EventRing } from '../events/ring.js';
import { type ContainerUsage, stateFamilies } from '../events/state-metrics.js';
import type { ObservedContainer } from '../reconcile/plan-types.js';
import type { PodView } from '../reconcile/pod-views.js';

export interface MetricsCollector {
  /** The containers a pass observed. */
  observed(containers: readonly ObservedContainer[]): void;
  render(): Promise<string>;
}

export interface CollectorDeps {
  counters: DaemonCounters;
  host: HostMetrics;
  events?: EventRing;
  pods(): Promise<PodView[]>;
  usage(id: string): ContainerUsage;
  version: string;
}

export function createMetricsCollector(d: CollectorDeps): MetricsCollector {
  let containers: readonly ObservedContainer[] = [];
  return {
    observed(c) {
      containers = c;
    },
    async render() {
      const running = containers.filter((c) => c.state === 'running');
      const usage = new Map(running.map((c) => [c.id, d.usage(c.id)] as const));
      const families: MetricFamily[] = [
        family('berth_build_info', 'gauge', 'berth version.', [{ labels: { version: d.version }, value: 1 }]),
        ...stateFamilies(await d.pods().catch(() => []), containers, usage),
        ...d.counters.families(),
        ...(await d.host.families()),
      ];
      if (d.events) {
        families.push(
          family('berth_events_total', 'counter', 'Events recorded in the ring by this daemon.', [
            { value: d.events.emitted() },
          ]),
          family('berth_events_dropped_total', 'counter', 'Events that could not be recorded.', [
            { value: d.events.dropped() },
          ]),
        );
      }
      return formatMetrics(families);
    },
  };
}
