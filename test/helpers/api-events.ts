// The reasons of the events a daemon recorded doing for one object through its API (`via: api`),
// read back with `berth events` through the caller's CLI (its root and state): nothing without a daemon.
import type { CliResult } from './cli.js';

export async function apiEventReasons(
  cli: (...args: string[]) => Promise<CliResult>,
  name: string,
): Promise<string[]> {
  const res = await cli(
    'events',
    '--until',
    new Date().toISOString(),
    '--filter',
    `object=${name}`,
    '-o',
    'json',
  );
  return res.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { reason: string; attributes?: { via?: string } })
    .filter((e) => e.attributes?.via === 'api')
    .map((e) => e.reason);
}
