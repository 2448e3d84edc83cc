import { BerthError } from '../../lib/errors.js';
import { ANNOTATION, OWNER_MANIFESTS } from '../../reconcile/plan.js';
import { type ContainerStatus, containerStatus } from '../../runtime/containers.js';
import { type ContainerRecord, readRecords } from '../../runtime/record.js';
import type { Command } from '../command.js';
import { renderJson, renderTable } from '../output.js';
import { LOG_FLAGS, LOG_OPTIONS, printLogs } from './container-logs.js';

interface PodView {
  name: string;
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  sourceFile: string;
  containers: Array<{
    name: string;
    state: string;
    pid: number | null;
    restarts: number;
    exitCode: number | null;
    lastError: string | null;
    init: boolean;
  }>;
}

function phaseOf(app: ContainerStatus[]): PodView['phase'] {
  if (app.length > 0 && app.every((c) => c.state === 'running')) return 'Running';
  if (app.length > 0 && app.every((c) => c.state === 'exited' && c.exitCode === 0)) return 'Succeeded';
  if (app.some((c) => c.state === 'exited' && c.exitCode !== 0)) return 'Failed';
  return 'Pending';
}

export async function podViews(
  records: ContainerRecord[],
  status: (r: ContainerRecord) => Promise<ContainerStatus>,
): Promise<PodView[]> {
  const mine = records.filter((r) => r.annotations?.[ANNOTATION.owner] === OWNER_MANIFESTS);
  const pods = new Map<string, Array<{ r: ContainerRecord; s: ContainerStatus }>>();
  for (const r of mine) {
    const pod = r.annotations?.[ANNOTATION.pod] as string;
    pods.set(pod, [...(pods.get(pod) ?? []), { r, s: await status(r) }]);
  }
  return [...pods]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, list]) => {
      const isInit = (r: ContainerRecord) =>
        JSON.parse(r.annotations?.[ANNOTATION.spec] ?? '{}').init === true;
      return {
        name,
        phase: phaseOf(list.filter((x) => !isInit(x.r)).map((x) => x.s)),
        sourceFile: list[0]?.r.annotations?.[ANNOTATION.source] ?? '',
        containers: list.map(({ r, s }) => ({
          name: r.annotations?.[ANNOTATION.container] ?? r.name,
          state: s.state,
          pid: s.pid,
          restarts: Number(r.annotations?.[ANNOTATION.restarts] ?? 0),
          exitCode: s.exitCode,
          lastError: s.oomKilled
            ? 'OOMKilled'
            : s.state === 'exited' && s.exitCode !== 0
              ? `exited ${s.exitCode}`
              : null,
          init: isInit(r),
        })),
      };
    });
}

export const ps: Command = {
  path: ['ps'],
  summary: 'Pods from manifests and their containers: phase, state, restarts, last error, source file',
  usage: 'ps',
  options: {},
  flags: [],
  args: [0, 0],
  async run(ctx) {
    const rt = await ctx.runtime();
    const views = await podViews(await readRecords(rt.paths.containers), (r) => containerStatus(rt, r));
    if (ctx.flags.output === 'json') {
      ctx.stdout.write(renderJson(views));
      return 0;
    }
    const rows = views.flatMap((p) =>
      p.containers.map((c) => [
        p.name,
        p.phase,
        `${c.name}${c.init ? ' (init)' : ''}`,
        c.state === 'exited' ? `exited (${c.exitCode ?? '?'})` : c.state,
        c.pid === null ? '-' : String(c.pid),
        String(c.restarts),
        c.lastError ?? '-',
        p.sourceFile,
      ]),
    );
    ctx.stdout.write(
      renderTable(['POD', 'PHASE', 'CONTAINER', 'STATE', 'PID', 'RESTARTS', 'LAST ERROR', 'SOURCE'], rows),
    );
    return 0;
  },
};

export const logs: Command = {
  path: ['logs'],
  summary: "A pod's container output (POD alone: its only container, or the first)",
  usage: 'logs POD[/CONTAINER] [-f] [--timestamps]',
  options: LOG_OPTIONS,
  flags: LOG_FLAGS,
  args: [1, 1],
  async run(ctx, { positionals, values }) {
    const [pod, container] = (positionals[0] as string).split('/', 2) as [string, string | undefined];
    const rt = await ctx.runtime();
    const views = await podViews(await readRecords(rt.paths.containers), (r) => containerStatus(rt, r));
    const view = views.find((p) => p.name === pod);
    const c = view?.containers.find((x) => (container ? x.name === container : !x.init));
    if (!view || !c) {
      throw new BerthError('ERR_POD_NOT_FOUND', 'not-found', `no pod ${positionals[0]} from manifests`, {
        hint: 'see berth ps',
      });
    }
    await printLogs(ctx, `${pod}_${c.name}`, {
      follow: values.follow === true,
      timestamps: values.timestamps === true,
    });
    return 0;
  },
};
