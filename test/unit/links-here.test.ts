// Whether a holder is still on its bridge (network/links-here.ts): the links from a net/dev text,
// whose port is whose only from a /sys/class/net that lists the same links, and never "lost" when
// nothing could be read.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CniResult } from '../../src/network/conflist.js';
import { hostLinksNow, linksLost, parseNetDev } from '../../src/network/links-here.js';

const NET_DEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:  123       1    0    0    0     0          0         0      123       1    0    0    0     0       0          0
  eth0: 9 9 0 0 0 0 0 0 9 9 0 0 0 0 0 0
berth0: 1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0
veth1a2b:1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0
`;
const RESULT: CniResult = {
  interfaces: [{ name: 'berth0' }, { name: 'veth1a2b' }, { name: 'eth0', sandbox: '/run/berth/netns/pod-w' }],
};

describe('links here', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-links-'));
    await writeFile(join(dir, 'dev'), NET_DEV);
    for (const l of ['lo', 'eth0', 'berth0', 'veth1a2b'])
      await mkdir(join(dir, 'sys', l), { recursive: true });
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));
  const now = () => hostLinksNow(join(dir, 'dev'), join(dir, 'sys'));

  it('reads the names of a net/dev text, a name glued to its counters included', () => {
    expect([...parseNetDev(NET_DEV)].sort()).toEqual(['berth0', 'eth0', 'lo', 'veth1a2b']);
    expect(parseNetDev('')).toEqual(new Set());
  });

  it('on its bridge: not lost; the veth a port of none, or of another bridge: lost', async () => {
    await symlink('../berth0', join(dir, 'sys', 'veth1a2b', 'master'));
    expect(linksLost(RESULT, now())).toBe(false);
    await rm(join(dir, 'sys', 'veth1a2b', 'master'));
    expect(linksLost(RESULT, now())).toBe(true); // its bridge deleted, another made by that name
    await symlink('../eth0', join(dir, 'sys', 'veth1a2b', 'master'));
    expect(linksLost(RESULT, now())).toBe(true);
  });

  it('a link of it gone: lost', () => {
    expect(linksLost({ interfaces: [{ name: 'berth0' }, { name: 'veth9999' }] }, now())).toBe(true);
    expect(linksLost({ interfaces: [{ name: 'berth9' }, { name: 'veth1a2b' }] }, now())).toBe(true);
  });

  it('a /sys of another network namespace says nothing of ports; unreadable links, no result: never lost', async () => {
    await mkdir(join(dir, 'sys', 'wlan0'));
    expect(now()?.masterOf).toBeUndefined();
    expect(linksLost(RESULT, now())).toBe(false); // no port known, every link there
    expect(linksLost(RESULT, hostLinksNow(join(dir, 'absent'), join(dir, 'sys')))).toBe(false);
    expect(linksLost(undefined, now())).toBe(false);
  });
});
