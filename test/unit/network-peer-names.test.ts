// Names follow pods (network/adapter.ts): a joining pod's own hosts file names every peer when its
// attach returns; its peers' files name it a little later (PEERS_NAMES_DELAY_MS, by the timer alone,
// as in the daemon, or at once through settled()); a leaving pod's name is gone from every file
// when its detach returns; a rewrite that fails is said by settled() and tried again until it
// succeeds. The adapter's tools start nothing here: the bridge plugin's ADD answers an address.
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createNetworkAdapter,
  type NetworkAdapter,
  PEERS_NAMES_DELAY_MS,
} from '../../src/network/adapter.js';
import { networkDirs } from '../../src/network/attachments.js';
import type { NetworkTools } from '../../src/network/tools.js';

const NET = { name: 'pnet', bridge: 'pbr0', subnet: '10.78.0.0/24' };

/** Tools that start nothing; the bridge ADD gives the next address. */
function fakeTools(): NetworkTools {
  let next = 2;
  return {
    run: async () => ({ stdout: '[]', stderr: '' }),
    plugin: async (c) =>
      c.type === 'bridge' && c.command === 'ADD'
        ? {
            cniVersion: '1.0.0',
            interfaces: [{ name: 'eth0', sandbox: c.netns }],
            ips: [{ address: `10.78.0.${next++}/24`, gateway: '10.78.0.1', interface: 0 }],
          }
        : undefined,
    save: async () => ({ rules: [], chains: new Set() }),
    restore: async () => undefined,
  };
}

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('pod names in hosts files', () => {
  let work: string;
  let net: NetworkAdapter;
  const hosts = (pod: string) => join(work, `${pod}.hosts`);
  const names = (pod: string) =>
    existsSync(hosts(pod))
      ? readFileSync(hosts(pod), 'utf8')
          .split('\n')
          .filter((l) => l.startsWith('10.78.'))
          .map((l) => l.split('\t')[1])
      : [];
  const attach = (pod: string) =>
    net.attach({
      key: `pod-${pod}`,
      owner: { kind: 'pod', name: pod },
      netns: join(work, 'no-netns'),
      ports: [],
      names: [pod],
      hostsFile: hosts(pod),
    });

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-peer-names-'));
    net = createNetworkAdapter({
      settings: NET,
      state: join(work, 'state'),
      lockDir: join(work, 'locks'),
      binDir: join(work, 'none'),
      tools: fakeTools(),
    });
  });
  afterEach(async () => {
    await net.settled().catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  });

  it('the joiner names its peers at once; the peers name it after the delay, by the timer alone', async () => {
    await attach('a');
    await attach('b');
    expect(names('b')).toEqual(['b', 'a']);
    expect(names('a')).toEqual(['a']); // not yet: the new pod's start goes first
    const t0 = Date.now();
    await until(() => names('a').includes('b'));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(PEERS_NAMES_DELAY_MS / 2);
    await attach('c');
    await net.settled(); // at once, not after the delay
    expect([names('a'), names('b'), names('c')]).toEqual([
      ['a', 'b', 'c'],
      ['b', 'a', 'c'],
      ['c', 'a', 'b'],
    ]);
  });

  it('a leaving pod is gone from every file when its detach returns', async () => {
    for (const p of ['a', 'b', 'c']) await attach(p);
    await net.settled();
    await net.detach('pod-b');
    expect([names('a'), names('c')]).toEqual([
      ['a', 'c'],
      ['c', 'a'],
    ]);
  });

  it('a ready record always has its hosts file: one that cannot be written fails the attach and leaves the record unready', async () => {
    const bad = join(work, 'no-such-dir', 'hosts');
    await expect(
      net.attach({
        key: 'pod-x',
        owner: { kind: 'pod', name: 'x' },
        netns: join(work, 'no-netns'),
        ports: [],
        names: ['x'],
        hostsFile: bad,
      }),
    ).rejects.toMatchObject({ code: 'ENOENT' });
    // A berth killed at that point leaves the same: the next setup attaches again.
    expect((await net.list()).map((a) => [a.key, a.state])).toEqual([['pod-x', 'adding']]);
  });

  it('a rewrite that fails is said by settled() and tried again, by itself, until it succeeds', async () => {
    await attach('a');
    await net.settled();
    await attach('b'); // a's rewrite is due
    // The records unreadable when it runs (a file where their directory was).
    const records = networkDirs(join(work, 'state'), NET.name).attachments;
    await rename(records, `${records}.away`);
    await writeFile(records, 'not a directory');
    await expect(net.settled()).rejects.toMatchObject({
      code: 'ERR_NETWORK',
      message: expect.stringMatching(/^network pnet: the pods' \/etc\/hosts were not rewritten: .*ENOTDIR/),
    });
    expect(names('a')).toEqual(['a']);
    await rm(records);
    await rename(`${records}.away`, records);
    await until(() => names('a').includes('b'), 15_000); // the retry, with nothing asking for it
    await expect(net.settled()).resolves.toBeUndefined();
  }, 30_000);

  it('a pod joining with no peer rewrites no other file: nothing is due when its attach returns', async () => {
    await attach('a');
    // A marker where a rewrite would put the names back: it stays only if none ran.
    await writeFile(hosts('a'), 'untouched\n');
    await net.settled();
    expect(readFileSync(hosts('a'), 'utf8')).toBe('untouched\n');
    await attach('b'); // a is a peer now: its file names b after the rewrite
    await net.settled();
    expect(names('a')).toEqual(['a', 'b']);
  });
});
