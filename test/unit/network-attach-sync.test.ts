// A pod's place on the network is boot-scoped: its record (attachments.ts) names a namespace, a
// veth and an address that a power cut takes with it, and the next boot sets the pod up again from
// nothing (a torn record reads as none). So an attach or a detach writes its records whole
// (temporary file and rename: a killed berth leaves the old one or the new one) but flushes none to
// disk: four fsyncs on a create's path were the bridge's largest cost on a busy disk. The adapter's
// tools start nothing here.
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createNetworkAdapter } from '../../src/network/adapter.js';
import type { NetworkTools } from '../../src/network/tools.js';

const NET = { name: 'snet', bridge: 'sbr0', subnet: '10.79.0.0/24' };

const tools: NetworkTools = {
  run: async () => ({ stdout: '[]', stderr: '' }),
  plugin: async (c) =>
    c.type === 'bridge' && c.command === 'ADD'
      ? { cniVersion: '1.0.0', ips: [{ address: '10.79.0.2/24', gateway: '10.79.0.1', interface: 0 }] }
      : undefined,
  save: async () => ({ rules: [], chains: new Set() }),
  restore: async () => undefined,
};

describe('attach and detach flush nothing to disk', () => {
  let work: string;
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-attach-sync-'));
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await rm(work, { recursive: true, force: true });
  });

  it('a pod joins and leaves: its record written and read back, no fsync', async () => {
    const net = createNetworkAdapter({
      settings: NET,
      state: join(work, 'state'),
      lockDir: join(work, 'locks'),
      binDir: join(work, 'none'),
      sysNet: work, // the bridge "exists": no bridge mark written
      tools,
    });
    const handle = await open(join(work, 'probe'), 'w');
    const sync = vi.spyOn(Object.getPrototypeOf(handle), 'sync');
    await handle.close();
    const a = await net.attach({
      key: 'pod-web',
      owner: { kind: 'pod', name: 'web' },
      netns: join(work, 'no-netns'),
      ports: [],
      names: ['web'],
      hostsFile: join(work, 'web.hosts'),
    });
    expect([a.state, a.ip]).toEqual(['ready', '10.79.0.2']);
    expect((await net.list()).map((r) => [r.key, r.state])).toEqual([['pod-web', 'ready']]);
    await net.settled();
    await net.detach('pod-web');
    expect(await net.list()).toEqual([]);
    expect(sync).not.toHaveBeenCalled();
  });
});
