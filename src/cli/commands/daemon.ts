import { callDaemon, daemonRunning, socketPath } from '../../api/client.js';
import { acquireLock } from '../../content/lock.js';
import { runDaemon } from '../../daemon/daemon.js';
import { watchContainerLogs } from '../../daemon/log-watch.js';
import { openProbing } from '../../daemon/probing.js';
import { watchNetworkRules } from '../../daemon/rules-watch.js';
import { createNotifier } from '../../daemon/sd-notify.js';
import { statusLine } from '../../daemon/status-line.js';
import { daemonStopTimeoutMs } from '../../daemon/stop-timeout.js';
import { BerthError, formatErrorLine } from '../../lib/errors.js';
import { createLogLines, isJournalStream } from '../../lib/log-lines.js';
import { createRepeatLimiter } from '../../lib/repeat-limiter.js';
import { formatDiagnostic } from '../../lib/yaml-validate.js';
import { sparePoolOf } from '../../network/spare-pool.js';
import type { PullEvent } from '../../pull/index.js';
import { failureKey } from '../../reconcile/failures.js';
import { holdContainerLog, lookAtContainerLogs } from '../../runtime/log-look.js';
import { LOG_FILE_NAME } from '../../runtime/paths.js';
import { parseCount } from '../../runtime/quantity.js';
import { SpawnHelper } from '../../runtime/spawn-helper.js';
import { helperPython } from '../../runtime/spawn-helper-use.js';
import { useSpawnHelper } from '../../runtime/tool.js';
import type { Command } from '../command.js';
import { containerRoutes } from '../container-routes.js';
import { containerRunRoutes } from '../container-run-route.js';
import { servedBy } from '../daemon-containers.js';
import { openDaemonMetrics } from '../daemon-metrics.js';
import { emitImageGcEvents, formatImageGc, runImageGc } from '../image-gc.js';
import { watchImportDir } from '../import-dir.js';
import { createReconcilePull } from '../reconcile-pull.js';
import { formatAction, openReconciler } from '../reconciler.js';
import { claimRoot } from '../root-daemon.js';
import { VERSION } from '../version.js';

/** While converging: the start timeout is extended this much by each ping (the unit's TimeoutStartSec). */
const START_EXTEND_USEC = 90_000_000;

/** `3/300 pod(s) observed, `: how much of the host a pass read again (every pod on a full pass). */
const observedText = (o: { pods: number; of: number } | undefined) =>
  o ? `${o.pods}/${o.of} pod(s) observed, ` : '';

