// The network adapter: the one thing the rest of berth calls to put a pod on the network or take
// it off. attach = DEL of anything a killed attempt left, then ADD through the CNI chain
// (conflist.ts, plugin-chain.ts, cni-exec.ts; its port rules in one iptables-restore a family, as
// portmap makes them: port-rules.ts), the address and ports recorded (attachments.ts);
// detach = DEL with the recorded result (its port rules in one iptables-restore: port-rules.ts; its
// veth and address by berth while its namespace is there: unplug.ts), the record gone. Names follow pods without restarts: a joining pod's own /etc/hosts names every
// peer before attach returns, and the peers' files are rewritten PEERS_NAMES_DELAY_MS after a join
// (lib/later.ts: a host of 300 pods rewrote 300 files on the new pod's path; now its start goes
// first, and a burst of joins makes one rewrite), at once after a leave (under the lock: the
// address may go to the next pod). The bridge and the network's own rules
// (host-rules.ts) are made with the first pod and kept after the last, as podman and the kubelet's
// bridge CNI keep theirs (making and removing them was a third of a lone pod's network cost);
// remove (`berth network rm`) takes them away when nothing is on the bridge. The rules are read and
// made beside the chain's first plugin (the bridge plugin does not read them; the port rules wait for them);
// a new holder on a boot this root already swept reads none (attach-rules.ts: one restore checks
// the network's rules and makes the port rules; a save per family was a spawn of every attach).
// `spares` (spares.ts) are places made ahead of need and given to holders, hidden from `list`.
//
// Invariants: attach and detach of one bridge run one at a time on the host (a lock under
// /run/berth-networks taken by every berth root using that bridge), so a bridge is never removed
// while another attach is filling it, and host-local's allocations, shared by every root on the
// bridge (ipam-store.ts), are changed by one at a time; a published port is checked and claimed
// host-wide in one step, whatever the bridge (port-claims.ts, host-ports.ts: that lock is taken
// inside the bridge's), a new holder's record written with its claim, its claim given back after
// its record goes; a root's holders have CNI ids of its own (attachments.ts), so it never takes
// another's. Both are
// idempotent: attach of a ready holder with the same ports does nothing; detach of an unknown key
// does nothing.
import { rm } from 'node:fs/promises';
import { acquireLock } from '../content/lock.js';
import { after } from '../lib/after-settled.js';
import { BerthError } from '../lib/errors.js';
import type { FileCache } from '../lib/file-cache.js';
import { createNetns, moveNetns, removeNetns } from '../runtime/netns.js';
import { attachRules } from './attach-rules.js';
import {
  type Attachment,
  addingRecordOf,
  isSpareKey,
  listAttachments,
  networkDirs,
  readAttachment,
  removeAttachment,
  rootTagOf,
  taggedCniId,
  writeAttachment,
} from './attachments.js';
import { forgetNeighbours } from './bridge-links.js';
import { bridgeMarksOf } from './bridge-marks.js';
import { DEFAULT_CNI_BIN } from './cni-exec.js';
import { addressesOf, addressOf, type CniResult } from './conflist.js';
import { prepareBridge, readSnapshots, removeIdleNetwork, ruleFamilies } from './host-rules.js';
import { ipamStoreOf, releaseLeaked, removeStoreIfEmpty } from './ipam-store.js';
import { moveLegacyIn } from './legacy-ipam.js';
import { hostLinksNow, linksLost } from './links-here.js';
import { namesWriterOf } from './names-writer.js';
import { createPluginChain } from './plugin-chain.js';
import { portConflict as conflict, portClaimsOf, portsRefusal } from './port-claims.js';
import { describePort, findDuplicatePort, type PortMapping } from './ports.js';
import { checkSubnetFree } from './route-overlap.js';
import { type RulesRepaired, repairRules } from './rules-repair.js';
import { rulesSweptOf } from './rules-swept.js';
import type { NetworkSettings } from './settings.js';
import { makerAlive, type NetnsOps, type Spares, spareOnBridge, sparesOf } from './spares.js';
import { HOST_TOOLS, type NetworkTools } from './tools.js';

export const NETWORK_LOCK_DIR = '/run/berth-networks';

const HOST_NETNS: NetnsOps = { create: createNetns, move: moveNetns, remove: removeNetns };

export { PEERS_NAMES_DELAY_MS } from './names-writer.js';

