// Whether a holder may have its published ports, for the adapter: refused (ERR_PORT_CONFLICT,
// naming the port and who has it) when another of its root's holders has one, a host service
// listens on one (host-listeners.ts), or a holder of another root claimed one host-wide
// (host-ports.ts); its claim taken and given back, and the port rules of dead claims deleted from
// the host before the new holder's are made (portmap appends its jumps: a dead holder's DNAT for
// the port would come first).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { BerthError } from '../lib/errors.js';
import { type Attachment, cniIdOf } from './attachments.js';
import { describeListener, findShadowedListener, readHostListeners } from './host-listeners.js';
import {
  claimFileOf,
  claimPorts,
  describeClaimOwner,
  hostPortsDirOf,
  type PortClaim,
  releaseClaims,
} from './host-ports.js';
import type { Family, RulesSnapshot } from './iptables.js';
import { portRulesOfId } from './port-rules.js';
import { describePort, findPortConflict, type PortMapping } from './ports.js';
import type { NetworkTools } from './tools.js';

export function portConflict(
  message: string,
  hint = 'give one of the pods another hostPort or hostIP',
): BerthError {
  return new BerthError('ERR_PORT_CONFLICT', 'conflict', message, { hint });
}

/**
 * Why a holder may not have its ports, as its own root sees it: another of its holders (`others`)
 * has one, or (`listeners` given) a host service listens on one, whose traffic the DNAT would take.
 */
export async function portsRefusal(
  req: { owner: Attachment['owner']; ports: PortMapping[] },
  others: Attachment[],
  listeners: { dualStack: boolean } | undefined,
): Promise<BerthError | undefined> {
  const who = `${req.owner.kind} ${req.owner.name}`;
  const clash = findPortConflict(
    req.ports,
    others.map((a) => ({ owner: `${a.owner.kind} ${a.owner.name}`, ports: a.ports })),
  );
  if (clash)
    return portConflict(
      `${who}: host port ${describePort(clash.port)} is already published by ${clash.owner}`,
    );
  if (req.ports.length === 0 || !listeners) return undefined;
  const shadowed = findShadowedListener(req.ports, await readHostListeners(), listeners.dualStack);
  if (!shadowed) return undefined;
  return portConflict(
    `${who}: host port ${describePort(shadowed.port)} is in use on the host: a process listens on ${describeListener(shadowed.listener)}, and publishing the port would take its traffic`,
    "give the pod another hostPort or hostIP, or stop the host's service on it",
  );
}

/** The host's rules, read when first asked for (adapter: the attach's own reading). */
type Rules = () => Promise<Map<Family, RulesSnapshot>>;

export interface PortClaims {
  /**
   * Claims the holder's ports (none: gives back what it had); throws ERR_PORT_CONFLICT when a live
   * holder has one. Resolves once the dead claims' port rules (found in `rules`) are deleted.
   */
  claim(c: Omit<PortClaim, 'state' | 'network'>, rules: Rules, commit?: () => Promise<void>): Promise<void>;
  /** Whether the holder `key` has a claim (a holder of that key before, perhaps, with its record gone). */
  has(key: string): boolean;
  /** Gives back the claim of the holder `key` (none: the claims of every holder of this root and network). */
  release(key?: string): Promise<void>;
  /**
   * Claims the ports of ready holders that have no claim (set up by the version before claims):
   * what another root claimed meanwhile stays that root's; the holder keeps running as it was.
   */
  adopt(records: Attachment[], rules: Rules): Promise<void>;
}

export function portClaimsOf(o: {
  lockDir: string;
  state: string;
  network: string;
  tools: NetworkTools;
}): PortClaims {
  const state = resolve(o.state);
  const mine = (c: PortClaim) => c.state === state && c.network === o.network;
  const claim: PortClaims['claim'] = async (c, rules, commit) => {
    const out = await claimPorts(o.lockDir, { ...c, state, network: o.network }, commit);
    if (out.conflict) {
      const { port, claim } = out.conflict;
      throw portConflict(
        `${c.owner.kind} ${c.owner.name}: host port ${describePort(port)} is already published by ${describeClaimOwner(claim, state)}`,
      );
    }
    // This root's own on this network are its strays already (stray-port-rules.ts).
    const dead = out.reaped.filter((d) => !mine(d));
    if (dead.length === 0) return;
    for (const [family, snap] of await rules()) {
      const lines = dead.flatMap((d) => portRulesOfId(d.network, d.cniId, snap));
      // A chain gone meanwhile: the new holder's rules are made anyway.
      if (lines.length > 0) await o.tools.restore(family, lines).catch(() => undefined);
    }
  };
  const has = (key: string) =>
    existsSync(claimFileOf(hostPortsDirOf(o.lockDir), { state, network: o.network, key }));
  return {
    claim,
    has,
    release: (key) => releaseClaims(o.lockDir, (c) => mine(c) && (key === undefined || c.key === key)),
    async adopt(records, rules) {
      for (const a of records.filter((r) => r.state === 'ready' && r.ports.length > 0)) {
        if (has(a.key)) continue;
        const c = { key: a.key, cniId: cniIdOf(a), owner: a.owner, ports: a.ports };
        await claim(c, rules).catch(() => undefined); // another root's first: it stays theirs
      }
    },
  };
}
