// What the daemon counts as it runs, for `GET /metrics`: reconcile passes (wall time, CPU,
// failed actions, passes that failed as a whole) and pulls (bytes fetched, time, failures).
// Plain numbers in memory: they restart at zero with the daemon, as Prometheus counters may.
import { family, type MetricFamily } from './metrics.js';

export interface DaemonCounters {
  recordPass(o: { wallMs: number; cpuMs: number; failedActions: number }): void;
  recordPassError(): void;
  recordPull(o: { bytes: number; ms: number; ok: boolean }): void;
  families(): MetricFamily[];
}

export function createDaemonCounters(): DaemonCounters {
  const pass = { count: 0, wallMs: 0, cpuMs: 0, failedActions: 0, errors: 0 };
  const pull = { ok: 0, failed: 0, bytes: 0, ms: 0 };
  return {
    recordPass(o) {
      pass.count++;
      pass.wallMs += o.wallMs;
      pass.cpuMs += o.cpuMs;
      pass.failedActions += o.failedActions;
    },
    recordPassError() {
      pass.errors++;
    },
    recordPull(o) {
      if (o.ok) pull.ok++;
      else pull.failed++;
      pull.bytes += o.bytes;
      pull.ms += o.ms;
    },
    families: () => [
      family('berth_reconcile_pass_duration_seconds', 'summary', 'Wall time of reconcile passes.', [
        { suffix: '_sum', value: pass.wallMs / 1000 },
        { suffix: '_count', value: pass.count },
      ]),
      family(
        'berth_reconcile_pass_cpu_seconds_total',
        'counter',
        'CPU time berth spent in reconcile passes.',
        [{ value: pass.cpuMs / 1000 }],
      ),
      family(
        'berth_reconcile_errors_total',
        'counter',
        'Reconcile failures: failed actions, and passes that failed as a whole.',
        [
          { labels: { scope: 'action' }, value: pass.failedActions },
          { labels: { scope: 'pass' }, value: pass.errors },
        ],
      ),
      family('berth_image_pulls_total', 'counter', 'Image pulls by outcome.', [
        { labels: { result: 'success' }, value: pull.ok },
        { labels: { result: 'failure' }, value: pull.failed },
      ]),
      family(
        'berth_image_pull_bytes_total',
        'counter',
        'Compressed bytes downloaded by pulls (layers already held are not counted).',
        [{ value: pull.bytes }],
      ),
      family('berth_image_pull_duration_seconds', 'summary', 'Wall time of image pulls, successful or not.', [
        { suffix: '_sum', value: pull.ms / 1000 },
        { suffix: '_count', value: pull.ok + pull.failed },
      ]),
    ],
  };
}
