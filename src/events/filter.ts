// Which events a reader wants: `--since`/`--until` (a duration back from now, `10m`, `1h30m`, or an
// RFC 3339 time) and `--filter KEY=VALUE` (pod, type, reason, object; several keys must all match,
// one key given twice matches either value, as `docker events` does). Pure: `now` is passed in.
import { BerthError } from '../lib/errors.js';
import type { BerthEvent } from './event.js';

export interface EventQuery {
  /** ms epoch, inclusive. */
  since?: number;
  /** ms epoch, inclusive. */
  until?: number;
  /** key → accepted values. */
  filters?: Map<string, Set<string>>;
}

const FILTER_KEYS = new Set(['pod', 'type', 'reason', 'object']);
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * Where a query comes from: the CLI's flags (`--since`, ERR_USAGE) or the API's query parameters
 * (`since`, ERR_API_BAD_QUERY), so a refusal names what its reader wrote.
 */
export type QuerySource = 'flag' | 'query';

function badQuery(source: QuerySource, name: string, value: string, why: string, hint?: string): BerthError {
  const shown = `${name} ${JSON.stringify(value)}: ${why}`;
  return source === 'flag'
    ? new BerthError('ERR_USAGE', 'invalid', shown, hint ? { hint } : {})
    : new BerthError('ERR_API_BAD_QUERY', 'invalid', `query parameter ${shown}`, hint ? { hint } : {});
}

/** `10m`, `1h30m`, `90s` back from `now`, or an RFC 3339 time; ms epoch. */
export function parseEventTime(
  text: string,
  now: number,
  name = '--since',
  source: QuerySource = 'flag',
): number {
  const t = text.trim();
  if (/^(\d+(ms|s|m|h|d))+$/.test(t)) {
    let ms = 0;
    for (const [, n, unit] of t.matchAll(/(\d+)(ms|s|m|h|d)/g))
      ms += Number(n) * (UNIT_MS[unit as string] ?? 0);
    return now - ms;
  }
  if (RFC3339.test(t)) {
    const at = Date.parse(t);
    if (Number.isFinite(at)) return at;
  }
  const why = `not ${source === 'query' ? 'ms since the epoch, ' : ''}a duration (10m) or an RFC 3339 time`;
  throw badQuery(source, name, t, why);
}

/** `pod=web` strings → filters. */
export function parseEventFilters(
  given: readonly string[],
  source: QuerySource = 'flag',
): Map<string, Set<string>> {
  const filters = new Map<string, Set<string>>();
  for (const f of given) {
    const eq = f.indexOf('=');
    const key = eq > 0 ? f.slice(0, eq) : '';
    if (!FILTER_KEYS.has(key) || eq === f.length - 1) {
      const name = source === 'flag' ? '--filter' : 'filter';
      throw badQuery(source, name, f, 'expected KEY=VALUE', `keys: ${[...FILTER_KEYS].join(', ')}`);
    }
    const values = filters.get(key) ?? new Set<string>();
    values.add(f.slice(eq + 1));
    filters.set(key, values);
  }
  return filters;
}

function fieldOf(e: BerthEvent, key: string): string | undefined {
  if (key === 'pod') {
    const pod = e.attributes?.pod;
    return pod === undefined ? (e.type === 'pod' ? e.object : undefined) : String(pod);
  }
  if (key === 'type') return e.type;
  if (key === 'reason') return e.reason;
  if (key === 'object') return e.object;
  return undefined;
}

export function matchesEvent(e: BerthEvent, q: EventQuery): boolean {
  const at = Date.parse(e.time);
  if (q.since !== undefined && !(at >= q.since)) return false;
  if (q.until !== undefined && !(at <= q.until)) return false;
  for (const [key, values] of q.filters ?? []) {
    const v = fieldOf(e, key);
    if (v === undefined || !values.has(v)) return false;
  }
  return true;
}

/** A query as URL parameters (the CLI → `GET /v1/events`), times as ms epoch. */
export function eventQueryParams(q: EventQuery): URLSearchParams {
  const p = new URLSearchParams();
  if (q.since !== undefined) p.set('since', String(q.since));
  if (q.until !== undefined) p.set('until', String(q.until));
  for (const [key, values] of q.filters ?? []) for (const v of values) p.append('filter', `${key}=${v}`);
  return p;
}

/** URL parameters → a query; `since`/`until` as ms epoch, a duration or an RFC 3339 time. */
export function eventQueryOf(p: URLSearchParams, now: number): EventQuery {
  const time = (name: string) => {
    const v = p.get(name);
    if (v === null) return undefined;
    return /^\d+$/.test(v) ? Number(v) : parseEventTime(v, now, name, 'query');
  };
  return {
    since: time('since'),
    until: time('until'),
    filters: parseEventFilters(p.getAll('filter'), 'query'),
  };
}
