// A value's JSON fed to a hash piece by piece: the very bytes JSON.stringify writes (so a digest of
// it is the digest of JSON.stringify's string), without ever making that one string. A pod whose
// JSON is past the longest string V8 makes (about 2^29 characters) is then hashed, not a RangeError
// ("Invalid string length") that ends the pass. Small pieces are gathered before each update.
import type { Hash } from 'node:crypto';

const FLUSH_AT = 65_536;

/** `hash` updated with the JSON of `value`, as JSON.stringify(value) writes it; returns `hash`. */
export function updateJson(hash: Hash, value: unknown): Hash {
  let pending = '';
  const write = (piece: string) => {
    if (piece.length >= FLUSH_AT) {
      hash.update(pending);
      pending = '';
      hash.update(piece);
      return;
    }
    pending += piece;
    if (pending.length >= FLUSH_AT) {
      hash.update(pending);
      pending = '';
    }
  };
  writeValue(write, value, '');
  hash.update(pending);
  return hash;
}

/** What JSON.stringify escapes in a string: quote, backslash, controls, and (lone) surrogates. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** What JSON.stringify leaves out of an object (and writes as null in an array). */
const omitted = (v: unknown) => v === undefined || typeof v === 'function' || typeof v === 'symbol';

/** Writes `value` (found under `key`) and says whether it wrote anything (false: omitted). */
function writeValue(write: (piece: string) => void, raw: unknown, key: string): boolean {
  let value = raw;
  if (value !== null && (typeof value === 'object' || typeof value === 'bigint')) {
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') value = toJSON.call(value, key);
  }
  if (omitted(value)) return false;
  if (typeof value === 'string' && !NEEDS_ESCAPE.test(value)) {
    write('"'); // as JSON.stringify writes it, without its copy (escaping is then a no-op)
    write(value);
    write('"');
    return true;
  }
  if (value === null || typeof value !== 'object' || isBoxed(value)) {
    write(JSON.stringify(value) as string); // one primitive: at most one string's length
    return true;
  }
  if (Array.isArray(value)) {
    write('[');
    value.forEach((item, i) => {
      if (i > 0) write(',');
      if (!writeValue(write, item, String(i))) write('null');
    });
    write(']');
    return true;
  }
  write('{');
  let first = true;
  for (const k of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[k];
    const shown = v !== null && typeof v === 'object' ? true : !omitted(v);
    if (!shown) continue;
    write(first ? `${JSON.stringify(k)}:` : `,${JSON.stringify(k)}:`);
    first = false;
    writeValue(write, v, k);
  }
  write('}');
  return true;
}

const isBoxed = (v: object) => v instanceof Number || v instanceof String || v instanceof Boolean;
