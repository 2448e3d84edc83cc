// Events, status lines and metrics text, pure: time and filter parsing, which events a pass
// produces, systemd's STATUS line and watchdog interval, Prometheus escaping.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseHostConfig } from '../../src/config/host-config.js';
import { isNotifySocket, watchdogInterval } from '../../src/daemon/sd-notify.js';
import { statusLine } from '../../src/daemon/status-line.js';
import { daemonStopTimeoutMs } from '../../src/daemon/stop-timeout.js';
import type { BerthEvent } from '../../src/events/event.js';
import {
  eventQueryOf,
  eventQueryParams,
  matchesEvent,
  parseEventFilters,
  parseEventTime,
} from '../../src/events/filter.js';
import { eventOfAction, eventsOfDiagnostics, eventsOfExits } from '../../src/events/from-reconcile.js';
import { formatMetrics } from '../../src/events/metrics.js';
import { stateFamilies } from '../../src/events/state-metrics.js';
import type { Action, ObservedContainer } from '../../src/reconcile/plan-types.js';
import type { PodView } from '../../src/reconcile/pod-views.js';

const NOW = Date.parse('2026-11-30T12:00:00Z');
const ev = (o: Partial<BerthEvent>): BerthEvent => ({
  time: '2026-11-30T11:55:00.000Z',
  type: 'container',
  object: 'web/main',
  reason: 'Died',
  attributes: { pod: 'web' },
  ...o,
});
const container = (o: Partial<ObservedContainer> & { pod?: string }): ObservedContainer => ({
  id: 'a'.repeat(32),
  name: `${o.pod ?? 'web'}_main`,
  state: 'running',
  exitCode: null,
  startedAt: null,
  finishedAt: null,
  annotations: {
    'berth.dev/owner': 'manifests',
    'berth.dev/pod': o.pod ?? 'web',
    'berth.dev/container': 'main',
    'berth.dev/restarts': '2',
  },
  ...o,
});

describe('event times and filters', () => {
  it('reads durations back from now and RFC 3339 times', () => {
    expect(parseEventTime('10m', NOW)).toBe(NOW - 600_000);
    expect(parseEventTime('1h30m', NOW)).toBe(NOW - 5_400_000);
    expect(parseEventTime('250ms', NOW)).toBe(NOW - 250);
    expect(parseEventTime('2026-11-30T11:00:00Z', NOW)).toBe(Date.parse('2026-11-30T11:00:00Z'));
    expect(parseEventTime('2026-11-30T13:00:00+02:00', NOW)).toBe(Date.parse('2026-11-30T11:00:00Z'));
  });
  it('refuses what is neither, with the flag named', () => {
    for (const bad of ['', '10', 'm', '-5m', 'yesterday', '2026-11-30', '2026-13-45T99:99:99Z']) {
      expect(() => parseEventTime(bad, NOW, '--until')).toThrow(/^--until /);
      try {
        parseEventTime(bad, NOW);
      } catch (err) {
        expect((err as { code: string }).code).toBe('ERR_USAGE');
      }
    }
  });
  it('filters: keys must all match, one key given twice matches either value', () => {
    const q = { filters: parseEventFilters(['pod=web', 'pod=db', 'reason=Died']) };
    expect(matchesEvent(ev({}), q)).toBe(true);
    expect(matchesEvent(ev({ attributes: { pod: 'db' } }), q)).toBe(true);
    expect(matchesEvent(ev({ attributes: { pod: 'api' } }), q)).toBe(false);
    expect(matchesEvent(ev({ reason: 'Started' }), q)).toBe(false);
    // A pod event is its own pod; an image event has none.
    expect(matchesEvent(ev({ type: 'pod', object: 'web', attributes: undefined }), q)).toBe(true);
    expect(matchesEvent(ev({ type: 'image', object: 'busybox', attributes: undefined }), q)).toBe(false);
  });
  it('refuses unknown keys and empty values', () => {
    for (const bad of ['pod', 'pod=', '=web', 'name=web', '__proto__=x'])
      expect(() => parseEventFilters([bad])).toThrow(/expected KEY=VALUE/);
  });
  it('since and until are inclusive; an unparsable event time matches no bound', () => {
    const at = Date.parse('2026-11-30T11:55:00Z');
    expect(matchesEvent(ev({}), { since: at, until: at })).toBe(true);
    expect(matchesEvent(ev({}), { since: at + 1 })).toBe(false);
    expect(matchesEvent(ev({}), { until: at - 1 })).toBe(false);
    expect(matchesEvent(ev({ time: 'garbage' }), { since: 0 })).toBe(false);
  });
  it('a query survives the trip through URL parameters', () => {
    const q = { since: 1000, until: 2000, filters: parseEventFilters(['pod=web', 'type=container']) };
    expect(eventQueryOf(new URLSearchParams(eventQueryParams(q).toString()), NOW)).toEqual(q);
    expect(eventQueryOf(new URLSearchParams('since=10m'), NOW).since).toBe(NOW - 600_000);
  });
  it("a bad query from the API names its query parameter, not the CLI's flag", () => {
    expect(() => eventQueryOf(new URLSearchParams('since=yesterday'), NOW)).toThrow(
      expect.objectContaining({
        code: 'ERR_API_BAD_QUERY',
        kind: 'invalid',
        message:
          'query parameter since "yesterday": not ms since the epoch, a duration (10m) or an RFC 3339 time',
      }),
    );
    expect(() => eventQueryOf(new URLSearchParams('until=soon'), NOW)).toThrow(
      /^query parameter until "soon"/,
    );
    expect(() => eventQueryOf(new URLSearchParams('filter=constructor%3Dx'), NOW)).toThrow(
      expect.objectContaining({
        code: 'ERR_API_BAD_QUERY',
        message: 'query parameter filter "constructor=x": expected KEY=VALUE',
        hint: 'keys: pod, type, reason, object',
      }),
    );
  });
});

