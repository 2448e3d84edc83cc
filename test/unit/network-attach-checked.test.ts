// What an attach starts on the host's packet filter (the adapter's tools record it; no plugin or
// iptables runs here). The first attach of a boot by a root reads the host's rules (one save a
// family) and deletes its stray port rules (a saved ruleset restored at boot). Then, on that boot,
// a new holder on the bridge reads nothing: one restore checks (`-C`) the network's rules and the
// entry jumps into CNI-HOSTPORT-DNAT, the filter table's first, and makes its port rules; refused
// (someone flushed a rule), the attach reads, makes the network's rules whole, then its own. (The
// port rules' restore, with its checks first, needs a real bridge: test/e2e/network.test.ts.)
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createNetworkAdapter, type NetworkAdapter } from '../../src/network/adapter.js';
import type { Family, RuleLine } from '../../src/network/iptables.js';
import type { PortMapping } from '../../src/network/ports.js';
import type { NetworkTools } from '../../src/network/tools.js';

const NET = { name: 'cnet', bridge: 'cbr0', subnet: '10.81.0.0/24' };

/** Tools that start nothing: each save and restore recorded; a restore with a check refused when `refuse` says. */
function recordingTools(refuse: () => boolean) {
  const calls: string[] = [];
  let n = 1;
  const tools: NetworkTools = {
    run: async () => ({ stdout: '[]', stderr: '' }),
    plugin: async (c) =>
      c.type === 'bridge' && c.command === 'ADD'
        ? { cniVersion: '1.0.0', ips: [{ address: `10.81.0.${++n}/24`, gateway: '10.81.0.1', interface: 0 }] }
        : undefined,
    save: async (f) => {
      calls.push(`save ${f}`);
      return { rules: [], chains: new Set() };
    },
    restore: async (f: Family, lines: RuleLine[]) => {
      if (lines.length === 0) return;
      const checks = lines.some((l) => l.line.startsWith('-C '));
      calls.push(
        `restore ${f}: ${[...new Set(lines.map((l) => `${l.table} ${l.line.slice(0, 2)}`))].join(', ')}`,
      );
      if (checks && refuse()) throw new Error('iptables-restore: line 2 failed: Bad rule');
    },
  };
  return { tools, calls };
}

describe('an attach on the boot its root swept reads no rules', () => {
  let work: string;
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-attach-checked-'));
    await mkdir(join(work, 'sys', NET.bridge), { recursive: true }); // the bridge is there
  });
  const made: NetworkAdapter[] = [];
  afterEach(async () => {
    // Their peers' names rewrites, due 200 ms after a join, take the lock (made again under work).
    await Promise.allSettled(made.splice(0).map((n) => n.settled()));
    await rm(work, { recursive: true, force: true });
  });

  const adapterWith = (tools: NetworkTools) => {
    const net = createNetworkAdapter({
      settings: NET,
      state: join(work, 'state'),
      lockDir: join(work, 'locks'),
      binDir: join(work, 'none'),
      sysNet: join(work, 'sys'),
      tools,
    });
    made.push(net);
    return net;
  };
  const attach = (net: ReturnType<typeof adapterWith>, key: string, ports: PortMapping[]) =>
    net.attach({
      key,
      owner: { kind: 'pod', name: key },
      netns: join(work, 'no-netns'),
      ports,
      names: [key],
    });

  it('the first attach reads and sweeps; the next checks the network’s rules in one restore, the filter table’s first', async () => {
    const { tools, calls } = recordingTools(() => false);
    const net = adapterWith(tools);
    await attach(net, 'pod-a', []);
    expect(calls).toEqual(['save 4', 'restore 4: nat :B, nat -I, filter -I']); // none were read
    calls.length = 0;
    await attach(net, 'pod-b', []);
    expect(calls).toEqual(['restore 4: filter -C, nat -C']);
  });

  it('a check refused (a rule flushed meanwhile): the attach reads the rules and makes the network’s whole', async () => {
    let refuse = false;
    const { tools, calls } = recordingTools(() => refuse);
    const net = adapterWith(tools);
    await attach(net, 'pod-a', []);
    calls.length = 0;
    refuse = true; // `iptables -F FORWARD` meanwhile
    await attach(net, 'pod-b', []);
    expect(calls).toEqual(['restore 4: filter -C, nat -C', 'save 4', 'restore 4: nat :B, nat -I, filter -I']);
  });

  it('a sweep noted on another boot (or a --state wiped): the next attach reads and sweeps again', async () => {
    const { tools, calls } = recordingTools(() => false);
    const net = adapterWith(tools);
    await attach(net, 'pod-a', []);
    const swept = join(work, 'state', 'network-swept', Buffer.from(NET.name).toString('hex'));
    await writeFile(swept, '00000000\n');
    calls.length = 0;
    await attach(net, 'pod-b', []);
    expect(calls[0]).toBe('save 4');
    await rm(join(work, 'state', 'network-swept'), { recursive: true });
    calls.length = 0;
    await attach(net, 'pod-c', []);
    expect(calls[0]).toBe('save 4');
  });
});
