// Rendering for people (aligned tables, sizes, ages) and for scripts (JSON). Pure.
import { printable } from '../lib/printable.js';

export function formatSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return u === 0 ? `${v} B` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

export function formatAge(now: Date, iso: string | undefined): string {
  if (!iso) return '-';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '-';
  const s = Math.max(0, Math.round((now.getTime() - t) / 1000));
  if (s < 60) return s < 5 ? 'just now' : `${s} seconds ago`;
  const steps: Array<[number, string]> = [
    [60, 'minute'],
    [3600, 'hour'],
    [86400, 'day'],
    [86400 * 30, 'month'],
    [86400 * 365, 'year'],
  ];
  let label = 'minute';
  let unit = 60;
  for (const [secs, name] of steps) {
    if (s >= secs) {
      unit = secs;
      label = name;
    }
  }
  const n = Math.floor(s / unit);
  return `${n} ${label}${n === 1 ? '' : 's'} ago`;
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** Left-aligned columns separated by three spaces, headers upper-case; control characters escaped. */
export function renderTable(headers: string[], table: string[][]): string {
  const rows = table.map((r) => r.map(printable));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('   ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

export function renderJson(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}