describe('events of a pass', () => {
  it('names each finished action, failed or not; a wait is none', () => {
    const run = {
      kind: 'run',
      pod: 'web',
      container: 'main',
      restarts: 0,
      backoffMs: 0,
      waitForExit: false,
      reason: 'new container',
    } as const;
    expect(eventOfAction(run)).toEqual({
      type: 'container',
      object: 'web/main',
      reason: 'Started',
      message: 'new container',
      attributes: { pod: 'web', container: 'main', restarts: 0 },
    });
    expect(eventOfAction({ ...run, replace: 'b'.repeat(32), restarts: 3, reason: 'exited 1' })?.reason).toBe(
      'Restarted',
    );
    const pull: Action = {
      kind: 'pull',
      image: 'r/busybox:1',
      for: ['web/main'],
      reason: 'not in the store',
    };
    expect(eventOfAction(pull, new Error('boom'))).toEqual({
      type: 'image',
      object: 'r/busybox:1',
      reason: 'PullFailed',
      message: 'not in the store: ERR_INTERNAL: boom',
      attributes: { for: 'web/main' },
    });
    expect(eventOfAction({ kind: 'wait', pod: 'web', reason: 'back-off' })).toBeUndefined();
  });
  it('a container that was running and exited died, with its exit code or the OOM killer', () => {
    const before = [container({}), container({ id: 'c'.repeat(32), pod: 'db' })];
    const after = [
      container({ state: 'exited', exitCode: 3 }),
      container({ id: 'c'.repeat(32), pod: 'db', state: 'exited', exitCode: 137, oomKilled: true }),
    ];
    expect(eventsOfExits(before, after)).toEqual([
      {
        type: 'container',
        object: 'web/main',
        reason: 'Died',
        message: 'exited with code 3',
        attributes: { pod: 'web', container: 'main', id: 'a'.repeat(32), exitCode: 3 },
      },
      {
        type: 'container',
        object: 'db/main',
        reason: 'OOMKilled',
        message: 'exited with code 137',
        attributes: { pod: 'db', container: 'main', id: 'c'.repeat(32), exitCode: 137, oomKilled: true },
      },
    ]);
    // Seen exited twice, or never seen running: nothing new.
    expect(eventsOfExits(after, after)).toEqual([]);
    expect(eventsOfExits([], after)).toEqual([]);
  });
  it('a manifest problem is reported once, when it appears', () => {
    const d = { file: '/m/a.yaml', line: 3, col: 5, code: 'ERR_MANIFEST_SCHEMA', message: 'bad' };
    expect(eventsOfDiagnostics(new Set(), [d])).toEqual([
      {
        type: 'manifest',
        object: '/m/a.yaml',
        reason: 'Rejected',
        message: '/m/a.yaml:3:5: ERR_MANIFEST_SCHEMA: bad',
        attributes: { code: 'ERR_MANIFEST_SCHEMA' },
      },
    ]);
    expect(eventsOfDiagnostics(new Set(['/m/a.yaml:3:5: ERR_MANIFEST_SCHEMA: bad']), [d])).toEqual([]);
  });
});

