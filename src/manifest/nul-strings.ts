// A NUL character in any string of a document: no path, argument, environment variable, name or
// file content the host takes can hold one (execve and every path call end the string there), so
// it would be cut short or refused only when the container is made; it is a diagnostic of its file
// here instead, at its node. The first few are said. Pure.
import type { Diagnostic } from '../lib/yaml-validate.js';
import { at, type ParsedDoc } from './position.js';

const SAID = 5;

export function checkNulStrings(p: ParsedDoc): Diagnostic[] {
  const out: Diagnostic[] = [];
  const walk = (v: unknown, path: Array<string | number>) => {
    if (out.length >= SAID) return;
    if (typeof v === 'string') {
      if (v.includes('\0'))
        out.push(at(p, path, 'ERR_MANIFEST_INVALID', `${path.join('.')} contains a NUL character`));
    } else if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) walk(x, [...path, i]);
    } else if (v !== null && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) {
        if (k.includes('\0'))
          out.push(
            at(
              p,
              path,
              'ERR_MANIFEST_INVALID',
              `a key in ${path.join('.') || 'the document'} contains a NUL character`,
            ),
          );
        walk(x, [...path, k]);
      }
  };
  walk(p.value, []);
  return out;
}
