// A broken host config as a person sees it: one line per problem, each with its position and its
// code once (the code was repeated in front of the first line, and the rest had no `berth:`).
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import { removeTempRoot } from '../helpers/temp-root.js';

describe('host config errors', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-config-errors-'));
  });
  afterAll(async () => {
    await removeTempRoot(work);
  });

  it('one line per problem, the code once on each', async () => {
    const config = join(work, 'config.yaml');
    await writeFile(config, 'pull:\n  retries: -1\n  bogus: 1\nunpack:\n  snapshotter: weird\n');
    const r = await runBerth([
      '--config',
      config,
      '--root',
      join(work, 'root'),
      '--state',
      join(work, 'state'),
      'image',
      'ls',
    ]);
    expect([r.code, r.stdout, r.stderr]).toEqual([
      2,
      '',
      `berth: ${config}:3:3: ERR_CONFIG_INVALID: unknown field pull.bogus\n` +
        `berth: ${config}:2:12: ERR_CONFIG_INVALID: pull.retries must be >= 0\n` +
        `berth: ${config}:5:16: ERR_CONFIG_INVALID: unpack.snapshotter must be one of auto, overlay, native\n`,
    ]);
  });

  it('a syntax error is one line with its own code', async () => {
    const config = join(work, 'syntax.yaml');
    await writeFile(config, 'pull: [1\n');
    const r = await runBerth([
      '--config',
      config,
      '--root',
      join(work, 'root'),
      '--state',
      join(work, 'state'),
      'image',
      'ls',
    ]);
    expect(r.code).toBe(2);
    expect(
      r.stderr
        .split('\n')
        .filter(Boolean)
        .map((l) => l.replace(/: ERR_YAML_SYNTAX: .*/, '')),
    ).toEqual([`berth: ${config}:2:1`]);
  });

  it('logs.maxFiles: a count from 0 to 100, one line for each bad value', async () => {
    const config = join(work, 'logs.yaml');
    const run = () =>
      runBerth([
        '--config',
        config,
        '--root',
        join(work, 'root'),
        '--state',
        join(work, 'state'),
        'image',
        'ls',
      ]);
    for (const [value, why] of [
      ['-1', 'logs.maxFiles must be >= 0'],
      ['101', 'logs.maxFiles must be <= 100'],
      ['2.5', 'logs.maxFiles must be integer'],
      ['many', 'logs.maxFiles must be integer'],
    ]) {
      await writeFile(config, `logs:\n  maxFiles: ${value}\n`);
      const r = await run();
      expect([value, r.code, r.stdout, r.stderr]).toEqual([
        value,
        2,
        '',
        `berth: ${config}:2:13: ERR_CONFIG_INVALID: ${why}\n`,
      ]);
    }
    await writeFile(config, 'logs:\n  maxFiles: 0\n');
    expect((await run()).code).toBe(0);
  });
});
