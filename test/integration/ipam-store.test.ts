// The bridge's host-wide allocations (network/ipam-store.ts) in a temp directory, with files as
// host-local (containernetworking-plugins 1.1.1) writes them: `<id>\r\n<ifname>` named by address,
// beside its `lock` and `last_reserved_ip.0`. The plugin itself allocating there is
// test/e2e/network-two-roots.test.ts.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  importLegacyAllocations,
  ipamStoreOf,
  leakedAllocations,
  readAllocations,
  releaseHolder,
  releaseLeaked,
  removeStoreIfEmpty,
} from '../../src/network/ipam-store.js';

const hostLocal = async (dir: string, files: Record<string, string>) => {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'lock'), '');
  await writeFile(join(dir, 'last_reserved_ip.0'), '10.9.0.9');
  for (const [ip, id] of Object.entries(files)) await writeFile(join(dir, ip), `${id}\r\neth0`);
};

describe('host-wide allocations of a bridge', () => {
  let work: string;
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-ipam-store-'));
  });
  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it("leaked: this root's tag, no record holding it; another root's or the version before's never", () => {
    const all = [
      { ip: '10.9.0.2', id: 'berth-t1-pod-web' },
      { ip: '10.9.0.3', id: 'berth-t1-pod-gone' },
      { ip: '10.9.0.4', id: 'berth-t2-pod-gone' },
      { ip: '10.9.0.5', id: 'berth-pod-gone' },
    ];
    expect(leakedAllocations(all, 't1', new Set(['berth-t1-pod-web']))).toEqual([all[1]]);
  });

  it("the version before's allocations move in, an address already given out stays its holder's, the old directory goes", async () => {
    const store = ipamStoreOf(join(work, 'run'), 'br0');
    const legacy = join(work, 'state', 'network', 'n', 'ipam');
    await hostLocal(join(legacy, 'n'), { '10.9.0.2': 'berth-pod-a', '10.9.0.3': 'berth-pod-b' });
    await hostLocal(store.dir, { '10.9.0.3': 'berth-t2-pod-x' });
    await importLegacyAllocations(store, legacy, 'n', 't1');
    expect(await readAllocations(store.dir)).toEqual([
      { ip: '10.9.0.2', id: 'berth-pod-a' },
      { ip: '10.9.0.3', id: 'berth-t2-pod-x' },
    ]);
    expect(readFileSync(join(store.dir, '10.9.0.2'), 'utf8')).toBe('berth-pod-a\r\neth0');
    expect(existsSync(legacy)).toBe(false);
    expect(readdirSync(store.dir).filter((n) => n.startsWith('.'))).toEqual([]); // written whole, nothing beside
    await importLegacyAllocations(store, legacy, 'n', 't1'); // nothing left to move: nothing changes
    expect((await readAllocations(store.dir)).map((a) => a.ip)).toEqual(['10.9.0.2', '10.9.0.3']);
  });

  it("two roots' pods named alike (one untagged id before this version): the second's moves in under its root's tag, so one's DEL never frees the other's address", async () => {
    const store = ipamStoreOf(join(work, 'run'), 'br0');
    const legacyA = join(work, 'a', 'network', 'n', 'ipam');
    const legacyB = join(work, 'b', 'network', 'n', 'ipam');
    await hostLocal(join(legacyA, 'n'), { '10.9.0.2': 'berth-pod-web' });
    await hostLocal(join(legacyB, 'n'), { '10.9.0.3': 'berth-pod-web', '10.9.0.4': 'berth-pod-db' });
    expect(await importLegacyAllocations(store, legacyA, 'n', 'ta')).toEqual([]);
    expect(await importLegacyAllocations(store, legacyB, 'n', 'tb')).toEqual([
      { ip: '10.9.0.3', from: 'berth-pod-web', to: 'berth-tb-pod-web' },
    ]);
    expect(await readAllocations(store.dir)).toEqual([
      { ip: '10.9.0.2', id: 'berth-pod-web' },
      { ip: '10.9.0.3', id: 'berth-tb-pod-web' },
      { ip: '10.9.0.4', id: 'berth-pod-db' },
    ]);
    expect(readFileSync(join(store.dir, '10.9.0.3'), 'utf8')).toBe('berth-tb-pod-web\r\neth0');
  });

  it('an entry of the old directory that cannot be read is said and skipped; the others move in, the old directory stays for it', async () => {
    const store = ipamStoreOf(join(work, 'run'), 'br0');
    const legacy = join(work, 'state', 'network', 'n', 'ipam');
    await hostLocal(join(legacy, 'n'), { '10.9.0.2': 'berth-pod-a' });
    await mkdir(join(legacy, 'n', '10.9.0.5')); // not a file: EISDIR
    const said: string[] = [];
    await importLegacyAllocations(store, legacy, 'n', 't1', (line) => said.push(line));
    expect(await readAllocations(store.dir)).toEqual([{ ip: '10.9.0.2', id: 'berth-pod-a' }]);
    expect(said).toHaveLength(1);
    expect(said[0]).toContain(join(legacy, 'n', '10.9.0.5'));
    expect(existsSync(join(legacy, 'n', '10.9.0.5'))).toBe(true);
  });

  it("a holder's release deletes what host-local's DEL would: its id on its interface, else its id alone, nothing else", async () => {
    const store = ipamStoreOf(join(work, 'run'), 'br0');
    await hostLocal(store.dir, { '10.9.0.2': 'berth-t1-pod-a', '10.9.0.3': 'berth-t1-pod-ab' });
    await writeFile(join(store.dir, 'fd00::2'), 'berth-t1-pod-a\r\neth0'); // dual stack: both go
    await writeFile(join(store.dir, '10.9.0.4'), 'berth-t1-pod-a\r\neth1'); // another interface stays
    await writeFile(join(store.dir, '10.9.0.5'), 'berth-t1-pod-old'); // written by an older host-local
    await releaseHolder(store.dir, 'berth-t1-pod-a', 'eth0');
    await releaseHolder(store.dir, 'berth-t1-pod-old', 'eth0');
    await releaseHolder(store.dir, 'berth-t1-pod-none', 'eth0'); // nothing of it: nothing goes
    expect(readdirSync(store.dir).sort()).toEqual(['10.9.0.3', '10.9.0.4', 'last_reserved_ip.0', 'lock']);
  });

  it("releases this root's leaked allocations only; the directory goes with its last allocation", async () => {
    const store = ipamStoreOf(join(work, 'run'), 'br0');
    await hostLocal(store.dir, { '10.9.0.2': 'berth-t1-pod-a', '10.9.0.3': 'berth-t2-pod-a' });
    expect(await releaseLeaked(store, 't1', new Set())).toEqual(['10.9.0.2']);
    await removeStoreIfEmpty(store);
    expect(readdirSync(store.dir).sort()).toEqual(['10.9.0.3', 'last_reserved_ip.0', 'lock']);
    expect(await releaseLeaked(store, 't2', new Set(['berth-t2-pod-a']))).toEqual([]);
    expect(await releaseLeaked(store, 't2', new Set())).toEqual(['10.9.0.3']);
    await removeStoreIfEmpty(store);
    expect(existsSync(store.dir)).toBe(false);
  });
});
