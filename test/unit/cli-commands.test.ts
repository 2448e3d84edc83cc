// The command table (src/cli/commands/index.ts) repeats each command's path and summary so that
// `berth --help` and dispatch load no command module; every entry must load the command it names.
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands/index.js';
import { stateDirOf } from '../../src/cli/compile-cache.js';

describe('the command table', () => {
  it('loads, for every entry, a command with exactly its path and summary', async () => {
    const loaded = await Promise.all(COMMANDS.map((e) => e.load()));
    expect(loaded.map((c) => [c.path, c.summary])).toEqual(COMMANDS.map((e) => [e.path, e.summary]));
  });

  it('names each command once', () => {
    const paths = COMMANDS.map((e) => e.path.join(' '));
    expect(new Set(paths).size).toBe(paths.length);
  });
});

describe('stateDirOf (where the compile cache goes, read before the CLI is loaded)', () => {
  it('reads --state DIR and --state=DIR as args.ts does, the last one winning', () => {
    expect(stateDirOf(['--state', '/s1', 'image', 'ls'], {})).toBe('/s1');
    expect(stateDirOf(['image', 'ls', '--state=/s2'], {})).toBe('/s2');
    expect(stateDirOf(['--state', '/s1', 'ps', '--state=/s2'], {})).toBe('/s2');
  });

  it('ignores what follows --: a container command may say --state', () => {
    expect(stateDirOf(['container', 'create', 'img', 'c', '--', 'sh', '--state', '/x'], {})).toBe(
      '/run/berth',
    );
  });

  it('falls back to $BERTH_STATE, then /run/berth; a trailing --state without a value is no value', () => {
    expect(stateDirOf(['ps'], { BERTH_STATE: '/e' })).toBe('/e');
    expect(stateDirOf(['ps', '--state'], {})).toBe('/run/berth');
    expect(stateDirOf(['ps', '--state='], {})).toBe('/run/berth');
  });
});