describe('systemd', () => {
  it('STATUS: pods running, and the first waiting ones with why', () => {
    const containers = [
      container({}),
      container({ id: 'd'.repeat(32), pod: 'db' }),
      container({ id: 'e'.repeat(32), pod: 'api' }),
    ];
    expect(statusLine(containers, [])).toBe('3 pods running');
    expect(statusLine([container({})], [])).toBe('1 pod running');
    expect(
      statusLine(containers, [
        { kind: 'wait', pod: 'api', reason: 'image pull back-off' },
        { kind: 'wait', pod: 'api', reason: 'second reason, not shown' },
      ]),
    ).toBe('2 pods running, 1 waiting: api (image pull back-off)');
    // A plan's wait names its pod first (`web: waiting for …`): the line names it once.
    expect(
      statusLine([], [{ kind: 'wait', pod: 'web', reason: 'web: waiting for image 127.0.0.1:5000/app:1' }]),
    ).toBe('0 pods running, 1 waiting: web (waiting for image 127.0.0.1:5000/app:1)');
    const many = ['a', 'b', 'c', 'd'].map((pod) => ({ kind: 'wait' as const, pod, reason: 'x'.repeat(80) }));
    expect(statusLine([], many)).toBe(
      `0 pods running, 4 waiting: a (${'x'.repeat(59)}…), b (${'x'.repeat(59)}…), c (${'x'.repeat(59)}…), …`,
    );
  });
  it('the watchdog interval is half of WatchdogSec, and only for the PID it names', () => {
    expect(watchdogInterval({ WATCHDOG_USEC: '30000000' }, 42)).toBe(15_000);
    expect(watchdogInterval({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '42' }, 42)).toBe(15_000);
    expect(watchdogInterval({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '41' }, 42)).toBeUndefined();
    for (const bad of [undefined, '', '0', '-5', '1e400', 'x'])
      expect(watchdogInterval({ WATCHDOG_USEC: bad }, 42)).toBeUndefined();
  });
  it('NOTIFY_SOCKET: an absolute path or an abstract name, nothing else', () => {
    expect(isNotifySocket('/run/systemd/notify')).toBe(true);
    expect(isNotifySocket('@/org/freedesktop/systemd1/notify/123')).toBe(true);
    for (const bad of [undefined, '', 'relative.sock', '/', `/${'x'.repeat(200)}`, '/a\0b', 'vsock:2:1234'])
      expect(isNotifySocket(bad)).toBe(false);
  });
  it("the unit's TimeoutStopSec is the daemon's own stop bound for the default config", () => {
    const unit = readFileSync(new URL('../../contrib/systemd/berth.service', import.meta.url), 'utf8');
    const stopSec = Number(/^TimeoutStopSec=(\d+)s$/m.exec(unit)?.[1]);
    expect(stopSec * 1000).toBe(daemonStopTimeoutMs(parseHostConfig('', 'c.yaml').createTimeoutMs));
    expect(unit).toMatch(/^KillMode=process$/m);
    expect(unit).toMatch(/^Type=notify$/m);
    expect(unit).toMatch(/^RuntimeDirectoryPreserve=yes$/m);
  });
});

describe('metrics text', () => {
  it('escapes label values: a name cannot forge a sample or break a line', () => {
    const text = formatMetrics([
      {
        name: 'berth_x',
        type: 'gauge',
        help: 'a\nb \\ c',
        samples: [{ labels: { pod: 'a"} 1\nberth_y 2\\' }, value: 5 }],
      },
    ]);
    expect(text).toBe(
      '# HELP berth_x a\\nb \\\\ c\n# TYPE berth_x gauge\nberth_x{pod="a\\"} 1\\nberth_y 2\\\\"} 5\n',
    );
  });
  it('pods and containers by state, restarts, usage', () => {
    const pods: PodView[] = [
      {
        name: 'web',
        namespace: 'default',
        ip: null,
        ips: [],
        ports: [],
        phase: 'Running',
        ready: '1/1',
        sourceFile: '',
        waiting: null,
        lastError: null,
        containers: [],
      },
    ];
    const fams = stateFamilies(
      pods,
      [container({})],
      new Map([['a'.repeat(32), { cpuSeconds: 1.5, memoryBytes: 4096 }]]),
    );
    expect(formatMetrics(fams)).toBe(
      [
        '# HELP berth_pods Pods by phase, as berth ps shows them.',
        '# TYPE berth_pods gauge',
        'berth_pods{phase="Pending"} 0',
        'berth_pods{phase="Running"} 1',
        'berth_pods{phase="Succeeded"} 0',
        'berth_pods{phase="Failed"} 0',
        '# HELP berth_containers Containers by state.',
        '# TYPE berth_containers gauge',
        'berth_containers{state="created"} 0',
        'berth_containers{state="running"} 1',
        'berth_containers{state="stopped"} 0',
        'berth_containers{state="exited"} 0',
        'berth_containers{state="unknown"} 0',
        '# HELP berth_container_restarts_total Restarts of each container of a pod.',
        '# TYPE berth_container_restarts_total counter',
        'berth_container_restarts_total{pod="web",container="main"} 2',
        '# HELP berth_container_cpu_seconds_total CPU time used by each running container (its cgroup).',
        '# TYPE berth_container_cpu_seconds_total counter',
        'berth_container_cpu_seconds_total{pod="web",container="main"} 1.5',
        '# HELP berth_container_memory_bytes Memory used by each running container (its cgroup).',
        '# TYPE berth_container_memory_bytes gauge',
        'berth_container_memory_bytes{pod="web",container="main"} 4096',
        '',
      ].join('\n'),
    );
  });
});
