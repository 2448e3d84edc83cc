// Spare places on a network, for the adapter (adapter.ts; the daemon's pool: spare-pool.ts). A spare
// is a network namespace with its veth and address made ahead of need (`spare-<hex>`, its namespace
// at `<state>/network-spares/<key>`, its record naming the daemon that made it); a claim gives it
// to a holder whose namespace would be made now: the bridge plugin and host-local (two Go
// programs, the most of an attach's time) are off the holder's start path; its port rules, claims
// and names are made as an attach makes them.
//
// A claim, under the bridge's lock: the spare's record rewritten with the holder's fields (state
// `adding`, the spare's CNI id, address and result, its maker kept), its namespace bound at the
// holder's path (moveNetns: all or nothing), then the record renamed to the holder's key — under
// the host-ports lock with the holder's claim when it publishes ports. The file's name is the key
// (attachments.ts), so a berth killed at any step leaves either a spare whose maker is gone (swept
// by `dropDead`: DEL where its namespace is, the namespace removed) or a holder's `adding` record
// (undone by its next attach or removal, as any killed attach). Spares are never listed as holders,
// never named in hosts files, and never take a port.
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { chmod, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after } from '../lib/after-settled.js';
import { BerthError, hasCode } from '../lib/errors.js';
import type { FileCache } from '../lib/file-cache.js';
import { makeDirs } from '../lib/make-dirs.js';
import { isOwnerAlive, OWNER_PATTERN, ownerToken } from '../lib/process.js';
import type { AttachRequest } from './adapter.js';
import { attachRules } from './attach-rules.js';
import {
  type Attachment,
  addingRecordOf,
  isSpareKey,
  listAttachments,
  networkDirs,
  readAttachment,
  spareNetnsOf,
  writeAttachment,
} from './attachments.js';
import type { BridgeMarks } from './bridge-marks.js';
import { ruleFamilies } from './host-rules.js';
import type { IpamStore } from './ipam-store.js';
import { hostLinksNow, linksLost } from './links-here.js';
import type { PluginChain } from './plugin-chain.js';
import { type PortClaims, portConflict, portsRefusal } from './port-claims.js';
import { describePort, findDuplicatePort } from './ports.js';
import type { RulesSwept } from './rules-swept.js';
import type { NetworkSettings } from './settings.js';
import type { NetworkTools } from './tools.js';

/** How a spare's namespace is made, handed over and removed (runtime/netns.ts on the host). */
export interface NetnsOps {
  create(path: string): Promise<void>;
  move(from: string, to: string): Promise<void>;
  remove(path: string): Promise<void>;
}

export interface SparesContext {
  net: NetworkSettings;
  state: string;
  tag: string;
  attachments: string;
  tools: NetworkTools;
  chain: PluginChain;
  claims: PortClaims;
  store: IpamStore;
  swept: RulesSwept;
  bridgeMarks: BridgeMarks;
  netns: NetnsOps;
  netDev?: string;
  sysNet?: string;
  fileCache?: FileCache;
  /** Runs `fn` under the bridge's lock. */
  locked<T>(fn: () => Promise<T>): Promise<T>;
  /** The adapter's attach (a spare is attached as any holder, with no ports or names). */
  attach(req: AttachRequest): Promise<Attachment>;
  /** Its record gone, and the network's state with the root's last (the caller holds the lock). */
  forget(key: string): Promise<void>;
  /** The joining holder's own hosts file, then its peers' (adapter.ts). */
  writeOwnNames(holder: Attachment, records: Attachment[]): void;
  askPeers(): void;
}

export interface Spares {
  /** A new spare made by this process; its key. */
  make(): Promise<string>;
  /**
   * Gives spare `key` to the holder `req` (its namespace not made yet: the spare's is bound at
   * `req.netns`). Undefined, nothing changed for the holder, when the spare cannot be had (gone,
   * its links lost, the holder already has a record): the spare is dropped, the caller attaches as
   * before. A refusal of its ports throws, the spare kept. `inPlace` is called once the namespace
   * is at `req.netns` and the record the holder's (its port rules, then its ready record, to come).
   */
  claim(key: string, req: AttachRequest, inPlace?: () => void): Promise<Attachment | undefined>;
  /**
   * Takes spares away: those of `keys`, or (none given) every one whose maker is gone, with the
   * namespaces of spares whose maker was killed before writing their record.
   */
  drop(keys?: string[]): Promise<void>;
  /** Takes these spares away; the caller holds the bridge's lock. */
  dropHeld(spares: Attachment[]): Promise<void>;
}

/** Whether the daemon that made a spare still runs. */
export const makerAlive = (a: Attachment) => a.maker !== undefined && isOwnerAlive(a.maker);

/** Whether a spare's place is on `bridge` (the network's name kept while its bridge changed). */
export const spareOnBridge = (a: Attachment, bridge: string) =>
  a.result?.interfaces?.some((i) => i.name === bridge) ?? false;

const STRAY = new RegExp(`^spare-(${OWNER_PATTERN})-[0-9a-f]{12}$`);

const readdirOf = (dir: string) => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};

/** Spares' namespaces with no record on any network of the root whose maker is gone (killed between the two). */
function strayNamespaces(state: string): string[] {
  const dir = dirname(spareNetnsOf(state, 'spare-x'));
  const names = readdirOf(dir);
  if (names.length === 0) return [];
  const networks = join(state, 'network');
  const recorded = new Set(readdirOf(networks).flatMap((n) => readdirOf(networkDirs(state, n).attachments)));
  return names.flatMap((name) => {
    const token = STRAY.exec(name)?.[1];
    if (!token || recorded.has(`${name}.json`) || isOwnerAlive(token)) return [];
    return [join(dir, name)];
  });
}

