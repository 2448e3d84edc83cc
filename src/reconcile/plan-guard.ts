// One pod's planning, guarded: should it throw (a bug, or an input no check foresaw), that pod is a
// wait that names it, its file and the error (coded: a BerthError's code, else ERR_INTERNAL), and
// every other pod is planned as usual. Nothing of it is stopped or removed for it: its actions so
// far are dropped, so what runs is kept as it runs, as for a pod whose file has errors. Pure.
import { formatErrorLine, isBerthError } from '../lib/errors.js';
import type { Action } from './plan-types.js';

export function guarded(pod: string, file: string | undefined, plan: () => Action[]): Action[] {
  try {
    return plan();
  } catch (err) {
    const code = isBerthError(err) ? err.code : 'ERR_INTERNAL';
    const line = formatErrorLine(err); // `CODE: message`
    const message = line.startsWith(`${code}: `) ? line.slice(code.length + 2) : line;
    const from = file ? ` (${file})` : '';
    return [
      {
        kind: 'wait',
        pod,
        reason: `${pod}: cannot be planned${from}: ${line}: kept as it runs`,
        unplannable: { ...(file ? { file } : {}), code, message },
      },
    ];
  }
}