export interface AttachRequest {
  key: string;
  owner: Attachment['owner'];
  netns: string;
  ports: PortMapping[];
  names: string[];
  hostsFile?: string;
  aliases?: Attachment['aliases'];
  /** A spare's: the owner token of the daemon making it (spares.ts). */
  maker?: string;
}

export interface NetworkAdapter {
  settings: NetworkSettings;
  /** `<state>/network/<name>/attachments`. */
  attachmentsDir: string;
  attach(req: AttachRequest): Promise<Attachment>;
  /**
   * Takes the holder off the network. `off` (its namespace's removal) is called once its DEL is
   * done, beside the rest (its record, its claim, the peers' names), and awaited; not called when
   * the holder is not on the network.
   */
  detach(key: string, off?: () => Promise<void>): Promise<void>;
  list(): Promise<Attachment[]>;
  /**
   * Resolves once every holder's hosts file names the pods on the network after the last attach;
   * throws (ERR_NETWORK) while the last rewrite failed (it is tried again every few seconds).
   */
  settled(): Promise<void>;
  /**
   * Takes the bridge and the network's rules away; refused (ERR_NETWORK_IN_USE) while a pod or
   * container of this root, or a veth of any other, is on it. Idempotent.
   */
  remove(): Promise<void>;
  /**
   * Makes again the network's rules and its holders' port rules that a firewall reload took from
   * the host (rules-repair.ts), one entry a network; starts no process while no holder is ready.
   */
  repairRules(): Promise<RulesRepaired[]>;
  /** Places made ahead of need and given to holders (spares.ts; the daemon's pool: spare-pool.ts). */
  spares?: Spares;
  /** Networks this --state used that the host config no longer describes (former-networks.ts). */
  former?(): NetworkAdapter[];
  /** `berth network rm` of a former network: refused (ERR_NETWORK_IN_USE) while anything is on it. */
  removeFormer?(name: string): Promise<void>;
}

export interface NetworkAdapterOptions {
  settings: NetworkSettings;
  state: string;
  binDir?: string;
  lockDir?: string;
  /**
   * The daemon's file cache: a pod joining or leaving lists every attachment twice (port clashes,
   * then names), so a host of N pods would parse N records each time.
   */
  fileCache?: FileCache;
  /** The processes it starts (plugins, ip, iptables): the host's unless a test passes its own. */
  tools?: NetworkTools;
  /** Where the host's interfaces are listed (/sys/class/net). */
  sysNet?: string;
  /** The links of berth's network namespace (links-here.ts: /proc/self/net/dev). */
  netDev?: string;
  /** How spares' namespaces are made, handed over and removed: runtime/netns.ts unless a test's. */
  netns?: NetnsOps;
}

const samePorts = (a: PortMapping[], b: PortMapping[]) => JSON.stringify(a) === JSON.stringify(b);

