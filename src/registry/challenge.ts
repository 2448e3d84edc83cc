// WWW-Authenticate parsing (RFC 7235): one header may hold several challenges, each a scheme
// followed by a token68 or by comma-separated `name=value` / `name="quoted \"value\""`
// parameters. Pure.

export interface Challenge {
  /** Lower-cased: `bearer`, `basic`, … */
  scheme: string;
  /** Parameter names lower-cased. */
  params: Record<string, string>;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/;
const PARAM = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s"]+)/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*(?=\s*(?:,|$))/;

function unquote(v: string): string {
  return v.startsWith('"') ? v.slice(1, -1).replace(/\\(.)/g, '$1') : v;
}

export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  if (Array.isArray(header)) return header.flatMap((h) => parseChallenges(h));
  const out: Challenge[] = [];
  let s = header;
  let current: Challenge | undefined;
  for (;;) {
    s = s.replace(/^[\s,]+/, '');
    if (s === '') break;
    const param = current ? PARAM.exec(s) : null;
    if (current && param) {
      current.params[(param[1] as string).toLowerCase()] = unquote(param[2] as string);
      s = s.slice(param[0].length);
      continue;
    }
    const scheme = TOKEN.exec(s);
    if (!scheme) break; // garbage: keep what was understood
    current = { scheme: scheme[0].toLowerCase(), params: {} };
    out.push(current);
    s = s.slice(scheme[0].length);
    const rest = s.replace(/^\s+/, '');
    const t68 = rest !== s ? TOKEN68.exec(rest) : null;
    if (t68) s = rest.slice(t68[0].length);
  }
  return out;
}
