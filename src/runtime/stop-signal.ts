// An image's StopSignal as runc can send it. runc's `kill` knows only the 31 classic names
// (SIGTERM, TERM, …; not SIGIOT, SIGPOLL or SIGRTMIN+3) or a number, and a stop whose signal runc
// refuses never reaches its SIGKILL: such a container could not be stopped. So every form Docker
// accepts is mapped here at create time (names with or without SIG, any case; RTMIN+n and
// RTMAX-n with glibc's SIGRTMIN 34 and SIGRTMAX 64, as Docker maps them; numbers 1-64), and
// anything else is refused. Pure.
import { constants } from 'node:os';
import { BerthError } from '../lib/errors.js';

const RTMIN = 34;
const RTMAX = 64;
/** Aliases runc does not know: their number is sent instead. */
const ALIASES = new Set(['SIGIOT', 'SIGPOLL', 'SIGCLD']);
/** Linux names Node's os.constants lacks (Kubernetes' list has SIGCLD, glibc's SIGCHLD). */
const UNLISTED: Record<string, number> = { SIGCLD: 17 };

function refuse(raw: string, image: string): BerthError {
  return new BerthError(
    'ERR_IMAGE_STOPSIGNAL',
    'invalid',
    `image "${image}" has StopSignal "${raw}", which is not a signal (a name like SIGTERM, SIGRTMIN+3, or a number from 1 to 64)`,
  );
}

/** The signal to record and send for `raw` (undefined or empty: SIGTERM), as runc accepts it. */
export function stopSignalFor(raw: string | undefined, image: string): string {
  if (raw === undefined || raw.trim() === '') return 'SIGTERM';
  const text = raw.trim().toUpperCase();
  let n: number | undefined;
  if (/^[0-9]{1,3}$/.test(text)) n = Number(text);
  else {
    const name = text.startsWith('SIG') ? text : `SIG${text}`;
    const rt = /^SIGRT(MIN|MAX)(?:([+-])([0-9]{1,2}))?$/.exec(name);
    if (rt) {
      const offset = rt[2] ? Number(rt[3]) * (rt[2] === '+' ? 1 : -1) : 0;
      if ((rt[1] === 'MIN' && offset < 0) || (rt[1] === 'MAX' && offset > 0)) throw refuse(raw, image);
      n = (rt[1] === 'MIN' ? RTMIN : RTMAX) + offset;
    } else {
      const known = (constants.signals as Record<string, number>)[name] ?? UNLISTED[name];
      if (known === undefined) throw refuse(raw, image);
      if (!ALIASES.has(name)) return name;
      n = known;
    }
  }
  if (n < 1 || n > RTMAX) throw refuse(raw, image);
  const named = Object.entries(constants.signals as Record<string, number>).find(
    ([k, v]) => v === n && !ALIASES.has(k),
  );
  return named ? named[0] : String(n);
}
