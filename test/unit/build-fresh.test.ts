import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
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
      at(p, 3000); // edited while the build ran: older than the bundle, newer than what it read
      recordBuild(repo, started);
      expect(distIsFresh(repo, {}), p).toBe(false);
      at(p, 1000);
    }
  });

  it('is stale when a source was deleted (its folder changed) or the bundle is gone', () => {
    recordBuild(repo, buildInputsOf(repo));
    at('src/lib', 3000);
    expect(distIsFresh(repo, {})).toBe(false);
    at('src/lib', 1000);
    expect(distIsFresh(repo, {})).toBe(true);
    rmSync(join(repo, 'dist/cli/berth.mjs'));
    expect(distIsFresh(repo, {})).toBe(false);
  });

  it('builds anyway with BERTH_TEST_BUILD=always', () => {
    recordBuild(repo, buildInputsOf(repo));
    expect(distIsFresh(repo, { BERTH_TEST_BUILD: 'always' })).toBe(false);
  });
});
