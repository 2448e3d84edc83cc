// The deepest flow nesting (`[` and `{` inside each other) a YAML text may have: go-yaml's bound
// (v2 from 2.2.8 and v3 refuse "exceeded max depth of 10000", CVE-2019-11254), so a cluster's reader
// refuses such a file too. The yaml library would take it, at some 7 s of CPU for a million levels
// (a 2 MB file) on the daemon's one thread. Only a text with that many brackets at all is lexed,
// with the yaml library's own lexer, so quotes, comments and block scalars count as YAML reads them.
// Pure.
import { Lexer } from 'yaml';

export const MAX_FLOW_DEPTH = 10_000;

/** The lexer's zero-width markers (document, scalar, flow error end): no text of the source. */
const MARKERS = new Set(['\x02', '\x18', '\x1f']);

/** Where in `text` the first flow collection past MAX_FLOW_DEPTH opens (a string offset), if any. */
export function tooDeepAt(text: string): number | undefined {
  let brackets = 0;
  for (let i = text.indexOf('['); i !== -1; i = text.indexOf('[', i + 1)) brackets++;
  for (let i = text.indexOf('{'); i !== -1; i = text.indexOf('{', i + 1)) brackets++;
  if (brackets <= MAX_FLOW_DEPTH) return undefined;
  let depth = 0;
  let offset = 0;
  for (const token of new Lexer().lex(text)) {
    if (token === '[' || token === '{') {
      if (++depth > MAX_FLOW_DEPTH) return offset;
    } else if (token === ']' || token === '}') depth = Math.max(0, depth - 1);
    if (!MARKERS.has(token)) offset += token.length;
  }
  return undefined;
}
