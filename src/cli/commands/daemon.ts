import { callDaemon, daemonRunning, socketPath } from '../../api/client.js';
import { acquireLock } from '../../content/lock.js';
import { runDaemon } from '../../daemon/daemon.js';
import { formatErrorLine } from '../../lib/errors.js';
import { formatDiagnostic } from '../../lib/yaml-validate.js';
import { failureKey } from '../../reconcile/failures.js';
import { parseCount } from '../../runtime/quantity.js';
import type { Command } from '../command.js';
import { formatImageGc, runImageGc } from '../image-gc.js';
import { watchImportDir } from '../import-dir.js';
import { createReconcilePull } from '../reconcile-pull.js';
import { formatAction, openReconciler } from '../reconciler.js';

export const daemonCommand: Command = {
  path: ['daemon'],
  summary:
    'Watch a folder of manifests and keep the host matching it; serve the API on <state>/berth.sock (containers keep running when it stops)',
  usage: 'daemon --manifests DIR [--resync S]',
  options: { manifests: { type: 'string' }, resync: { type: 'string' }, stats: { type: 'boolean' } },
  flags: [
    ['--manifests DIR', 'the folder to watch (default /etc/berth/manifests)'],
    ['--resync S', 'seconds between passes when nothing happens (default 30)'],
    ['--stats', 'one line per pass: actions taken, containers seen, CPU used'],
  ],
  args: [0, 0],
  async run(ctx, { values }) {
    const dir = typeof values.manifests === 'string' ? values.manifests : '/etc/berth/manifests';
    const resyncMs = (typeof values.resync === 'string' ? parseCount(values.resync, '--resync') : 30) * 1000;
    const stamp = () => ctx.now().toISOString();
    const pull = createReconcilePull(ctx, (line) => ctx.stdout.write(`${stamp()} ${line}\n`));
    let lastDiagnostics = '';
    // Image GC after a pass, one at a time, beside the loop (it waits for pulls under way).
    let gcRunning = false;
    let trimDue = true; // at start, and after each pass that pulled
    const collect = (pulled: boolean) => {
      trimDue ||= pulled;
      if (gcRunning) return;
      gcRunning = true;
      const trim = trimDue;
      trimDue = false;
      runImageGc(ctx, dir, trim)
        .then((r) => {
          const line = r && formatImageGc(r);
          if (line) ctx.stdout.write(`${stamp()} ${line}\n`); // TODO(events): "GC'd" events
        })
        .catch((err) => ctx.stderr.write(`${stamp()} image gc failed: ${formatErrorLine(err)}\n`))
        .finally(() => {
          gcRunning = false;
        });
    };
    // One daemon per --state, even when two start together: a lock that dies with its holder.
    const socket = socketPath(ctx.flags.state);
    const claim = await acquireLock(ctx.flags.state, 'daemon', { timeoutMs: 0 }).catch(async () => {
      const other = await callDaemon<{ pid: number }>(socket, 'GET', '/v1/status').catch(() => undefined);
      throw daemonRunning(socket, other?.pid);
    });
    const reconciler = await openReconciler(ctx);
    const { importDir } = (await ctx.hostConfig()).images;
    let askForPass: (() => void) | undefined;
    const imports = importDir
      ? watchImportDir(ctx, importDir, {
          onImported: (file, r) => {
            // TODO(events): an "imported" event per image once src/events/ exists.
            for (const i of r.images) ctx.stdout.write(`${stamp()} imported ${i.reference} from ${file}\n`);
            askForPass?.();
          },
          onError: (file, err) =>
            ctx.stderr.write(`${stamp()} import of ${file} failed: ${formatErrorLine(err)}\n`),
        })
      : undefined;
    const running = runDaemon(reconciler, {
      onTrigger: (trigger) => {
        askForPass = trigger;
      },
      dir,
      debounceMs: 50,
      resyncMs,
      signal: ctx.signal,
      socketPath: socket,
      onReady: () => ctx.stdout.write(`${stamp()} watching ${dir}, serving ${socket}\n`),
      execute: {
        pull,
        onDone: (a, err) => {
          if (!err) ctx.stdout.write(`${stamp()} ${formatAction(a)}\n`); // failures: after the pass
        },
      },
      onPass: (result, cpuMs) => {
        for (const { action, error } of result.executed.failed) {
          const f = result.failures[failureKey(action)];
          const retry = f
            ? ` (attempt ${f.attempts}, retry in ${Math.round((f.retryAt - f.at) / 1000)} s)`
            : '';
          ctx.stderr.write(`${stamp()} failed ${formatAction(action)}: ${formatErrorLine(error)}${retry}\n`);
        }
        if (values.stats === true) {
          ctx.stdout.write(
            `${stamp()} pass: ${result.executed.done.length + result.executed.failed.length} action(s), ${result.passes} plan(s), ${cpuMs.toFixed(1)} ms CPU\n`,
          );
        }
        // Diagnostics once per change, not on every pass.
        const text = result.diagnostics.map(formatDiagnostic).join('\n');
        if (text !== lastDiagnostics && text) ctx.stderr.write(`${text}\n`);
        lastDiagnostics = text;
        collect(result.executed.done.some((a) => a.kind === 'pull'));
      },
      onError: (err) => ctx.stderr.write(`${stamp()} ${formatErrorLine(err)}\n`),
    });
    await running.finally(() => imports?.close());
    await claim.release();
    ctx.stdout.write(`${stamp()} stopped; containers keep running\n`);
    return 0;
  },
};
