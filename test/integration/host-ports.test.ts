// The host-wide claims of published ports (network/host-ports.ts) in a temp lock directory, with
// two roots' --state directories beside it and their attachment records as the adapter writes them:
// a port taken once host-wide whatever the bridge, the other holder named, a claim that outlived its
// record (a berth killed mid-removal, a wiped --state) deleted by the next claim, and nothing left
// once the last claim goes. The adapter claiming through real pods is test/e2e/host-ports.test.ts.
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { networkDirs, writeAttachment } from '../../src/network/attachments.js';
import {
  claimPorts,
  hostPortsDirOf,
  otherRootsPorts,
  type PortClaim,
  readClaims,
  releaseClaims,
} from '../../src/network/host-ports.js';
import type { PortMapping } from '../../src/network/ports.js';

const tcp = (hostPort: number, hostIP = ''): PortMapping => ({
  hostPort,
  containerPort: 80,
  protocol: 'tcp',
  hostIP,
});

describe('host-wide port claims', () => {
  let work: string;
  let lockDir: string;
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-host-ports-'));
    lockDir = join(work, 'run');
  });
  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  /** A holder of root `root` (its --state under work) with its record written, as attach leaves it. */
  const holder = async (
    root: string,
    pod: string,
    ports: PortMapping[],
    network = 'net',
  ): Promise<PortClaim> => {
    const state = join(work, root);
    const key = `pod-${pod}`;
    const owner = { kind: 'pod' as const, name: pod };
    await writeAttachment(networkDirs(state, network).attachments, {
      key,
      owner,
      state: 'adding',
      netns: '',
      ports,
      names: [pod],
    });
    return { state, network, key, cniId: `berth-x-${key}`, owner, ports };
  };
  const record = (c: PortClaim) => join(networkDirs(c.state, c.network).attachments, `${c.key}.json`);

  it("a port another root holds is refused, naming it; another address, protocol or port is not; the holder's own claim is rewritten", async () => {
    const a = await holder('a', 'web', [tcp(8080)]);
    expect(await claimPorts(lockDir, a)).toEqual({ reaped: [] });
    // Another root, on another network (another bridge): the same port on every address or one.
    const b = await holder('b', 'web', [tcp(8080, '127.0.0.1')], 'other');
    let committed = false;
    const refused = await claimPorts(lockDir, b, async () => {
      committed = true;
    });
    expect([refused.conflict?.port, refused.conflict?.claim.state, committed]).toEqual([
      tcp(8080, '127.0.0.1'),
      a.state,
      false,
    ]);
    expect(otherRootsPorts(hostPortsDirOf(lockDir), b.state)).toEqual([
      { owner: `pod web of the berth root with --state ${a.state}`, ports: [tcp(8080)] },
    ]);
    expect(otherRootsPorts(hostPortsDirOf(lockDir), a.state)).toEqual([]);
    for (const ports of [[{ ...tcp(8080), protocol: 'udp' as const }], [tcp(8081)]]) {
      expect(await claimPorts(lockDir, { ...b, ports })).toEqual({ reaped: [] });
    }
    // a changes its ports: its own claim is replaced, 8080 is free for b.
    expect(await claimPorts(lockDir, { ...a, ports: [tcp(9090)] })).toEqual({ reaped: [] });
    expect(
      await claimPorts(lockDir, b, async () => {
        committed = true;
      }),
    ).toEqual({ reaped: [] });
    expect(committed).toBe(true);
    expect(readClaims(hostPortsDirOf(lockDir)).map((c) => [c.state, c.ports])).toEqual(
      expect.arrayContaining([
        [a.state, [tcp(9090)]],
        [b.state, [tcp(8080, '127.0.0.1')]],
      ]),
    );
  });

  it('a claim whose record is gone (its --state wiped, a removal killed before releasing) holds nothing and is deleted by the next claim', async () => {
    const a = await holder('a', 'web', [tcp(8080)]);
    await claimPorts(lockDir, a);
    await rm(join(work, 'a'), { recursive: true, force: true });
    const b = await holder('b', 'web', [tcp(8080)]);
    expect(otherRootsPorts(hostPortsDirOf(lockDir), b.state)).toEqual([]);
    const taken = await claimPorts(lockDir, b);
    expect([taken.conflict, taken.reaped.map((c) => [c.state, c.cniId])]).toEqual([
      undefined,
      [[a.state, a.cniId]],
    ]);
    expect(readClaims(hostPortsDirOf(lockDir)).map((c) => c.state)).toEqual([b.state]);
  });

  it("released with the holder (or all of a root's network): the directory goes with the last claim", async () => {
    const a = await holder('a', 'web', [tcp(8080)]);
    const b = await holder('a', 'api', [tcp(8081)]);
    const c = await holder('c', 'web', [tcp(8082)]);
    for (const h of [a, b, c]) await claimPorts(lockDir, h);
    await rm(record(a));
    await releaseClaims(lockDir, (x) => x.state === a.state && x.key === a.key);
    expect(
      readClaims(hostPortsDirOf(lockDir))
        .map((x) => x.key)
        .sort(),
    ).toEqual(['pod-api', 'pod-web']);
    await releaseClaims(lockDir, (x) => x.state === a.state);
    // A holder that no longer publishes anything gives its claim back the same way.
    expect(await claimPorts(lockDir, { ...c, ports: [] })).toEqual({ reaped: [] });
    expect(existsSync(hostPortsDirOf(lockDir))).toBe(false);
    expect(readdirSync(lockDir)).toEqual(['locks']); // the lock file stays, as every one there
  });
});
