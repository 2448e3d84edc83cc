// Spare places on the network (network/spares.ts), as root with the real CNI plugins and real
// namespaces: a claim gives the holder the spare's namespace, address and CNI id, with its
// published TCP port reaching a listener in it and its hosts file naming its peers but never a
// spare; a spare is never listed; a claim the spare cannot serve (its veth deleted, the holder
// already there) drops it and says so; a port refused keeps the spare; a daemon killed mid-make, mid-claim or
// before a reboot leaves records the sweep (`drop()`) takes away with their veths, addresses and
// namespaces; `remove` drops spares first. Nothing of the network is left after.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownerToken } from '../../src/lib/process.js';
import { createNetworkAdapter, NETWORK_LOCK_DIR, type NetworkAdapter } from '../../src/network/adapter.js';
import { type Attachment, spareNetnsOf } from '../../src/network/attachments.js';
import { ipamStoreOf } from '../../src/network/ipam-store.js';
import type { Spares } from '../../src/network/spares.js';
import { createNetns, moveNetns, removeNetns } from '../../src/runtime/netns.js';
import { isMountPoint } from '../../src/runtime/rootfs.js';
import { freePort } from '../helpers/free-port.js';
import { bridgeAllocations, removeBridgeLockFile } from '../helpers/network-kept.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(
  ['iptables', 'iptables-save', 'ip', 'unshare', 'nsenter', 'mount', '/usr/lib/cni/bridge'],
  { root: true },
);

const NET = `ns-${randomBytes(3).toString('hex')}`;
const BRIDGE = `bs${randomBytes(3).toString('hex')}`;
const SUBNET = `10.${randomInt(100, 250)}.${randomInt(0, 256)}.0/24`;
/** What a TCP connection to 127.0.0.1:`port` reads until the server closes it (3 s at most). */
function readFrom(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let got = '';
    sock.setTimeout(3000, () => sock.destroy(new Error('timed out')));
    sock.on('data', (b: Buffer) => {
      got += b.toString();
    });
    sock.on('error', reject);
    sock.on('close', () => resolve(got));
  });
}

/** An owner token no process has (another boot's). */
const DEAD_MAKER = '1-1-00000000';

