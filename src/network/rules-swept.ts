// Whether this root has read the host's rules for a network (and deleted its stray port rules:
// stray-port-rules.ts) since the host booted. Strays come from a ruleset saved while a pod ran and
// restored at boot, or from a --state wiped while its rules stayed: after either, this file is gone
// or names another boot, and the next attach reads the rules and sweeps them before its own are
// made. Until then an attach reads no rules: one restore checks (`-C`) that the network's rules are
// there and makes the pod's (adapter.ts). A ruleset restored later, under a running berth, is the
// daemon's check's to find (rules-repair.ts). Kept under --state (wiped with it), not with the
// network's records (gone with its last holder).
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bootId } from '../lib/process.js';

export interface RulesSwept {
  /** Swept on this boot, by this root. */
  current(): boolean;
  /** Notes a sweep on this boot. */
  note(): Promise<void>;
}

export function rulesSweptOf(state: string, network: string): RulesSwept {
  const dir = join(state, 'network-swept');
  const file = join(dir, Buffer.from(network).toString('hex'));
  return {
    current() {
      if (!existsSync(file)) return false;
      try {
        return readFileSync(file, 'utf8').trim() === bootId();
      } catch {
        return false;
      }
    },
    async note() {
      // Not synced: lost or cut short, the next attach reads the rules again.
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await writeFile(file, `${bootId()}\n`);
    },
  };
}
