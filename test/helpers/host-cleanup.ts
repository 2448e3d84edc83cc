// Leaving the host as a test file found it, the way users remove pods: each folder's manifests
// deleted and the folder applied (an apply prunes only its own folder's pods), then whatever
// container is left removed by force, then every mount under the test's directory unmounted. It
// returns what was left and what leaked, for the caller to assert empty AFTER everything else is
// cleaned up, so a failed run still leaves nothing behind.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { CliResult } from './cli.js';
import { mountsUnder } from './leaks.js';
import { unmountUnder } from './temp-root.js';

export interface HostCleanup {
  /** `berth` with the test's --root and --state. */
  berth(...args: string[]): Promise<CliResult>;
  /** The test's directory: every mount under it is one that leaked. */
  work: string;
  /** Manifest folders the test applied. */
  folders: string[];
  /** Remove containers by force before applying (pods left mid-test may ignore SIGTERM for long). */
  forceFirst?: boolean;
}

async function containerNames(berth: HostCleanup['berth']): Promise<string[]> {
  const out = (await berth('container', 'ls', '-o', 'json')).stdout || '[]';
  return (JSON.parse(out) as Array<{ name: string }>).map((c) => c.name);
}

async function removeAll(berth: HostCleanup['berth'], names: string[]): Promise<void> {
  for (const name of [...names].reverse()) await berth('container', 'rm', '--force', name);
}

export async function cleanUpHost(o: HostCleanup): Promise<{ left: string[]; leaked: string[] }> {
  if (o.forceFirst) await removeAll(o.berth, await containerNames(o.berth));
  for (const dir of o.folders) {
    const files = await readdir(dir).catch(() => undefined);
    if (!files) continue;
    for (const f of files) await rm(join(dir, f), { recursive: true, force: true });
    await o.berth('apply', dir).catch(() => undefined);
  }
  const left = await containerNames(o.berth);
  await removeAll(o.berth, left);
  const leaked = mountsUnder(o.work);
  unmountUnder(o.work); // lazily: a busy mount must not stop the cleanup
  return { left, leaked };
}
