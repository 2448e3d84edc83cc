// createRunAction: the RunAction (../action.ts) the prober and the lifecycle hooks are given. It
// resolves the target (the action's host or the pod's address, named ports), bounds the action by
// its timeout and the caller's signal, and dispatches by kind to exactly one handler. It never
// rejects: every failure is an ActionResult with ok false.
import { findOnPath } from '../../runtime/tool.js';
import type { HandlerAction, RunAction } from '../action.js';
import { createDeadline } from './deadline.js';
import { resolveEndpoint } from './endpoint.js';
import { type RuncCommand, runExec } from './exec.js';
import { probeGrpc } from './grpc.js';
import { probeHttp } from './http-get.js';
import { runSleep } from './sleep.js';
import { probeTcp } from './tcp-socket.js';

export interface RunActionDeps {
  runc: RuncCommand;
  /** A private directory for runc's pid files of exec actions. */
  pidDir: string;
  /** `berth-probe/<version>`, sent by HTTP and gRPC actions. */
  userAgent: string;
}

export function createRunAction(given: RunActionDeps): RunAction {
  // conmon (exec actions) wants its runtime's full path: looked up once.
  const deps = { ...given, runc: { ...given.runc, bin: findOnPath(given.runc.bin) } };
  return async (action, target, o) => {
    const deadline = createDeadline(o.timeoutMs, o.signal);
    const run = handlers[action.kind] as Handler<HandlerAction>;
    try {
      return await run(action, { deps, target, deadline });
    } catch (err) {
      return { ok: false, message: err instanceof Error ? err.message : String(err) };
    } finally {
      deadline.dispose();
    }
  };
}

type Ctx = {
  deps: RunActionDeps;
  target: Parameters<RunAction>[1];
  deadline: ReturnType<typeof createDeadline>;
};
type Handler<A> = (a: A, c: Ctx) => ReturnType<RunAction>;

/** One handler per kind: the compiler checks that none is missing. */
const handlers: { [K in HandlerAction['kind']]: Handler<Extract<HandlerAction, { kind: K }>> } = {
  exec: (a, c) =>
    runExec(
      { runc: c.deps.runc, containerId: c.target.containerId, command: a.command, pidDir: c.deps.pidDir },
      c.deadline,
    ),
  httpGet: async (a, c) => {
    const e = resolveEndpoint(a.host, a.port, c.target);
    if (!e.ok) return { ok: false, message: e.message };
    return probeHttp(
      {
        scheme: a.scheme,
        host: e.host,
        port: e.port,
        path: a.path,
        headers: a.headers,
        userAgent: c.deps.userAgent,
      },
      c.deadline,
    );
  },
  tcpSocket: async (a, c) => {
    const e = resolveEndpoint(a.host, a.port, c.target);
    if (!e.ok) return { ok: false, message: e.message };
    return probeTcp(e.host, e.port, c.deadline);
  },
  grpc: async (a, c) => {
    const e = resolveEndpoint(undefined, a.port, c.target);
    if (!e.ok) return { ok: false, message: e.message };
    return probeGrpc(
      { host: e.host, port: e.port, service: a.service, userAgent: c.deps.userAgent },
      c.deadline,
    );
  },
  sleep: (a, c) => runSleep(a.seconds, c.deadline),
};