export const daemonCommand: Command = {
  path: ['daemon'],
  summary:
    'Watch a folder of manifests and keep the host matching it; serve the API on <state>/berth.sock (containers keep running when it stops)',
  usage: 'daemon --manifests DIR [--resync S]',
  options: { manifests: { type: 'string' }, resync: { type: 'string' }, stats: { type: 'boolean' } },
  flags: [
    ['--manifests DIR', 'the folder to watch (default /etc/berth/manifests)'],
    ['--resync S', 'seconds between passes when nothing happens (default 30)'],
    ['--stats', 'one line per pass: actions taken, containers seen, pods read again, CPU used'],
  ],
  args: [0, 0],
  async run(ctx, { values }) {
    const dir = typeof values.manifests === 'string' ? values.manifests : '/etc/berth/manifests';
    const resyncMs = (typeof values.resync === 'string' ? parseCount(values.resync, '--resync') : 30) * 1000;
    const stamp = () => ctx.now().toISOString();
    const log = createLogLines(ctx.stdout, ctx.stderr, isJournalStream(ctx.env.JOURNAL_STREAM, 2));
    const info = (line: string) => log.write('info', `${stamp()} ${line}`);
    const fail = (line: string) => log.write('error', `${stamp()} ${line}`);
    const pull = createReconcilePull(ctx, info);
    // Read (and removed from the environment) before anything is started: conmon must not inherit it.
    const notifier = createNotifier({
      env: ctx.env,
      pid: process.pid,
      onError: (m) => log.write('warning', `${stamp()} ${m}`),
    });
    // systemd shows "deactivating" from the signal on, while the step under way finishes.
    ctx.signal.addEventListener(
      'abort',
      () => notifier?.notify({ STOPPING: '1', STATUS: 'stopping: finishing the steps under way' }),
      { once: true },
    );
    let ready = false;
    let lastStatus = '';
    let lastDiagnostics = '';
    // One daemon per --state, even when two start together: a lock that dies with its holder.
    const socket = socketPath(ctx.flags.state);
    const claim = await acquireLock(ctx.flags.state, 'daemon', { timeoutMs: 0 }).catch(async (err) => {
      // Only a lock held says a daemon runs; one that cannot be taken (a read-only or unwritable
      // --state, a file in its place) says why.
      if (!(err instanceof BerthError) || err.code !== 'ERR_DAEMON_LOCKED') throw err;
      const other = await callDaemon<{ pid: number }>(socket, 'GET', '/v1/status').catch(() => undefined);
      throw daemonRunning(socket, other?.pid);
    });
    const rootClaim = await claimRoot(ctx.flags.root).catch(async (err) => {
      await claim.release();
      throw err;
    });
    ctx.setStopTimeout?.(daemonStopTimeoutMs((await ctx.hostConfig()).createTimeoutMs));
    ctx.whenHangup?.(() =>
      info(
        `SIGHUP ignored: the daemon watches its folder and config changes need a restart; SIGTERM stops it`,
      ),
    );
    const events = await ctx.events();
    const r = await openReconciler(ctx);
    const metrics = openDaemonMetrics(ctx, r, events);
    // A local user who took the port first keeps the metrics off, never the controller: said once a
    // minute, bound once the port is free.
    const metricsErrors = createRepeatLimiter(60_000);
    const closeMetrics = await metrics.listen(resyncMs, (err) => {
      const line = metricsErrors.admit(`${formatErrorLine(err)} (tried again every ${resyncMs / 1000} s)`);
      if (line) fail(line);
    });
    // Image GC after a pass, one at a time, beside the loop (it waits for pulls under way).
    let gcRunning = false;
    let trimDue = true; // at start, and after each pass that pulled
    const collect = (pulled: boolean) => {
      trimDue ||= pulled;
      if (gcRunning) return;
      gcRunning = true;
      const trim = trimDue;
      trimDue = false;
      runImageGc(ctx, dir, { trim, reconciler: r, watching: true })
        .then((gc) => {
          const line = gc && formatImageGc(gc);
          if (!gc || !line) return;
          info(line);
          emitImageGcEvents(events, gc);
        })
        .catch((err) => fail(`image gc failed: ${formatErrorLine(err)}`))
        .finally(() => {
          gcRunning = false;
        });
    };
    const { importDir } = (await ctx.hostConfig()).images;
    let askForPass: (() => void) | undefined;
    const imports = importDir
      ? watchImportDir(ctx, importDir, {
          onImported: (file, imported) => {
            for (const i of imported.images) {
              info(`imported ${i.reference} from ${file}`);
              events.emit({
                type: 'image',
                object: i.reference,
                reason: 'Imported',
                message: `from ${file}`,
              });
            }
            askForPass?.();
          },
          onError: (file, err) => fail(`import of ${file} failed: ${formatErrorLine(err)}`),
          onWarning: (line) => log.write('warning', `${stamp()} ${line}`),
        })
      : undefined;
    // conmon's log rotations, kept as they happen (log-watch.ts).
    const logErrors = createRepeatLimiter(60_000);
    const logWatch = await watchContainerLogs({
      containersDir: r.rt.paths.containers,
      logName: LOG_FILE_NAME,
      hold: (id) => holdContainerLog(r.rt, id),
      look: (id) => lookAtContainerLogs(r.rt, [id]),
      onError: (err) => {
        // At every rotation of a container writing fast: said once a minute, not hundreds of times.
        const line = logErrors.admit(`keeping rotated logs: ${formatErrorLine(err)}`);
        if (line) fail(line);
      },
    });
    const probing = await openProbing({
      rt: r.rt,
      state: ctx.flags.state,
      events,
      userAgent: `berth-probe/${VERSION}`,
      ...(r.host.attachments ? { attachments: r.host.attachments } : {}),
      onError: (err) => fail(`probing: ${formatErrorLine(err)}`),
    });
    // What a firewall reload takes from the network is made again at each resync (rules-watch.ts).
    const network = r.rt.network?.bind(r.rt);
    const rulesWatch = network && watchNetworkRules({ everyMs: resyncMs, network, events, info, fail });
    // runc, conmon, mount, iptables… run through a small helper started now, while the daemon is
    // small (runtime/spawn-helper.ts: a fork from the daemon costs more as its pods add up). Without
    // python3 (which unpacking needs anyway), the daemon forks them itself as before.
    const python = helperPython();
    const spawnHelper = python ? new SpawnHelper(python) : undefined;
    spawnHelper?.pid();
    useSpawnHelper(spawnHelper);
    // `--network bridge` containers it creates take a spare place on the network (spare-pool.ts).
    const spareCount = (await ctx.hostConfig()).networkSpares;
    if (network && spareCount > 0)
      r.rt.spares = sparePoolOf({
        network,
        size: spareCount,
        onError: (err) => fail(`a spare place on the network: ${formatErrorLine(err)}`),
      });
    const containers = containerRoutes(r.rt, events, ctx.signal);
    const serves = servedBy(ctx.flags);
    const running = runDaemon(r, {
      onTrigger: (trigger) => {
        askForPass = trigger;
      },
      dir,
      events,
      routes: {
        ...metrics.routes,
        ...containers.routes,
        ...containerRunRoutes({ rt: r.rt, events, serves, tracked: containers.tracked }),
      },
      serves,
      debounceMs: 50,
      resyncMs,
      signal: ctx.signal,
      socketPath: socket,
      onReady: () => info(`watching ${dir}, serving ${socket}`),
      ...(notifier?.watchdogMs
        ? {
            aliveMs: notifier.watchdogMs,
            // systemd arms the watchdog only once READY=1 is sent: until then each ping also
            // extends the start timeout, so a first convergence that hangs is caught too.
            onAlive: () =>
              notifier.notify(
                ready ? { WATCHDOG: '1' } : { WATCHDOG: '1', EXTEND_TIMEOUT_USEC: String(START_EXTEND_USEC) },
              ),
          }
        : {}),
      execute: {
        pull: async (image, from) => {
          const started = performance.now();
          let bytes = 0;
          const onEvent = (e: PullEvent) => {
            if (e.type === 'layer' && e.state === 'done') bytes += e.size;
          };
          try {
            await pull(image, { ...from, onEvent });
            metrics.counters.recordPull({ bytes, ms: performance.now() - started, ok: true });
          } catch (err) {
            metrics.counters.recordPull({ bytes, ms: performance.now() - started, ok: false });
            throw err;
          }
        },
        onDone: (a, err) => {
          if (!err) info(formatAction(a)); // failures: after the pass
        },
      },
      onPass: (result, cpuMs, settled, wallMs, at) => {
        metrics.counters.recordPass({ wallMs, cpuMs, failedActions: result.executed.failed.length });
        metrics.collector.observed(result.containers ?? []);
        probing.onPass(result);
        for (const { action, error } of result.executed.failed) {
          const f = result.failures[failureKey(action)];
          const retry = f
            ? ` (attempt ${f.attempts}, retry in ${Math.round((f.retryAt - f.at) / 1000)} s)`
            : '';
          fail(`failed ${formatAction(action)}: ${formatErrorLine(error)}${retry}`);
        }
        if (values.stats === true) {
          // Stamped with the pass's own time, the one GET /v1/status gives as lastPass.at.
          log.write(
            'info',
            `${at} pass: ${result.executed.done.length + result.executed.failed.length} action(s), ${result.passes} plan(s), ${(result.containers ?? []).length} container(s), ${observedText(result.observedPods)}${cpuMs.toFixed(1)} ms CPU`,
          );
        }
        // Diagnostics once per change, not on every pass.
        const lines = result.diagnostics.map(formatDiagnostic);
        const text = lines.join('\n');
        if (text !== lastDiagnostics) for (const line of lines) log.write('warning', line);
        lastDiagnostics = text;
        if (notifier) {
          // Ready once the first passes have converged (or settled on failures that back off).
          const status = `${settled ? '' : 'starting: '}${statusLine(result.containers ?? [], result.remaining)}`;
          const fields: Record<string, string> = status !== lastStatus ? { STATUS: status } : {};
          if (settled && !ready) fields.READY = '1';
          ready ||= settled;
          lastStatus = status;
          if (Object.keys(fields).length > 0) notifier.notify(fields);
        }
        collect(result.executed.done.some((a) => a.kind === 'pull'));
      },
      onError: (err) => {
        metrics.counters.recordPassError();
        fail(formatErrorLine(err));
      },
    });
    await running.finally(async () => {
      imports?.close();
      logWatch.close();
      await rulesWatch?.close();
    });
    await containers.settled(); // a create under way ends (or is undone) before its tools go
    await r.rt.spares?.close().catch((err) => fail(`spare places on the network: ${formatErrorLine(err)}`));
    await probing.close();
    await closeMetrics();
    notifier?.notify({ STATUS: 'stopped; containers keep running' });
    await notifier?.flush();
    await rootClaim.release();
    await claim.release();
    useSpawnHelper(undefined);
    await spawnHelper?.stop();
    info('stopped; containers keep running');
    return 0;
  },
};
