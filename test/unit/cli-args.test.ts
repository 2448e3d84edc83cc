import { describe, expect, it } from 'vitest';
import { parseCommandArgs, splitCommandPath } from '../../src/cli/args.js';
import { formatAge, formatSize, renderTable } from '../../src/cli/output.js';
import { hasCode } from '../../src/lib/errors.js';

describe('splitCommandPath', () => {
  it.each([
    [['image', 'pull', 'busybox'], ['image', 'pull'], ['busybox']],
    [
      ['--root', '/r', 'image', 'ls'],
      ['image', 'ls'],
      ['--root', '/r'],
    ],
    [
      ['image', '--root=/r', 'ls', '-o', 'json'],
      ['image', 'ls'],
      ['--root=/r', '-o', 'json'],
    ],
    [
      ['image', 'pull', '--platform', 'linux/arm64', 'x'],
      ['image', 'pull'],
      ['--platform', 'linux/arm64', 'x'],
    ],
  ])('%j', (argv, path, rest) => {
    expect(splitCommandPath(argv, 2)).toEqual({ path, rest });
  });
});

describe('parseCommandArgs', () => {
  it('merges global and command flags, with env defaults', () => {
    const a = parseCommandArgs(
      ['x', '--platform', 'linux/arm64', '-o', 'json'],
      { platform: { type: 'string' } },
      {
        BERTH_ROOT: '/env/root',
      },
    );
    expect(a.global).toMatchObject({ root: '/env/root', state: '/run/berth', output: 'json' });
    expect(a.values.platform).toBe('linux/arm64');
    expect(a.positionals).toEqual(['x']);
  });

  it('leaves -o to a command that owns it (image export -o FILE); --output stays global', () => {
    const a = parseCommandArgs(
      ['img', '-o', 'out.tar', '--output', 'json'],
      { file: { type: 'string', short: 'o' } },
      {},
    );
    expect([a.values.file, a.global.output, a.positionals]).toEqual(['out.tar', 'json', ['img']]);
  });

  it('rejects unknown flags and bad output formats with ERR_USAGE', () => {
    for (const argv of [['--frobnicate'], ['--output', 'yaml']]) {
      let caught: unknown;
      try {
        parseCommandArgs(argv, {}, {});
      } catch (err) {
        caught = err;
      }
      expect(hasCode(caught, 'ERR_USAGE')).toBe(true);
    }
  });
});

describe('output', () => {
  it('formats sizes and ages', () => {
    expect(formatSize(999)).toBe('999 B');
    expect(formatSize(1_500)).toBe('1.5 kB');
    expect(formatSize(52_000_000)).toBe('52 MB');
    const now = new Date('2026-01-01T12:00:00Z');
    expect(formatAge(now, undefined)).toBe('-');
    expect(formatAge(now, '2026-01-01T11:59:58Z')).toBe('just now');
    expect(formatAge(now, '2026-01-01T11:00:00Z')).toBe('1 hour ago');
    expect(formatAge(now, '2025-12-29T12:00:00Z')).toBe('3 days ago');
  });

  it('aligns table columns', () => {
    expect(
      renderTable(
        ['ID', 'NAME'],
        [
          ['abc', 'x'],
          ['a', 'longer'],
        ],
      ),
    ).toBe('ID    NAME\nabc   x\na     longer\n');
  });
});