export function sparesOf(c: SparesContext): Spares {
  /** Its DEL where its namespace is now, the namespace removed, the record gone. Lock held. */
  async function dropOne(a: Attachment): Promise<void> {
    await c.chain.del(a);
    await c.netns.remove(spareNetnsOf(c.state, a.key));
    await c.forget(a.key);
  }

  async function claim(
    key: string,
    req: AttachRequest,
    inPlace?: () => void,
  ): Promise<Attachment | undefined> {
    const dup = findDuplicatePort(req.ports);
    if (dup) throw portConflict(`${req.owner.name} publishes ${describePort(dup)} twice`);
    return c.locked(async () => {
      const spare = await readAttachment(c.attachments, key);
      if (spare?.state !== 'ready' || !spare.ip || spare.owner.kind !== 'spare') return undefined;
      const usable =
        !linksLost(spare.result, hostLinksNow(c.netDev, c.sysNet)) &&
        !(await readAttachment(c.attachments, req.key));
      if (!usable) {
        await dropOne(spare);
        return undefined;
      }
      const records = listAttachments(c.attachments);
      const others = (await records).filter((a) => a.key !== key && !isSpareKey(a.key));
      const cniId = spare.cniId ?? '';
      const hostRules = attachRules({
        ...c,
        key: req.key,
        cniId,
        ports: req.ports,
        existing: undefined,
        records,
      });
      const refused = await portsRefusal(req, others, { dualStack: ruleFamilies(c.net).includes(6) });
      if (refused) return after(hostRules.stale())(refused);
      // The spare's CNI id, address, result and maker with the holder's fields.
      const adding: Attachment = { ...spare, ...addingRecordOf(req) };
      let moved = false;
      const commit = async () => {
        await writeAttachment(c.attachments, { ...adding, key });
        await c.netns.move(spareNetnsOf(c.state, key), req.netns);
        moved = true;
        await rename(join(c.attachments, `${key}.json`), join(c.attachments, `${req.key}.json`)).catch(
          (err: Error) => {
            throw new BerthError('ERR_NETWORK', 'internal', `spare ${key} for ${req.key}: ${err.message}`, {
              cause: err,
            });
          },
        );
      };
      const unclaimed = req.ports.length === 0 && !c.claims.has(req.key);
      const claim = { key: req.key, cniId, owner: req.owner, ports: req.ports };
      try {
        await (unclaimed ? commit() : c.claims.claim(claim, hostRules.rules, commit));
      } catch (err) {
        await hostRules.settled();
        if (moved) {
          // The namespace is the holder's now (its removal takes it); a record not renamed goes here.
          const left = await readAttachment(c.attachments, key);
          if (left) await dropOne({ ...left, netns: req.netns });
          throw err;
        }
        const left = await readAttachment(c.attachments, key);
        // A port another root claimed: refused before anything was touched, the spare kept.
        if (hasCode(err, 'ERR_PORT_CONFLICT') && left?.netns === spare.netns) throw err;
        // The hand-over refused: what is left of the spare goes, its namespace still where it was.
        if (left) await dropOne({ ...left, netns: spare.netns });
        return undefined;
      }
      inPlace?.();
      hostRules.makeNetworkRules();
      try {
        await hostRules.pending();
        await c.chain.makePorts(adding, spare.result ?? {}, hostRules.readForPorts, hostRules.checks);
      } finally {
        await hostRules.settled();
      }
      const { maker: _, ...ready } = { ...adding, state: 'ready' as const };
      c.writeOwnNames(ready, others);
      await writeAttachment(c.attachments, ready);
      if (others.some((a) => a.state === 'ready' && a.ip)) c.askPeers();
      return ready;
    });
  }

  async function make(): Promise<string> {
    // Its maker in its name too: a namespace made by a daemon killed before its record was written
    // is swept by that name alone (`drop`).
    const key = `spare-${ownerToken()}-${randomBytes(6).toString('hex')}`;
    const netns = spareNetnsOf(c.state, key);
    try {
      await makeDirs(dirname(netns), 0o700);
      await chmod(dirname(netns), 0o700); // root's alone, whoever made it before
      await c.netns.create(netns);
      await c.attach({
        key,
        owner: { kind: 'spare', name: key.slice('spare-'.length) },
        netns,
        ports: [],
        names: [],
        maker: ownerToken(),
      });
    } catch (err) {
      await drop([key]).catch(() => undefined);
      await c.netns.remove(netns).catch(() => undefined);
      throw err;
    }
    return key;
  }

  async function drop(keys?: string[]): Promise<void> {
    const pick = (a: Attachment) => isSpareKey(a.key) && (keys ? keys.includes(a.key) : !makerAlive(a));
    const records = () => listAttachments(c.attachments, c.fileCache);
    const strays = () => (keys ? [] : strayNamespaces(c.state));
    if (!(await records()).some(pick) && strays().length === 0) return; // most passes: no lock
    await c.locked(async () => {
      await dropHeld((await records()).filter(pick));
      for (const path of strays()) await c.netns.remove(path);
    });
  }

  async function dropHeld(spares: Attachment[]): Promise<void> {
    for (const a of spares) await dropOne(a);
  }

  return { make, claim, drop, dropHeld };
}
