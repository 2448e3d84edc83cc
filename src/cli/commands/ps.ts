import { callDaemon, socketPath } from '../../api/client.js';
import { BerthError } from '../../lib/errors.js';
import { printable } from '../../lib/printable.js';
import { identityCandidates } from '../../manifest/identity.js';
import { formatPort } from '../../network/ports.js';
import type { PodView } from '../../reconcile/pod-views.js';
import { containerWarnings } from '../../runtime/container-warnings.js';
import { runtimePaths } from '../../runtime/paths.js';
import type { Command, CommandContext } from '../command.js';
import { renderJson, renderTable } from '../output.js';
import { LOG_FLAGS, LOG_OPTIONS, parseTail, printLogs } from './container-logs.js';

/** Every pod: from the daemon when one runs, else from the last reconcile's status and the store. */
export async function currentPodViews(ctx: CommandContext): Promise<PodView[]> {
  const fromDaemon = await callDaemon<PodView[]>(socketPath(ctx.flags.state), 'GET', '/v1/pods');
  if (fromDaemon) return fromDaemon;
  // Loaded only without a daemon: observing the pods is most of the modules `ps` would load.
  const [{ observePods }, { statusFile, statusPath }] = await Promise.all([
    import('../../reconcile/observe.js'),
    import('../../reconcile/status-file.js'),
  ]);
  return observePods(await ctx.runtime(), statusFile(statusPath(ctx.flags.state)));
}

export const ps: Command = {
  path: ['ps'],
  summary: 'Pods from manifests and their containers: phase, ready, state, restarts, last error, source file',
  usage: 'ps',
  options: {},
  flags: [],
  args: [0, 0],
  async run(ctx) {
    const views = await currentPodViews(ctx);
    // Read here even when a daemon answered: its pods leave a container with a bad record out too.
    ctx.stderr.write(containerWarnings(runtimePaths(ctx.flags.root, ctx.flags.state)));
    if (ctx.flags.output === 'json') {
      ctx.stdout.write(renderJson(views));
      return 0;
    }
    const rows = views.flatMap((p) =>
      p.containers.map((c) => [
        p.name,
        p.reason ? `${p.phase} (${p.reason})` : p.phase,
        p.ready,
        `${c.name}${c.init ? ' (init)' : ''}`,
        c.state === 'exited' ? `exited (${c.exitCode ?? '?'})` : c.state,
        c.pid === null ? '-' : String(c.pid),
        String(c.restarts),
        c.lastError ?? '-',
        p.ips.join(',') || '-',
        p.ports.map(formatPort).join(',') || '-',
        p.sourceFile,
      ]),
    );
    ctx.stdout.write(
      renderTable(
        [
          'POD',
          'PHASE',
          'READY',
          'CONTAINER',
          'STATE',
          'PID',
          'RESTARTS',
          'LAST ERROR',
          'IP',
          'PORTS',
          'SOURCE',
        ],
        rows,
      ),
    );
    for (const p of views) {
      if (p.lastError) ctx.stdout.write(printable(`${p.name}: ${p.lastError}`) + '\n');
      for (const c of p.containers)
        if (c.terminationMessage !== undefined)
          ctx.stdout.write(
            printable(`${p.name}/${c.name}: termination message: ${c.terminationMessage.trimEnd()}`) + '\n',
          );
      for (const c of p.containers)
        if (c.notReady) ctx.stdout.write(printable(`${p.name}/${c.name}: ${c.notReady}`) + '\n');
      if (p.waiting)
        ctx.stdout.write(
          printable(`${p.waiting.startsWith(p.name) ? '' : `${p.name}: `}${p.waiting}`) + '\n',
        );
    }
    return 0;
  },
};

export const logs: Command = {
  path: ['logs'],
  summary: "A pod's container output (POD alone: its only container, or the first)",
  usage: 'logs POD[/CONTAINER] [-f] [--timestamps] [--tail N]',
  options: LOG_OPTIONS,
  flags: LOG_FLAGS,
  args: [1, 1],
  async run(ctx, { positionals, values }) {
    const [pod, container] = (positionals[0] as string).split('/', 2) as [string, string | undefined];
    const views = await currentPodViews(ctx);
    const view = identityCandidates(pod)
      .map((id) => views.find((p) => p.name === id))
      .find((v) => v !== undefined);
    const c = view?.containers.find((x) => (container ? x.name === container : !x.init));
    if (!view) {
      throw new BerthError('ERR_POD_NOT_FOUND', 'not-found', `no pod ${pod} from manifests`, {
        hint: 'see berth ps',
      });
    }
    if (!c) {
      const names = view.containers.map((x) => x.name).join(', ');
      throw new BerthError(
        'ERR_CONTAINER_NOT_FOUND',
        'not-found',
        container
          ? `pod ${pod} has no container ${container} (it has ${names || 'none'})`
          : `pod ${pod} has no container that is not an init container`,
        { hint: `name one: berth logs ${pod}/CONTAINER` },
      );
    }
    await printLogs(ctx, `${view.name}_${c.name}`, {
      follow: values.follow === true,
      timestamps: values.timestamps === true,
      tail: parseTail(values.tail),
    });
    return 0;
  },
};
