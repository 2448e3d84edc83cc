// The deepest nesting a YAML text may have: go-yaml's bounds (v2 from 2.2.8 and v3 refuse "exceeded
// max depth of 10000", CVE-2019-11254), so a cluster's reader refuses such a file too. Two kinds:
// flow collections (`[` and `{` inside each other, go-yaml's max_flow_level) and block collections
// opened on one line (`- - - x`, `? ? k`: go-yaml's max_indents). The yaml library would take both,
// at some 7–8 s of CPU for a million or two million levels (a 2–4 MB file) on the daemon's one thread,
// and past some 10,000 block levels ends in "Maximum call stack size exceeded". Only a text that
// could be that deep at all (that many brackets, or a line that long: a block level takes at least
// one column) is lexed, with the yaml library's own lexer, so quotes, comments and block scalars
// count as YAML reads them. Pure.
import { Lexer } from 'yaml';

export const MAX_FLOW_DEPTH = 10_000;
export const MAX_BLOCK_DEPTH = 10_000;

/** The lexer's zero-width markers (document, scalar, flow error end): no text of the source. */
const MARKERS = new Set(['\x02', '\x18', '\x1f']);
/** Block indicators: a sequence item, an explicit key, a mapping value. */
const BLOCK = new Set(['-', '?', ':']);

export type TooDeep = { offset: number; kind: 'flow' | 'block' };

/** Where in `text` the first collection past go-yaml's bounds opens (a string offset), if any. */
export function tooDeepAt(text: string): TooDeep | undefined {
  if (!manyBrackets(text) && !longLine(text)) return undefined;
  let flow = 0;
  let block = 0; // block indicators on the current line, outside flow collections
  let offset = 0;
  for (const token of new Lexer().lex(text)) {
    if (token === '[' || token === '{') {
      if (++flow > MAX_FLOW_DEPTH) return { offset, kind: 'flow' };
    } else if (token === ']' || token === '}') flow = Math.max(0, flow - 1);
    else if (token === '\n' || token === '\r\n') block = 0;
    else if (flow === 0 && BLOCK.has(token) && ++block > MAX_BLOCK_DEPTH) return { offset, kind: 'block' };
    if (!MARKERS.has(token)) offset += token.length;
  }
  return undefined;
}

function manyBrackets(text: string): boolean {
  let brackets = 0;
  for (let i = text.indexOf('['); i !== -1; i = text.indexOf('[', i + 1)) brackets++;
  for (let i = text.indexOf('{'); i !== -1; i = text.indexOf('{', i + 1)) brackets++;
  return brackets > MAX_FLOW_DEPTH;
}

function longLine(text: string): boolean {
  let start = 0;
  for (let nl = text.indexOf('\n'); ; nl = text.indexOf('\n', start)) {
    const end = nl === -1 ? text.length : nl;
    if (end - start > MAX_BLOCK_DEPTH) return true;
    if (nl === -1) return false;
    start = nl + 1;
  }
}
