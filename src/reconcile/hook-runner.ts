// The RunAction the reconciler's lifecycle hooks use when none is given: health/actions' handlers,
// exec hooks through the same runc (and runc root) as the containers, runc's pid files in a private
// `<state>/hooks` (0700, made on first use).
import { dirname, join } from 'node:path';
import type { RunAction } from '../health/action.js';
import { createRunAction } from '../health/actions/run-action.js';
import { makeDirs } from '../lib/make-dirs.js';
import type { RuntimeDeps } from '../runtime/containers.js';

/** As the kubelet's `kube-lifecycle/<version>`: what an httpGet hook's server sees. */
const USER_AGENT = 'berth-lifecycle';

export function defaultRunAction(rt: RuntimeDeps): RunAction {
  const pidDir = join(dirname(rt.paths.exits), 'hooks');
  const run = createRunAction({
    runc: { bin: rt.runc.bin, root: rt.runc.root },
    pidDir,
    userAgent: USER_AGENT,
  });
  return async (action, target, o) => {
    if (action.kind === 'exec') await makeDirs(pidDir, 0o700);
    return run(action, target, o);
  };
}
