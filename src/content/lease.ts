// Leases: `ingest/leases/<pid>-<rand>.lease`, one digest a line, written before the digest is
// written or relied on. GC treats content named in a live process's lease as in use; a lease whose
// process is gone is stale and is deleted.
import { randomBytes } from 'node:crypto';
import { appendFile, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode } from '../lib/errors.js';
import { isProcessAlive } from '../lib/process.js';
import type { Digest } from '../oci/digest.js';
import type { StorePaths } from './paths.js';
import type { Lease } from './types.js';

export async function createLeaseFile(paths: StorePaths, pid: number): Promise<Lease> {
  const file = join(paths.leases, `${pid}-${randomBytes(4).toString('hex')}.lease`);
  await writeFile(file, '', { flag: 'wx' });
  let released = false;
  return {
    async add(digest: Digest) {
      if (!released) await appendFile(file, `${digest}\n`);
    },
    async release() {
      released = true;
      await rm(file, { force: true });
    },
  };
}

export interface LiveLeases {
  pids: number[];
  digests: Set<string>;
}

/** Read every lease; delete those of dead processes. */
export async function readLiveLeases(paths: StorePaths, isAlive = isProcessAlive): Promise<LiveLeases> {
  const out: LiveLeases = { pids: [], digests: new Set() };
  let names: string[];
  try {
    names = await readdir(paths.leases);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return out;
    throw err;
  }
  for (const name of names) {
    const m = /^(\d+)-[a-f0-9]+\.lease$/.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    const file = join(paths.leases, name);
    if (!isAlive(pid)) {
      await rm(file, { force: true });
      continue;
    }
    out.pids.push(pid);
    try {
      for (const line of (await readFile(file, 'utf8')).split('\n')) if (line) out.digests.add(line);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
  }
  return out;
}
