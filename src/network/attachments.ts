// Each pod's (or container's) place on the network, one JSON file per holder under
// `<state>/network/<name>/attachments/`: written as `adding` before the first plugin is called, so
// a berth killed mid-ADD leaves a record the next pass undoes (DEL) before adding again; `ready`
// with the address, ports and the plugins' result once ADD succeeded (DEL is given that result).
// Under --state (a reboot clears them with the addresses; host-local's allocations are host-wide
// per bridge: ipam-store.ts). A holder's CNI container id names its root (`berth-<tag>-<key>`, the
// tag a hash of the --state path and the network's name): a pod `web` of two roots on one bridge has two ids, so neither
// root takes the other's address file or port rules for its own (the network's name is hashed in
// too: a root's former network on the same bridge has ids of its own); the record keeps the id it was
// made with (records of the version before have none: `berth-<key>`). A spare (`spare-<hex>`,
// spare-pool.ts) is a place made ahead of need by a daemon (its `maker`, an owner token): no
// names, no ports, its namespace under `<state>/network-spares/`; a claim gives its address and
// CNI id to a holder.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { errnoCode } from '../lib/errors.js';
import type { FileCache } from '../lib/file-cache.js';
import { makeDirs } from '../lib/make-dirs.js';
import { replaceFile } from '../lib/write-atomic.js';
import type { AttachRequest } from './adapter.js';
import type { CniResult } from './conflist.js';
import type { HostEntry } from './names.js';
import type { PortMapping } from './ports.js';

export interface Attachment {
  /** `pod-<name>`, `container-<name>` or `spare-<hex>`: unique in its root, and the CNI container id's base. */
  key: string;
  /** The CNI container id it was added with (`berth-<tag>-<key>`); none: `berth-<key>` (cniIdOf). */
  cniId?: string;
  owner: { kind: 'pod' | 'container' | 'spare'; name: string };
  /** A spare's (or a claim's, until its holder's record is ready): the owner token of the daemon that made it. */
  maker?: string;
  state: 'adding' | 'ready';
  netns: string;
  ports: PortMapping[];
  /** Its IPv4 address. */
  ip?: string;
  /** Every address it has: IPv4 first, then IPv6 when the network is dual stack. */
  ips?: string[];
  result?: CniResult;
  /** The names it is found by on the network: its own first. */
  names: string[];
  /** Its /etc/hosts, rewritten in place when another holder comes or goes. */
  hostsFile?: string;
  aliases?: HostEntry[];
}

/** A holder's record as its attach starts (`adding`), from what it asked for. */
export const addingRecordOf = (req: AttachRequest): Omit<Attachment, 'cniId'> => ({
  key: req.key,
  owner: req.owner,
  state: 'adding',
  netns: req.netns,
  ports: req.ports,
  names: req.names,
  ...(req.hostsFile ? { hostsFile: req.hostsFile } : {}),
  aliases: req.aliases ?? [],
  ...(req.maker ? { maker: req.maker } : {}),
});

export const networkDirs = (state: string, network: string) => {
  const dir = join(state, 'network', network);
  return { dir, ipam: join(dir, 'ipam'), attachments: join(dir, 'attachments') };
};

/** The root's tag in its holders' CNI ids on a network: stable across reboots, as the --state path is. */
export const rootTagOf = (state: string, network: string) =>
  createHash('sha256')
    .update(`${resolve(state)}\0${network}`)
    .digest('hex')
    .slice(0, 8);

/** The CNI container id of a holder added now by the root of `tag`. */
export const taggedCniId = (tag: string, key: string) => `berth-${tag}-${key}`;

/** The CNI container id a record was made with. */
export const cniIdOf = (a: Pick<Attachment, 'key' | 'cniId'>) => a.cniId ?? `berth-${a.key}`;

const KEY = /^(pod|container|spare)-[A-Za-z0-9][A-Za-z0-9_.-]{0,126}$/;

/** Whether a record's file is a spare's (spare-pool.ts): never a pod's or container's place. */
export const isSpareKey = (key: string) => key.startsWith('spare-');

/** Where a spare's network namespace is bound. */
export const spareNetnsOf = (state: string, key: string) => join(state, 'network-spares', checkKey(key));

export function checkKey(key: string): string {
  if (!KEY.test(key)) throw new Error(`bad attachment key ${key}`);
  return key;
}

export async function readAttachment(dir: string, key: string): Promise<Attachment | undefined> {
  try {
    // The file's name is its key (a spare's record holds its claimer's fields until renamed).
    return { ...(JSON.parse(await readFile(join(dir, `${checkKey(key)}.json`), 'utf8')) as Attachment), key };
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || err instanceof SyntaxError) return undefined;
    throw err;
  }
}

function parseAttachment(text: string): Attachment | undefined {
  try {
    return JSON.parse(text) as Attachment;
  } catch {
    return undefined; // half written by a killed berth: as if none
  }
}

/**
 * readAttachment, synchronous, for the observation every pass makes of every pod; through `cache`
 * (the daemon's) a record is parsed once per change.
 */
export function readAttachmentSync(dir: string, key: string, cache?: FileCache): Attachment | undefined {
  const file = join(dir, `${checkKey(key)}.json`);
  try {
    const a = cache ? cache.read(file, parseAttachment) : parseAttachment(readFileSync(file, 'utf8'));
    return a && (a.key === key ? a : { ...a, key });
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/** Every attachment record in `dir`, through `cache` when given (the daemon's: parsed once per change). */
export async function listAttachments(dir: string, cache?: FileCache): Promise<Attachment[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
  const keys = names
    .filter((n) => n.endsWith('.json'))
    .map((n) => n.slice(0, -5))
    .filter((k) => KEY.test(k));
  // Synchronous reads (small local files): a scrape of /metrics lists them all, and a promise per
  // file costs several times the read in CPU.
  const out = keys.map((k) => readAttachmentSync(dir, k, cache));
  return out.filter((a): a is Attachment => a !== undefined).sort((a, b) => a.key.localeCompare(b.key));
}

/**
 * Written whole but not flushed: a record describes what a reboot takes away (the namespace, veth,
 * address), and the next boot sets its holder up again from nothing (a torn one reads as none).
 */
export async function writeAttachment(dir: string, a: Attachment): Promise<void> {
  await makeDirs(dir, 0o700);
  await replaceFile(join(dir, `${checkKey(a.key)}.json`), `${JSON.stringify(a)}\n`, 0o600);
}

export async function removeAttachment(dir: string, key: string): Promise<void> {
  await rm(join(dir, `${checkKey(key)}.json`), { force: true });
}
