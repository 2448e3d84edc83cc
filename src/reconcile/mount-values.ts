// A volume mount's values that come from elsewhere: subPathExpr expanded against the container's
// environment with Kubernetes' `$(VAR)` rules (the result is confined to the volume when the
// container is created, as any subPath: runtime/sub-path.ts), and mountPropagation as the runtime
// names it, and recursiveReadOnly. Pure.
import { BerthError } from '../lib/errors.js';
import { cleanRelativePath } from '../manifest/clean-paths.js';
import { expandVariables } from '../manifest/expand.js';
import type { MountPropagation } from '../runtime/spec.js';

/**
 * `subPathExpr` with `$(VAR)` taken from `env` (`NAME=value` entries), cleaned as the kubelet's join
 * cleans it (`./a//b/` is `a/b`; "" is the volume itself). An expansion that is absolute or holds a
 * `..` component (a value `..`, `../x` or `/etc`) or a NUL is refused, ERR_SUBPATH_UNSAFE. A name
 * the env lacks or gives empty is refused, as the kubelet refuses it ("missing value"): expanded to
 * nothing, a mount meant for one pod's folder of a shared volume would get the whole volume. Not
 * while the env waits for an object (`envWaiting`): that pod waits instead, and is read again when
 * the object comes.
 */
export function expandSubPath(expr: string, env: readonly string[], envWaiting = false): string {
  const vars = new Map<string, string>();
  for (const e of env) {
    const eq = e.indexOf('=');
    if (eq > 0) vars.set(e.slice(0, eq), e.slice(eq + 1));
  }
  const missing = new Set<string>();
  const expanded = expandVariables(
    expr,
    (n) => {
      const value = vars.get(n);
      if (!value) missing.add(n);
      return value;
    },
    'subPathExpr',
  );
  // An env still waiting for a ConfigMap or Secret lacks its values for now: the pod waits for it
  // (this container is not made), and the file's other pods go on; its subPath stays as written
  // meanwhile, never the whole volume.
  if (missing.size > 0 && envWaiting) return expr;
  if (missing.size > 0)
    throw new BerthError(
      'ERR_SUBPATH_UNSAFE',
      'invalid',
      `subPathExpr ${JSON.stringify(expr)}: missing value for ${[...missing].join(', ')}`,
      { hint: "every $(VAR) it names must be set, and not empty, in the container's env" },
    );
  // The kubelet checks the expanded path as the API checked the expression (makeMounts: not
  // absolute, no `..` component), then joins it to the volume; `.` and empty components are cleaned.
  const problem = expandedProblem(expanded);
  if (problem)
    throw new BerthError(
      'ERR_SUBPATH_UNSAFE',
      'invalid',
      `subPathExpr ${JSON.stringify(expr)} expands to ${JSON.stringify(expanded)}: ${problem}`,
      { hint: 'the values it names must keep the path inside the volume' },
    );
  return cleanRelativePath(expanded);
}

/** Why an expanded subPathExpr cannot be a path inside its volume, or undefined. */
function expandedProblem(path: string): string | undefined {
  if (path.startsWith('/')) return 'an absolute path';
  if (path.includes('\0')) return 'a NUL byte';
  if (path.split('/').includes('..')) return 'a ".." component';
  return undefined;
}

/** Kubernetes' mountPropagation as a bind option; None (the default) is private. */
export function propagationOf(
  p: 'None' | 'HostToContainer' | 'Bidirectional' | undefined,
): MountPropagation | undefined {
  if (p === 'HostToContainer') return 'rslave';
  if (p === 'Bidirectional') return 'rshared';
  return undefined;
}

/** Kubernetes' recursiveReadOnly as the runtime takes it; Disabled (the default) is the top mount only. */
export function recursiveReadOnlyOf(
  r: 'Disabled' | 'IfPossible' | 'Enabled' | undefined,
): 'required' | 'if-possible' | undefined {
  if (r === 'Enabled') return 'required';
  if (r === 'IfPossible') return 'if-possible';
  return undefined;
}
