import { formatDiagnostic } from '../../lib/yaml-validate.js';
import { planOnce } from '../../reconcile/loop.js';
import { isActionable } from '../../reconcile/plan.js';
import type { Command } from '../command.js';
import { renderJson } from '../output.js';
import { formatAction, openReconciler } from '../reconciler.js';

export const planCommand: Command = {
  path: ['plan'],
  summary: 'Print what a reconcile of DIR would do, with reasons (exit 0: nothing; 2: something)',
  usage: 'plan DIR',
  options: {},
  flags: [],
  args: [1, 1],
  async run(ctx, { positionals }) {
    const r = await openReconciler(ctx);
    const cpu = process.cpuUsage();
    // What `apply` would do now: it retries failures without waiting out their back-off.
    const { loaded, actions } = await planOnce(r, positionals[0] as string);
    const used = process.cpuUsage(cpu);
    const passCpuMs = (used.user + used.system) / 1000; // one pass: load, observe, plan
    const changes = actions.filter(isActionable);
    if (ctx.flags.output === 'json') {
      ctx.stdout.write(renderJson({ actions, diagnostics: loaded.diagnostics, passCpuMs }));
    } else {
      for (const d of loaded.diagnostics) ctx.stderr.write(`${formatDiagnostic(d)}\n`);
      for (const a of actions) ctx.stdout.write(`${formatAction(a)}\n`);
      if (actions.length === 0) ctx.stdout.write('nothing to do: the host matches the manifests\n');
    }
    return changes.length > 0 ? 2 : 0;
  },
};
