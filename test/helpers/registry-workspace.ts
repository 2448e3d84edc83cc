// A loopback registry and a temp dir for one test file, the pair most image tests start with:
// started before the file's tests (unless `skip` says its prerequisites are missing), stopped and
// removed after them.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startRegistry, type TestRegistry } from './registry.js';
import { removeTempRoot } from './temp-root.js';

export interface RegistryWorkspace {
  registry: TestRegistry;
  /** A temp dir of the file's own (`prefix` + random). */
  work: string;
}

export function registryWorkspace(prefix: string, skip: unknown): RegistryWorkspace {
  const ws = {} as RegistryWorkspace;
  beforeAll(async () => {
    if (skip) return;
    ws.registry = await startRegistry();
    ws.work = await mkdtemp(join(tmpdir(), prefix));
  }, 60_000);
  afterAll(async () => {
    await ws.registry?.stop();
    if (ws.work) await removeTempRoot(ws.work);
  });
  return ws;
}