describe.skipIf(skip)('spare places on the network', () => {
  let work: string;
  let state: string;
  let net: NetworkAdapter;
  let spares: Spares;
  const netns = (name: string) => join(state, 'netns', `pod-${name}`);
  const records = () => {
    const dir = net.attachmentsDir;
    return existsSync(dir) ? readdirSync(dir).sort() : [];
  };
  const veths = () =>
    existsSync(`/sys/class/net/${BRIDGE}/brif`) ? readdirSync(`/sys/class/net/${BRIDGE}/brif`) : [];
  const links = (ns: string) =>
    execFileSync('nsenter', [`--net=${ns}`, 'ip', '-o', 'link', 'show'])
      .toString()
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(':')[1]?.trim().split('@')[0]);
  const request = (name: string, ports: Attachment['ports'] = [], hostsFile?: string) => ({
    key: `pod-${name}`,
    owner: { kind: 'pod' as const, name },
    netns: netns(name),
    ports,
    names: [name],
    ...(hostsFile ? { hostsFile } : {}),
  });
  /** What a killed daemon leaves: its spares name a maker that is gone. */
  const orphan = (key: string, change: Partial<Attachment> = {}) => {
    const file = join(net.attachmentsDir, `${key}.json`);
    const a = JSON.parse(readFileSync(file, 'utf8')) as Attachment;
    writeFileSync(file, JSON.stringify({ ...a, maker: DEAD_MAKER, ...change }));
  };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-spares-'));
    state = join(work, 'state');
    net = createNetworkAdapter({ settings: { name: NET, bridge: BRIDGE, subnet: SUBNET }, state });
    spares = net.spares as Spares;
  });

  afterAll(async () => {
    let left: unknown[] = [];
    try {
      for (const n of ['a', 'b', 'c', 'd', 'e']) {
        await net.detach(`pod-${n}`).catch(() => undefined);
        await removeNetns(netns(n)).catch(() => undefined);
      }
      await net.settled().catch(() => undefined);
      await net.remove(); // spares first
    } finally {
      left = [
        ...records(),
        ...veths(),
        ...bridgeAllocations(BRIDGE),
        ...(existsSync(join(state, 'network-spares')) ? readdirSync(join(state, 'network-spares')) : []),
        existsSync(`/sys/class/net/${BRIDGE}`),
      ];
      await removeTempRoot(work);
      await removeBridgeLockFile(BRIDGE);
    }
    expect(left).toEqual([false]);
  });

  it("a claim gives the holder the spare's namespace, address and CNI id; its port reaches a listener in it; hosts name peers, never a spare", async () => {
    const peer = await createNetns(netns('b')).then(() => net.attach(request('b')));
    const key = await spares.make();
    const spare = JSON.parse(readFileSync(join(net.attachmentsDir, `${key}.json`), 'utf8')) as Attachment;
    const other = await spares.make(); // stays a spare: named by no hosts file, listed by no one
    expect((await net.list()).map((a) => a.key)).toEqual(['pod-b']);
    expect(bridgeAllocations(BRIDGE)).toHaveLength(3);
    const hosts = join(work, 'hosts-a');
    await writeFile(hosts, '');
    const port = await freePort();
    const tcp = [{ hostPort: port, containerPort: 8080, protocol: 'tcp' as const, hostIP: '' }];
    const got = await spares.claim(key, request('a', tcp, hosts));
    expect(got).toMatchObject({ key: 'pod-a', state: 'ready', ip: spare.ip, cniId: spare.cniId });
    expect(got?.maker).toBeUndefined();
    expect(await isMountPoint(netns('a'))).toBe(true);
    expect(existsSync(spareNetnsOf(state, key))).toBe(false);
    expect(links(netns('a'))).toEqual(['lo', 'eth0']);
    expect(records()).toEqual(['pod-a.json', 'pod-b.json', `${other}.json`].sort());
    const hostsText = readFileSync(hosts, 'utf8');
    expect(hostsText).toContain(`${peer.ip}\tb\n`);
    expect(hostsText).not.toContain(
      JSON.parse(readFileSync(join(net.attachmentsDir, `${other}.json`), 'utf8')).ip,
    );
    // Its published port, through the rules the claim made, to a listener in the namespace.
    const server = spawn(
      'nsenter',
      [
        `--net=${netns('a')}`,
        process.execPath,
        '-e',
        `require('node:net').createServer((s) => s.end('from-a\\n')).listen(8080, () => console.log('ready'))`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise((r) => server.stdout.once('data', r));
      expect(await readFrom(port)).toBe('from-a\n');
    } finally {
      server.kill();
    }
    await net.detach('pod-a');
    await removeNetns(netns('a'));
    await spares.drop([other]);
    await net.detach('pod-b');
    await removeNetns(netns('b'));
    expect([records(), veths(), bridgeAllocations(BRIDGE)]).toEqual([[], [], []]);
  }, 60_000);

  it('a spare whose veth was deleted, or a holder already there, is not claimed: the spare is dropped', async () => {
    const lost = await spares.make();
    const veth = veths()[0] as string;
    execFileSync('ip', ['link', 'del', veth]);
    expect(await spares.claim(lost, request('c'))).toBeUndefined();
    await createNetns(netns('c'));
    await net.attach(request('c'));
    const taken = await spares.make();
    expect(await spares.claim(taken, { ...request('c'), netns: join(work, 'never') })).toBeUndefined();
    expect(existsSync(join(work, 'never'))).toBe(false);
    expect(records()).toEqual(['pod-c.json']);
    expect(veths()).toHaveLength(1);
    expect(bridgeAllocations(BRIDGE)).toHaveLength(1);
    await net.detach('pod-c');
    await removeNetns(netns('c'));
  }, 60_000);

  it('a port another holder publishes is refused and the spare kept, claimed by the next', async () => {
    const port = await freePort();
    const tcp = [{ hostPort: port, containerPort: 80, protocol: 'tcp' as const, hostIP: '' }];
    await createNetns(netns('d'));
    await net.attach(request('d', tcp));
    const key = await spares.make();
    await expect(spares.claim(key, request('e', tcp))).rejects.toMatchObject({ code: 'ERR_PORT_CONFLICT' });
    expect(existsSync(netns('e'))).toBe(false);
    expect(records()).toEqual(['pod-d.json', `${key}.json`]);
    expect(await spares.claim(key, request('e'))).toMatchObject({ key: 'pod-e', state: 'ready' });
    for (const n of ['d', 'e']) {
      await net.detach(`pod-${n}`);
      await removeNetns(netns(n));
    }
    expect([records(), veths(), bridgeAllocations(BRIDGE)]).toEqual([[], [], []]);
  }, 60_000);

  it('a daemon killed mid-make, mid-claim or before a reboot leaves spares the sweep takes away, the live ones kept', async () => {
    const port = await freePort();
    // What a killed claim leaves: the holder's fields (state adding, its ports) in the spare's record.
    const claimed = (name: string, netns: string): Partial<Attachment> => ({
      state: 'adding',
      owner: { kind: 'pod', name },
      netns,
      ports: [{ hostPort: port, containerPort: 80, protocol: 'tcp', hostIP: '' }],
      names: [name],
    });
    // Killed after the record was rewritten for its holder, before the namespace moved.
    const rewritten = await spares.make();
    orphan(rewritten, claimed('x', join(work, 'x-netns')));
    // Killed after the namespace moved, before the record was renamed: the veth is in the holder's.
    const moved = await spares.make();
    const target = join(work, 'y-netns');
    await moveNetns(spareNetnsOf(state, moved), target);
    orphan(moved, claimed('y', target));
    // A reboot: its namespace and its address's allocation gone (/run), its record under --state.
    const rebooted = await spares.make();
    const rebootedIp = JSON.parse(readFileSync(join(net.attachmentsDir, `${rebooted}.json`), 'utf8')).ip;
    await removeNetns(spareNetnsOf(state, rebooted));
    rmSync(join(ipamStoreOf(NETWORK_LOCK_DIR, BRIDGE).dir, rebootedIp));
    orphan(rebooted);
    // Killed after its namespace was made, before its record was written: named by its maker alone.
    const unrecorded = spareNetnsOf(state, `spare-${DEAD_MAKER}-${randomBytes(6).toString('hex')}`);
    await createNetns(unrecorded);
    // And one a live maker is making (its record to come under the lock): kept.
    const making = spareNetnsOf(state, `spare-${ownerToken()}-${randomBytes(6).toString('hex')}`);
    await createNetns(making);
    const live = await spares.make();
    expect(veths()).toHaveLength(3); // the rebooted one's went with its namespace
    await spares.drop();
    expect(records()).toEqual([`${live}.json`]);
    expect(links(target)).toEqual(['lo']); // the holder's removal (the orphan reaper) removes it
    expect(veths()).toHaveLength(1);
    expect(bridgeAllocations(BRIDGE)).toHaveLength(1);
    expect(readdirSync(join(state, 'network-spares')).sort()).toEqual([live, making.split('/').pop()].sort());
    expect([await isMountPoint(unrecorded), await isMountPoint(making)]).toEqual([false, true]);
    await removeNetns(making);
    await removeNetns(target);
    // `remove` takes the live one too, then the network.
    await net.remove();
    expect([records(), existsSync(`/sys/class/net/${BRIDGE}`)]).toEqual([[], false]);
  }, 60_000);
});
