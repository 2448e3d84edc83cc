import { mkdirSync, mkdtempSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildInputsOf, distIsFresh, recordBuild } from '../helpers/build-fresh.js';

describe('distIsFresh: whether a test run must build the CLI again', () => {
  let repo: string;
  const at = (path: string, seconds: number) => utimesSync(join(repo, path), seconds, seconds);
  const INPUTS = [
    'src/lib/a.ts',
    'src/lib',
    'src',
    'schemas/pod.json',
    'schemas',
    'scripts/bundle.mjs',
    'package.json',
  ];
  beforeEach(() => {
    repo = mkdtempSync(join(tmpdir(), 'berth-build-fresh-'));
    for (const d of ['src/lib', 'schemas', 'scripts', 'dist/cli'])
      mkdirSync(join(repo, d), { recursive: true });
    for (const f of [
      'src/lib/a.ts',
      'schemas/pod.json',
      'scripts/bundle.mjs',
      'package.json',
      'dist/cli/berth.mjs',
    ])
      writeFileSync(join(repo, f), 'x');
    for (const p of INPUTS) at(p, 1000);
  });
  afterEach(() => rmSync(repo, { recursive: true, force: true }));

  it('is fresh once a build recorded the inputs as they are; never before one', () => {
    expect(distIsFresh(repo, {})).toBe(false);
    recordBuild(repo, buildInputsOf(repo));
    expect(distIsFresh(repo, {})).toBe(true);
  });

  it('is stale when a source deep in src, a schema or the bundler changed after the build started', () => {
    const started = buildInputsOf(repo);
    for (const p of ['src/lib/a.ts', 'schemas/pod.json', 'scripts/bundle.mjs', 'package.json']) {
      writeFileSync(join(repo, p), 'y'); // edited while the build ran: the bundle has what it read before
      recordBuild(repo, started);
      expect(distIsFresh(repo, {}), p).toBe(false);
      writeFileSync(join(repo, p), 'x');
    }
  });

  it('is stale when a changed source has its old modification time back (cp -p, rsync -t, tar), fresh when only touched', () => {
    recordBuild(repo, buildInputsOf(repo));
    writeFileSync(join(repo, 'src/lib/a.ts'), 'y');
    at('src/lib/a.ts', 1000);
    at('src/lib', 1000);
    expect(distIsFresh(repo, {})).toBe(false);
    writeFileSync(join(repo, 'src/lib/a.ts'), 'x');
    at('src/lib/a.ts', 5000); // saved again unchanged: nothing to build
    expect(distIsFresh(repo, {})).toBe(true);
  });

  it('is stale when a source was added, deleted or renamed, or the bundle is gone', () => {
    recordBuild(repo, buildInputsOf(repo));
    writeFileSync(join(repo, 'src/lib/b.ts'), '');
    expect(distIsFresh(repo, {})).toBe(false);
    rmSync(join(repo, 'src/lib/b.ts'));
    expect(distIsFresh(repo, {})).toBe(true);
    renameSync(join(repo, 'src/lib/a.ts'), join(repo, 'src/lib/c.ts'));
    expect(distIsFresh(repo, {})).toBe(false);
    renameSync(join(repo, 'src/lib/c.ts'), join(repo, 'src/lib/a.ts'));
    expect(distIsFresh(repo, {})).toBe(true);
    rmSync(join(repo, 'src/lib/a.ts'));
    expect(distIsFresh(repo, {})).toBe(false);
    writeFileSync(join(repo, 'src/lib/a.ts'), 'x');
    rmSync(join(repo, 'dist/cli/berth.mjs'));
    expect(distIsFresh(repo, {})).toBe(false);
  });

  it('builds anyway with BERTH_TEST_BUILD=always', () => {
    recordBuild(repo, buildInputsOf(repo));
    expect(distIsFresh(repo, { BERTH_TEST_BUILD: 'always' })).toBe(false);
  });
});
