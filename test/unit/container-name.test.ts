// The one rule for a container's name (src/runtime/container-name.ts): up to 191 characters for a
// pod's container (`<namespace>.<pod>_<container>`, three DNS labels), up to 63 when the name is
// also the hostname (every standalone container); never a path: '/', NUL, dots alone are refused.
import { describe, expect, it } from 'vitest';
import { checkContainerName, isContainerName } from '../../src/runtime/container-name.js';

const refusal = (name: string, hostname?: string) => {
  try {
    checkContainerName(name, hostname);
    return 'accepted';
  } catch (err) {
    return `${(err as { code: string }).code}: ${(err as Error).message}`;
  }
};

describe('container names', () => {
  it('a standalone container (its name is its hostname) takes 63 characters, not 64', () => {
    expect(refusal('a'.repeat(63))).toBe('accepted');
    expect(refusal('a'.repeat(64))).toBe(
      `ERR_CONTAINER_INVALID: container name "${'a'.repeat(64)}" is 64 characters; at most 63 fit: it is also its hostname`,
    );
  });

  it("a pod's container (a hostname of its own) takes three DNS labels: 191 characters, not 192", () => {
    const longest = `${'n'.repeat(63)}.${'p'.repeat(63)}_${'c'.repeat(63)}`;
    expect(refusal(longest, 'p')).toBe('accepted');
    expect(isContainerName(longest)).toBe(true);
    expect(refusal(`${longest}x`, 'p')).toBe(
      `ERR_CONTAINER_INVALID: container name "${longest}x" is 192 characters; at most 191 fit`,
    );
    expect(isContainerName(`${longest}x`)).toBe(false);
  });

  it.each(['', '.', '..', '../x', 'a/b', '/abs', 'a\0b', '-x', '_x', '.x', 'a b', 'a\nb', 'é'])(
    '%j is never a name, whatever its hostname',
    (name) => {
      expect(isContainerName(name)).toBe(false);
      expect(refusal(name)).toMatch(/^ERR_CONTAINER_INVALID: container name ".*" must be letters, digits/s);
      expect(refusal(name, 'h')).toMatch(/^ERR_CONTAINER_INVALID: /);
    },
  );
});
