// `$(VAR)` in an exec probe's command, as the kubelet's prober expands it
// (ExpandContainerCommandOnlyStatic): against the container's own `env` list as written — a
// `value` as it stands (not itself expanded), an entry with `valueFrom` as the empty string, a name
// given twice its last value; `envFrom`, the image's environment and names not listed stay
// `$(NAME)`. Lifecycle hooks' commands are run as written, as the kubelet runs them. Pure.
import type { RawContainerHealth } from '../health/probe-spec.js';
import { expandVariables } from '../manifest/expand.js';

type EnvEntry = { name: string; value?: string };

const PROBES = ['livenessProbe', 'readinessProbe', 'startupProbe'] as const;

/** The names and values an exec probe's `$(NAME)` may take: the container's `env` as written. */
export function staticEnvOf(env: readonly EnvEntry[] | undefined): Map<string, string> {
  return new Map((env ?? []).map((e) => [e.name, e.value ?? '']));
}

/**
 * Container `c` with each exec probe's command expanded against its static env (a copy: `c` is
 * left as it is). A result past MAX_EXPANDED is ERR_EXPANSION_TOO_LONG naming container and field.
 */
export function withProbeCommandsExpanded<C extends RawContainerHealth & { name: string; env?: EnvEntry[] }>(
  c: C,
): C {
  if (!PROBES.some((k) => c[k]?.exec?.command?.some((s) => s.includes('$')))) return c;
  const vars = staticEnvOf(c.env);
  const out = { ...c };
  for (const k of PROBES) {
    const probe = c[k];
    const command = probe?.exec?.command;
    if (!probe || !command) continue;
    out[k] = {
      ...probe,
      exec: {
        command: command.map((s, i) =>
          expandVariables(s, (n) => vars.get(n), `container ${c.name}: ${k}.exec.command[${i}]`),
        ),
      },
    };
  }
  return out;
}