export function createNetworkAdapter(o: NetworkAdapterOptions): NetworkAdapter {
  const net = o.settings;
  const dirs = networkDirs(o.state, net.name);
  const binDir = o.binDir ?? DEFAULT_CNI_BIN;
  const tools = o.tools ?? HOST_TOOLS;
  const lockDir = o.lockDir ?? NETWORK_LOCK_DIR;
  /** This root's tag in its holders' CNI ids, and the bridge's allocations (every root's). */
  const tag = rootTagOf(o.state, net.name);
  const store = ipamStoreOf(lockDir, net.bridge);
  const lockPurpose = `bridge-${Buffer.from(net.bridge).toString('hex')}`;
  let moved: Promise<void> | undefined;
  async function locked<T>(fn: () => Promise<T>): Promise<T> {
    const lock = await acquireLock(lockDir, lockPurpose, { timeoutMs: 120_000 });
    try {
      // What the version before allocated under --state: into the bridge's before any plugin runs,
      // once an instance (tried again after a failure).
      moved ??= moveLegacyIn(store, dirs, net.name, tag).catch((err: unknown) => {
        moved = undefined;
        throw err;
      });
      await moved;
      return await fn();
    } finally {
      await lock.release();
    }
  }

  /** Its holders' published ports, claimed host-wide (host-ports.ts): no other root takes them. */
  const claims = portClaimsOf({ lockDir, state: o.state, network: net.name, tools });
  const bridgeMarks = bridgeMarksOf(net.bridge, lockDir, o.sysNet);
  const swept = rulesSweptOf(o.state, net.name);
  const chain = createPluginChain({ ...o, net, ipamDir: store.dataDir, binDir, tools, lockDir });

  const names = namesWriterOf({
    network: net.name,
    attachments: dirs.attachments,
    fileCache: o.fileCache,
    locked,
  });
  const { writeNames, writeOwnNames, peersNames } = names;

  async function attach(req: AttachRequest): Promise<Attachment> {
    const dup = findDuplicatePort(req.ports);
    if (dup) throw conflict(`${req.owner.name} publishes ${describePort(dup)} twice`);
    return locked(async () => {
      const existing = await readAttachment(dirs.attachments, req.key);
      const asAsked =
        existing?.state === 'ready' && existing.netns === req.netns && samePorts(existing.ports, req.ports);
      // Its bridge or veth deleted under it: DEL and ADD again, asking for the addresses it had.
      const lost = asAsked && linksLost(existing.result, hostLinksNow(o.netDev, o.sysNet));
      if (asAsked && !lost) {
        const updated = {
          ...existing,
          names: req.names,
          aliases: req.aliases ?? [],
          hostsFile: req.hostsFile,
        };
        writeOwnNames(updated, await listAttachments(dirs.attachments, o.fileCache));
        await writeAttachment(dirs.attachments, updated);
        peersNames.ask();
        return updated;
      }
      const records = listAttachments(dirs.attachments, o.fileCache);
      const cniId = taggedCniId(tag, req.key);
      const at = { tag, key: req.key, cniId, ports: req.ports, existing, records };
      const hostRules = attachRules({ net, tools, chain, store, swept, bridgeMarks, ...at });
      const { rules, stale } = hostRules;
      const others = (await records).filter((a) => a.key !== req.key);
      // Another of this root's holders on the port, a host service listening on it (one put back
      // keeps its ports).
      const dualStack = ruleFamilies(net).includes(6);
      const refused = await portsRefusal(req, others, lost ? undefined : { dualStack });
      if (refused) return after(stale())(refused);
      // Claimed host-wide before its old rules go (its record keeps the claim live), or (a new
      // holder) with its record written under the claims' lock, below.
      const claim = { key: req.key, cniId, owner: req.owner, ports: req.ports };
      // (A claim of its key whose record went, a --state wiped, would be live again with its record.)
      const unclaimed = req.ports.length === 0 && !existing?.ports.length && !claims.has(req.key);
      if (existing && !unclaimed) await claims.claim(claim, rules).catch(after(stale()));
      // What a killed attempt (or other ports) left; with no record at all, what a wiped --state left.
      if (existing) await chain.del(existing);
      else if (others.length === 0) await releaseLeaked(store, tag, new Set());
      const adding: Attachment = { ...addingRecordOf(req), cniId };
      // The bridge is made by this attach: its subnet must be free, and the bridge is then berth's.
      if (bridgeMarks.absent()) {
        await checkSubnetFree(net).catch(after(stale()));
        await bridgeMarks.note();
      } else await bridgeMarks.noteLocalnet(); // one berth did not make: before its port rules set it
      const record = () => writeAttachment(dirs.attachments, adding);
      await (existing || unclaimed ? record() : claims.claim(claim, rules, record).catch(after(stale())));
      // NAT and forwarding are made beside the chain (no plugin of it reads them; the container
      // starts only once attach returns), the bridge plugin beside the save and restore.
      hostRules.makeNetworkRules();
      let result: CniResult;
      try {
        await prepareBridge(net, tools.run);
        // The port rules jump to the network's mark chain: it must exist before they are made.
        const keep = lost ? existing.ips : undefined;
        const { checks, readForPorts } = hostRules;
        result = (await chain.add(adding, hostRules.pending(), readForPorts, keep, checks)) ?? {};
      } finally {
        await hostRules.settled();
      }
      await hostRules.pending();
      const ip = addressOf(result);
      if (!ip) throw new BerthError('ERR_CNI', 'internal', `CNI ADD for ${req.key} gave no IPv4 address`);
      if (lost) await forgetNeighbours(tools.run, net.bridge, existing.ips ?? []);
      const ready: Attachment = { ...adding, state: 'ready', ip, ips: addressesOf(result), result };
      writeOwnNames(ready, others); // the lock held since `others` was read
      await writeAttachment(dirs.attachments, ready);
      // No peer to learn its name (a lone pod, the usual `container run`): no rewrite, whose lock and
      // reads a one-shot command waited for before it ended. A peer that joins later names it itself.
      if (others.some((a) => a.state === 'ready' && a.ip && !isSpareKey(a.key))) peersNames.ask();
      return ready;
    });
  }

  async function detach(key: string, off?: () => Promise<void>): Promise<void> {
    // Most removals have nothing on the network: no lock for them.
    if (!(await readAttachment(dirs.attachments, key))) return claims.release(key);
    await locked(async () => {
      const existing = await readAttachment(dirs.attachments, key);
      if (!existing) return claims.release(key);
      await chain.del(existing);
      // Its veth and address gone: its namespace goes meanwhile (killed before the record went, the
      // next DEL runs without one, and the plugins free what is left). Both done before the lock goes.
      const both = await Promise.allSettled([forget(key), off?.()]);
      for (const r of both) if (r.status === 'rejected') throw r.reason;
    });
  }

  /** A detached holder's record and claim, then its peers' names; the network's state with its last. */
  async function forget(key: string): Promise<void> {
    await removeAttachment(dirs.attachments, key);
    await claims.release(key); // after its record: killed between, the next claim deletes it
    // Now, under the lock: its address may go to the next pod at once, and no peer may still name
    // it then (a removal is on no pod's start path).
    await writeNames();
    await tidy();
  }

  /** Nothing of this root on the network: its IPAM state and records go too (none to leak). */
  async function tidy(): Promise<void> {
    if ((await listAttachments(dirs.attachments, o.fileCache)).length === 0)
      await rm(dirs.dir, { recursive: true, force: true });
    await removeStoreIfEmpty(store); // nothing of any root's left: nothing of the bridge's
  }

  const spares = sparesOf({
    net,
    state: o.state,
    tag,
    attachments: dirs.attachments,
    tools,
    chain,
    claims,
    store,
    swept,
    bridgeMarks,
    netns: o.netns ?? HOST_NETNS,
    ...(o.netDev ? { netDev: o.netDev } : {}),
    ...(o.sysNet ? { sysNet: o.sysNet } : {}),
    ...(o.fileCache ? { fileCache: o.fileCache } : {}),
    locked,
    attach,
    forget: async (key) => {
      await removeAttachment(dirs.attachments, key);
      await tidy();
    },
    writeOwnNames,
    askPeers: () => peersNames.ask(),
  });

  async function remove(): Promise<void> {
    await locked(async () => {
      // A daemon's spares on this bridge go with it (its pool makes new ones only for a holder
      // joining), and any of a maker gone; a live one on another bridge (the network's name kept
      // while its bridge changed) is that bridge's: neither taken nor counted, its record kept.
      const all = await listAttachments(dirs.attachments, o.fileCache);
      const gone = all.filter((a) => isSpareKey(a.key) && (spareOnBridge(a, net.bridge) || !makerAlive(a)));
      const members = all.filter((a) => !isSpareKey(a.key));
      if (members.length > 0)
        throw inUse(
          `${members.length} on it: ${members.map((m) => `${m.owner.kind} ${m.owner.name}`).join(', ')}`,
        );
      await spares.dropHeld(gone);
      if (!(await removeIdleNetwork(net, tools, await bridgeMarks.made())))
        throw inUse(`bridge ${net.bridge} still has veths of another berth root or tool`);
      await bridgeMarks.forget();
      await claims.release();
      if (gone.length === all.filter((a) => isSpareKey(a.key)).length)
        await rm(dirs.dir, { recursive: true, force: true });
      await removeStoreIfEmpty(store);
    });
  }

  function inUse(why: string): BerthError {
    return new BerthError('ERR_NETWORK_IN_USE', 'conflict', `network ${net.name} is in use: ${why}`, {
      hint: 'remove the pods and containers on it first',
    });
  }

  return {
    settings: net,
    attachmentsDir: dirs.attachments,
    attach,
    detach,
    remove,
    list: async () =>
      (await listAttachments(dirs.attachments, o.fileCache)).filter((a) => !isSpareKey(a.key)),
    spares,
    async repairRules() {
      await spares.drop().catch(() => undefined); // a killed daemon's: tried again at the next check
      const all = () => listAttachments(dirs.attachments, o.fileCache);
      if (!(await all()).some((a) => a.state === 'ready' && !isSpareKey(a.key))) return [];
      return [
        await locked(async () => {
          // Ports published before claims were.
          await claims.adopt(await all(), () => readSnapshots(ruleFamilies(net), tools));
          return repairRules(net, await all(), tools, chain.addPorts, tag);
        }),
      ];
    },
    async settled() {
      await names.settled();
    },
  };
}
