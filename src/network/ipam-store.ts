// host-local's allocations, host-wide per bridge: `<lock dir>/ipam/<bridge>/` (/run/berth-networks
// on a host), one file per address holding the holder's CNI container id and interface (`<id>\r\n
// eth0`, as Debian's containernetworking-plugins 1.1.1 writes it), beside host-local's `lock` and
// `last_reserved_ip.<n>`. Every berth root whose network uses the bridge allocates there (the
// plugin's dataDir is `<lock dir>/ipam`, its network name the bridge: conflist.ts), under the
// bridge's lock (adapter.ts), so two roots on one bridge never hand out one address; /run goes with
// a reboot, as the addresses do. The version before kept them under each --state
// (`<state>/network/<name>/ipam/<name>/`): `importLegacyAllocations` moves a root's into the
// shared directory at its first use of the bridge, so its live pods keep their addresses from
// every root and their DEL (id `berth-<key>`) releases them there. `releaseLeaked` gives back what a
// root's wiped --state (records gone, allocations kept) left of its own tag; the directory goes
// when no allocation is left. The caller holds the bridge's lock. `leakedAllocations` is pure.
import { link, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { errnoCode, formatErrorLine } from '../lib/errors.js';
import { makeDirs } from '../lib/make-dirs.js';
import { taggedCniId } from './attachments.js';

export interface IpamStore {
  /** host-local's dataDir. */
  dataDir: string;
  /** Where the bridge's allocation files are: dataDir/<bridge>. */
  dir: string;
}

export const ipamStoreOf = (lockDir: string, bridge: string): IpamStore => ({
  dataDir: join(lockDir, 'ipam'),
  dir: join(lockDir, 'ipam', bridge),
});

/** An address's file, not host-local's lock or its last reserved addresses (nor a temporary file). */
const isAllocationFile = (name: string) =>
  name !== 'lock' && !name.startsWith('last_reserved_ip.') && !name.startsWith('.');

export interface Allocation {
  /** The address, as its file is named. */
  ip: string;
  /** The holder's CNI container id. */
  id: string;
}

/** The allocations of `tag`'s ids that no id of `held` is: left by a wiped --state. */
export function leakedAllocations(all: Allocation[], tag: string, held: Set<string>): Allocation[] {
  return all.filter((a) => a.id.startsWith(`berth-${tag}-`) && !held.has(a.id));
}

/** The holder's CNI container id: the first line of an allocation file. */
const holderIn = (text: string) => text.split(/\r?\n/)[0]?.trim() ?? '';

async function names(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter(isAllocationFile).sort();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
}

export async function readAllocations(dir: string): Promise<Allocation[]> {
  const out: Allocation[] = [];
  for (const ip of await names(dir)) {
    const text = await readFile(join(dir, ip), 'utf8').catch(() => undefined); // released meanwhile
    if (text !== undefined) out.push({ ip, id: holderIn(text) });
  }
  return out;
}

/** An allocation moved in under another id (importLegacyAllocations). */
export interface Renamed {
  ip: string;
  from: string;
  to: string;
}

/**
 * Makes the shared directory's parent root-only, and moves a root's allocations of the version
 * before (`legacyDataDir`/`network`) into the bridge's: an address the shared one already has
 * (another root gave it out too, before this version) stays the other holder's. An untagged id the
 * shared one already has at another address (two roots' pods `web` were both `berth-pod-web`) moves
 * in under this root's `tag` (returned: the caller gives its record that id): host-local's DEL frees
 * every file of an id, so one root's removal would free the other's live address; skipped instead,
 * its address would be given to a new pod while the old one has it. An entry that cannot be read
 * is said (`warn`) and skipped, and the old directory then stays for it (a later start tries it
 * again); otherwise it goes.
 */
export async function importLegacyAllocations(
  store: IpamStore,
  legacyDataDir: string,
  network: string,
  tag: string,
  warn: (line: string) => void = (line) => process.stderr.write(`berth: warning: ${line}\n`),
): Promise<Renamed[]> {
  await makeDirs(store.dataDir, 0o700);
  const legacy = join(legacyDataDir, network);
  const files = await names(legacy).catch((err: unknown) => {
    warn(`${legacy}: the allocations of the version before not moved in: ${formatErrorLine(err)}`);
    return undefined;
  });
  if (files === undefined) return [];
  const renamed: Renamed[] = [];
  let skipped = 0;
  if (files.length === 0) {
    await rm(legacyDataDir, { recursive: true, force: true });
    return renamed;
  }
  await makeDirs(store.dir, 0o755);
  const taken = new Set((await readAllocations(store.dir)).map((a) => a.id));
  for (const ip of files) {
    let text: string;
    try {
      text = await readFile(join(legacy, ip), 'utf8');
    } catch (err) {
      warn(`${join(legacy, ip)}: an allocation of the version before not moved in: ${formatErrorLine(err)}`);
      skipped++;
      continue;
    }
    const id = holderIn(text);
    const untagged = /^berth-((?:pod|container)-.*)$/.exec(id)?.[1];
    const to = untagged !== undefined && taken.has(id) ? taggedCniId(tag, untagged) : id;
    if (to !== id) text = to + text.slice(text.indexOf(id) + id.length);
    const wrote = await createWhole(join(store.dir, ip), text);
    if (wrote) taken.add(to);
    if (wrote && to !== id) renamed.push({ ip, from: id, to });
  }
  if (skipped === 0) await rm(legacyDataDir, { recursive: true, force: true });
  return renamed;
}

/**
 * Creates `path` with `text` unless it exists (false then), whole or not at all: written under a
 * dot name beside it (not an allocation, to berth or host-local), then linked in, so a berth killed
 * mid-write never leaves host-local a part of a holder's id (an address no DEL would free).
 */
async function createWhole(path: string, text: string): Promise<boolean> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.import`);
  await writeFile(tmp, text, { mode: 0o644 });
  try {
    await link(tmp, path);
    return true;
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
    return false;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

/** Deletes the allocations of `tag` no record holds (`held`: their CNI ids); the addresses freed. */
export async function releaseLeaked(store: IpamStore, tag: string, held: Set<string>): Promise<string[]> {
  const leaked = leakedAllocations(await readAllocations(store.dir), tag, held);
  for (const a of leaked) await unlink(join(store.dir, a.ip)).catch(() => undefined);
  return leaked.map((a) => a.ip);
}

/**
 * Deletes the allocations of CNI id `id` on interface `ifName` as host-local's DEL does (its
 * ReleaseByID): the files holding exactly `<id>\r\n<ifName>`, or, when none does, those holding
 * the id alone (written by an older host-local). The caller holds the bridge's lock.
 */
export async function releaseHolder(dir: string, id: string, ifName: string): Promise<void> {
  const texts = new Map<string, string>();
  for (const ip of await names(dir)) {
    const text = await readFile(join(dir, ip), 'utf8').catch(() => undefined); // released meanwhile
    if (text !== undefined) texts.set(ip, text.trim());
  }
  const match = (want: string) => [...texts].filter(([, text]) => text === want).map(([ip]) => ip);
  const mine = match(`${id.trim()}\r\n${ifName}`);
  for (const ip of mine.length > 0 ? mine : match(id.trim()))
    await unlink(join(dir, ip)).catch(() => undefined);
}

/** Takes the bridge's directory away when no allocation is left in it (host-local makes it again). */
export async function removeStoreIfEmpty(store: IpamStore): Promise<void> {
  if ((await names(store.dir)).length === 0) await rm(store.dir, { recursive: true, force: true });
}
