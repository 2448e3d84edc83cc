import { callDaemon, daemonRunning, socketPath } from '../../api/client.js';
import { acquireLock } from '../../content/lock.js';
import { runDaemon } from '../../daemon/daemon.js';
import { formatErrorLine } from '../../lib/errors.js';
import { formatDiagnostic } from '../../lib/yaml-validate.js';
import { failureKey } from '../../reconcile/failures.js';
import { parseCount } from '../../runtime/quantity.js';
import type { Command } from '../command.js';
import { createPuller } from '../puller.js';
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
    const pull = createPuller(ctx);
    const stamp = () => ctx.now().toISOString();
    let lastDiagnostics = '';
    // One daemon per --state, even when two start together: a lock that dies with its holder.
    const socket = socketPath(ctx.flags.state);
    const claim = await acquireLock(ctx.flags.state, 'daemon', { timeoutMs: 0 }).catch(async () => {
      const other = await callDaemon<{ pid: number }>(socket, 'GET', '/v1/status').catch(() => undefined);
      throw daemonRunning(socket, other?.pid);
    });
    await runDaemon(await openReconciler(ctx), {
      dir,
      debounceMs: 50,
      resyncMs,
      signal: ctx.signal,
      socketPath: socket,
      onReady: () => ctx.stdout.write(`${stamp()} watching ${dir}, serving ${socket}\n`),
      execute: {
        pull: async (image, platform, pullSecrets) => {
          await pull({ image, ...(platform ? { platform } : {}), ...(pullSecrets ? { pullSecrets } : {}) });
        },
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
      },
      onError: (err) => ctx.stderr.write(`${stamp()} ${formatErrorLine(err)}\n`),
    });
    await claim.release();
    ctx.stdout.write(`${stamp()} stopped; containers keep running\n`);
    return 0;
  },
};
