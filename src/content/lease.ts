// Leases: `ingest/leases/<owner>-<rand>.lease` (owner: pid, start time and boot, lib/process.ts),
// one digest a line, written before the digest is written or relied on. GC treats content named in
// a live process's lease as in use; a lease whose process is gone is stale and is deleted, also
// when its pid now belongs to another process (after a reboot).
import { randomBytes } from 'node:crypto';
import { appendFile, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode } from '../lib/errors.js';
import { isOwnerAlive, OWNER_PATTERN, ownerPid } from '../lib/process.js';
import type { Digest } from '../oci/digest.js';
import type { StorePaths } from './paths.js';
import type { Lease } from './types.js';

export async function createLeaseFile(paths: StorePaths, owner: string): Promise<Lease> {
  const file = join(paths.leases, `${owner}-${randomBytes(4).toString('hex')}.lease`);
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

const LEASE_NAME = new RegExp(`^(${OWNER_PATTERN})-[a-f0-9]+\\.lease$`);

export interface LiveLeases {
  pids: number[];
  digests: Set<string>;
}

/** Read every lease; delete those of dead processes. */
export async function readLiveLeases(paths: StorePaths, isAlive = isOwnerAlive): Promise<LiveLeases> {
  const out: LiveLeases = { pids: [], digests: new Set() };
  let names: string[];
  try {
    names = await readdir(paths.leases);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return out;
    throw err;
  }
  for (const name of names) {
    const m = LEASE_NAME.exec(name);
    if (!m) continue;
    const owner = m[1] as string;
    const file = join(paths.leases, name);
    if (!isAlive(owner)) {
      await rm(file, { force: true });
      continue;
    }
    out.pids.push(ownerPid(owner));
    try {
      for (const line of (await readFile(file, 'utf8')).split('\n')) if (line) out.digests.add(line);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
  }
  return out;
}
