import { BerthError } from '../../lib/errors.js';
import { formatDiagnostic } from '../../lib/yaml-validate.js';
import { applyOnce } from '../../reconcile/loop.js';
import type { Command } from '../command.js';
import { renderJson } from '../output.js';
import { createPuller } from '../puller.js';
import { formatAction, openReconciler } from '../reconciler.js';

export const applyCommand: Command = {
  path: ['apply'],
  summary:
    'Reconcile the host with DIR once, then exit (non-zero if anything failed or a manifest is broken)',
  usage: 'apply DIR',
  options: {},
  flags: [],
  args: [1, 1],
  async run(ctx, { positionals }) {
    const pull = createPuller(ctx);
    const json = ctx.flags.output === 'json';
    const result = await applyOnce(await openReconciler(ctx), positionals[0] as string, {
      pull: async (image, platform) => {
        await pull({ image, ...(platform ? { platform } : {}) });
      },
      onDone: (a, err) => {
        if (json) return;
        if (err)
          ctx.stderr.write(
            `failed ${formatAction(a)}: ${err instanceof BerthError ? `${err.code}: ${err.message}` : String(err)}\n`,
          );
        else ctx.stdout.write(`${formatAction(a)}\n`);
      },
    });
    if (json) {
      ctx.stdout.write(
        renderJson({
          done: result.executed.done,
          failed: result.executed.failed.map((f) => ({
            ...f.action,
            error: String((f.error as Error).message ?? f.error),
          })),
          remaining: result.remaining,
          diagnostics: result.diagnostics,
        }),
      );
    } else {
      for (const d of result.diagnostics) ctx.stderr.write(`${formatDiagnostic(d)}\n`);
      for (const a of result.remaining) ctx.stdout.write(`${formatAction(a)}\n`);
    }
    if (result.executed.failed.length > 0) return 1;
    return result.diagnostics.length > 0 ? 2 : 0;
  },
};
