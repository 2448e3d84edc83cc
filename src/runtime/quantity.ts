// Resource quantities as users write them (Kubernetes style): memory `64Mi`, `1G`, `500000`;
// CPU `0.5` or `500m`; counts. Pure.
import { BerthError } from '../lib/errors.js';

const UNITS: Record<string, number> = {
  '': 1,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

function bad(what: string, text: string, example: string): BerthError {
  return new BerthError(
    'ERR_BAD_QUANTITY',
    'invalid',
    `${what} "${text}" is not a quantity (e.g. ${example})`,
  );
}

export function parseBytes(text: string, what = 'memory'): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)([kKMGT]i?|Ki|)$/.exec(text.trim());
  const unit = m ? UNITS[m[2] as string] : undefined;
  if (!m || unit === undefined) throw bad(what, text, '64Mi, 1G or 1048576');
  const bytes = Math.round(Number(m[1]) * unit);
  if (bytes <= 0) throw bad(what, text, '64Mi, 1G or 1048576');
  return bytes;
}

/** CPU in thousandths of a core. */
export function parseMilliCpus(text: string): number {
  const t = text.trim();
  const m = /^([0-9]+)m$/.exec(t);
  const milli = m ? Number(m[1]) : /^[0-9]+(\.[0-9]+)?$/.test(t) ? Math.round(Number(t) * 1000) : Number.NaN;
  if (!Number.isFinite(milli) || milli <= 0) throw bad('cpus', text, '0.5 or 500m');
  return milli;
}

export function parseCount(text: string, what: string): number {
  if (!/^[0-9]+$/.test(text.trim()) || Number(text) <= 0) throw bad(what, text, '100');
  return Number(text);
}
