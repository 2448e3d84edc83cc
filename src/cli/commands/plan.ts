import { resolve } from 'node:path';
import { formatErrorLine } from '../../lib/errors.js';
import { formatDiagnostic } from '../../lib/yaml-validate.js';
import { isError } from '../../manifest/severity.js';
import { planOnce } from '../../reconcile/loop.js';
import { isActionable, podsOfOtherFolders } from '../../reconcile/plan.js';
import type { Command } from '../command.js';
import { renderJson } from '../output.js';
import { formatAction, openReconciler } from '../reconciler.js';
import { refuseRootDaemon } from '../root-daemon.js';

export const planCommand: Command = {
  path: ['plan'],
  summary:
    'Print what a reconcile of DIR would do, with reasons (exit 0: nothing; 2: something; 1: an error or a broken manifest)',
  usage: 'plan DIR',
  options: {},
  flags: [],
  args: [1, 1],
  async run(ctx, { positionals }) {
    await refuseRootDaemon(ctx.flags.root, ctx.flags.state);
    const r = await openReconciler(ctx);
    const cpu = process.cpuUsage();
    // What `apply` would do now: it retries failures without waiting out their back-off. Any error
    // exits 1, never 2: 2 means "something would change".
    const planned = await planOnce(r, positionals[0] as string).catch((err: unknown) => {
      ctx.stderr.write(`berth: ${formatErrorLine(err)}\n`);
      return undefined;
    });
    if (!planned) return 1;
    const { loaded, actions } = planned;
    const used = process.cpuUsage(cpu);
    const passCpuMs = (used.user + used.system) / 1000; // one pass: load, observe, plan
    const changes = actions.filter(isActionable);
    if (ctx.flags.output === 'json') {
      ctx.stdout.write(renderJson({ actions, diagnostics: loaded.diagnostics, passCpuMs }));
    } else {
      for (const d of loaded.diagnostics) ctx.stderr.write(`${formatDiagnostic(d)}\n`);
      for (const a of actions) ctx.stdout.write(`${formatAction(a)}\n`);
      const broken = new Set(loaded.diagnostics.filter(isError).map((d) => d.file)).size;
      if (actions.length === 0)
        ctx.stdout.write(
          broken === 0
            ? 'nothing to do: the host matches the manifests\n'
            : `nothing to do for the manifests that can be used; ${broken} file(s) cannot be (above): what they define stays as it runs\n`,
        );
      // `apply DIR` prunes only DIR's pods: say which are another folder's, and left alone.
      const folder = resolve(positionals[0] as string);
      for (const o of podsOfOtherFolders(planned.observed, planned.desired, folder))
        ctx.stdout.write(`${'other-folder'.padEnd(12)} ${o.pod}: from ${o.folder}, left alone\n`);
    }
    if (loaded.diagnostics.some(isError)) return 1;
    return changes.length > 0 ? 2 : 0;
  },
};
