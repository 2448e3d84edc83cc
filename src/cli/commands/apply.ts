import { realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import { callDaemon, socketPath } from '../../api/client.js';
import { eventOfAction, eventOfPreStopFailure, eventsOfExits } from '../../events/from-reconcile.js';
import { BerthError, exitCodeOfKind, formatErrorLine } from '../../lib/errors.js';
import { formatDiagnostic } from '../../lib/yaml-validate.js';
import { isError } from '../../manifest/severity.js';
import { type ApplySummary, applyOnce, summarizeApply } from '../../reconcile/loop.js';
import { lookAtContainerLogs } from '../../runtime/log-look.js';
import { readRecords } from '../../runtime/record.js';
import type { Command, CommandContext } from '../command.js';
import { emitImageGcEvents, formatImageGc, runImageGc } from '../image-gc.js';
import { renderJson } from '../output.js';
import { createReconcilePull } from '../reconcile-pull.js';
import { formatAction, openReconciler } from '../reconciler.js';
import { refuseRootDaemon } from '../root-daemon.js';

/** A file still being written was not applied: try again, as after an `unavailable` error (8). */
const EXIT_HELD = exitCodeOfKind('unavailable');
const heldLine = (file: string) =>
  `held ${file}: still being written (open for writing, or cut short a moment ago): not applied; its last good content, if any, stays applied; apply again once it is written`;

const realDir = (dir: string) => realpath(dir).catch(() => resolve(dir));

/**
 * With a daemon running, its folder is applied by the daemon (one pass, now); any other folder is
 * refused: applying it here would remove the daemon's pods, and the daemon would put them back.
 */
async function applyThroughDaemon(ctx: CommandContext, dir: string): Promise<ApplySummary | undefined> {
  const socket = socketPath(ctx.flags.state);
  const daemon = await callDaemon<{ pid: number; manifests: string }>(socket, 'GET', '/v1/status');
  if (!daemon) {
    await refuseRootDaemon(ctx.flags.root, ctx.flags.state);
    return undefined;
  }
  if ((await realDir(dir)) !== (await realDir(daemon.manifests))) {
    throw new BerthError(
      'ERR_DAEMON_RUNNING',
      'conflict',
      `a berth daemon (pid ${daemon.pid}) reconciles ${daemon.manifests}; applying ${dir} would fight it`,
      { hint: `put the manifests in ${daemon.manifests}, or stop the daemon` },
    );
  }
  return callDaemon<ApplySummary>(socket, 'POST', '/v1/apply', 60 * 60_000);
}

export const applyCommand: Command = {
  path: ['apply'],
  summary:
    'Reconcile the host with DIR once, then exit (non-zero if anything failed, a manifest is broken or still being written); with a daemon running, it applies its folder',
  usage: 'apply DIR',
  options: {},
  flags: [],
  args: [1, 1],
  async run(ctx, { positionals }) {
    const dir = positionals[0] as string;
    const json = ctx.flags.output === 'json';
    let summary = await applyThroughDaemon(ctx, dir);
    if (summary) {
      if (!json) for (const a of summary.done) ctx.stdout.write(`${formatAction(a)}\n`);
    } else {
      const pull = createReconcilePull(ctx, (line) => {
        if (!json) ctx.stdout.write(`${line}\n`);
      });
      const events = await ctx.events(); // what a local apply does is recorded as the daemon's is
      const reconciler = await openReconciler(ctx);
      const result = await applyOnce(
        reconciler,
        dir,
        {
          pull,
          // SIGINT/SIGTERM: nothing more starts, and what it cut short is not counted as failed.
          signal: ctx.signal,
          onDone: (a, err) => {
            const e = eventOfAction(a, err);
            if (e) events.emit(e);
            if (!json && !err) ctx.stdout.write(`${formatAction(a)}\n`);
          },
          onPreStopFailed: (c, reason) => events.emit(eventOfPreStopFailure(c, reason)),
        },
        {
          retryNow: true,
          // A container that ended with no exit code while this apply waited (its conmon was killed)
          // is told as the daemon tells it; an exit with a code is in its record, `ps` and `logs`.
          onObserved: (before, after) => {
            for (const e of eventsOfExits(before, after)) if (e.reason === 'Lost') events.emit(e);
          },
          // A long pull, a grace period, an init container run to completion: said on a terminal,
          // as pull progress is (progress.ts); scripts and logs get the outcome alone.
          ...(ctx.stderr.isTTY && !json
            ? {
                onProgress: (doing: Map<string, string>, ms: number) => {
                  for (const [key, what] of doing)
                    ctx.stderr.write(`[${Math.round(ms / 1000)} s] ${key}: ${what}\n`);
                },
              }
            : {}),
        },
      );
      summary = summarizeApply(result);
      const gc = await runImageGc(ctx, dir, { trim: true, reconciler }).catch((err) => {
        ctx.stderr.write(`image gc failed: ${formatErrorLine(err)}\n`);
        return undefined;
      });
      const line = gc && formatImageGc(gc);
      if (line && !json) ctx.stdout.write(`${line}\n`);
      if (gc) emitImageGcEvents(events, gc);
      // No daemon keeps rotated logs as conmon rotates them: each apply keeps the last one.
      const rt = await ctx.runtime();
      await lookAtContainerLogs(
        rt,
        (await readRecords(rt.paths.containers)).map((c) => c.id),
      ).catch((err) => {
        ctx.stderr.write(`keeping rotated logs failed: ${formatErrorLine(err)}\n`);
      });
    }
    if (json) ctx.stdout.write(renderJson(summary));
    else {
      for (const f of summary.failed) ctx.stderr.write(`failed ${formatAction(f)}: ${f.error}\n`);
      for (const d of summary.diagnostics) ctx.stderr.write(`${formatDiagnostic(d)}\n`);
      for (const a of summary.remaining) ctx.stdout.write(`${formatAction(a)}\n`);
      for (const file of summary.held ?? []) ctx.stderr.write(`${heldLine(file)}\n`);
    }
    if (ctx.signal.aborted) return 130; // cut short: what it left undone is the next apply's
    if (summary.failed.length > 0) return 1;
    if (summary.diagnostics.some(isError)) return 2;
    return (summary.held ?? []).length > 0 ? EXIT_HELD : 0;
  },
};
