// The bound on what a container's exec hooks and probes run (postStart, preStop; liveness, readiness,
// startup; of init containers and sidecars too): each runs as `runc exec` runs it, its command as
// written for hooks and expanded for probes (probe-command.ts, as the kubelet does) with the
// container's environment, so that command and environment
// together are bounded as the container's own (MAX_EXEC_TOTAL). Past it, the pod cannot be built
// (ERR_EXEC_TOO_LARGE naming the container and the hook or probe): its file falls back on its last
// good content. Without it, a valid manifest whose hook names one YAML-aliased string a hundred
// times made a spec longer than V8's longest string. Pure.
import type { RawContainerHealth } from '../health/probe-spec.js';
import { execBytes, execTotal } from '../manifest/expand.js';

type Handler = { exec?: { command?: string[] } } | undefined;

/** Each exec handler of `c`: its field's path, what it is, and its command. */
function execHandlers(c: RawContainerHealth): Array<{ field: string; label: string; command: string[] }> {
  const handlers: Array<[string, string, Handler]> = [
    ['lifecycle.postStart', 'postStart hook', c.lifecycle?.postStart],
    ['lifecycle.preStop', 'preStop hook', c.lifecycle?.preStop],
    ['livenessProbe', 'liveness probe', c.livenessProbe],
    ['readinessProbe', 'readiness probe', c.readinessProbe],
    ['startupProbe', 'startup probe', c.startupProbe],
  ];
  return handlers.flatMap(([field, label, h]) =>
    h?.exec ? [{ field: `${field}.exec.command`, label, command: h.exec.command ?? [] }] : [],
  );
}

/**
 * Throws ERR_EXEC_TOO_LARGE at the first argument of an exec hook or probe of container `c` that
 * takes its command and `env` (the container's `NAME=value`s) past MAX_EXEC_TOTAL.
 */
export function checkExecHandlers(c: RawContainerHealth & { name: string }, env: readonly string[]): void {
  const handlers = execHandlers(c);
  if (handlers.length === 0) return;
  const startBytes = execBytes(env);
  for (const { field, label, command } of handlers) {
    const total = execTotal(c.name, {
      subject: `the ${label}'s command and the container's environment`,
      startBytes,
    });
    command.forEach((arg, i) => {
      total.arg(arg, `${field}[${i}]`);
    });
  }
}
