// What a pod's removal from the network starts, process by process (the adapter's tools
// dependency records them; no plugin or iptables runs here): a pod whose ADD went through has its
// port rules taken away in one iptables-restore per family of its addresses beside the bridge's
// DEL, and portmap's own DEL (some ten iptables processes a family) runs only when that restore
// is refused or the record is a half-made ADD. The restore's lines are portmap 1.1.1's jumps
// (protocols sorted, 15 ports a jump, its comment cut at 255) and its chain; words with quotes or
// spaces are quoted as iptables-save quotes them. The lines that make them at ADD are checked here
// word for word, and against the real portmap's in test/e2e/network-adapter.test.ts.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createNetworkAdapter } from '../../src/network/adapter.js';
import { type Attachment, networkDirs, writeAttachment } from '../../src/network/attachments.js';
import { portmapChainOf } from '../../src/network/conflist.js';
import { type Family, parseSave, type RuleLine } from '../../src/network/iptables.js';
import {
  HOSTPORT_ENTRIES,
  portmapComment,
  portRuleAdditions,
  portRuleDeletions,
  portRulesOfId,
  restoreWord,
} from '../../src/network/port-rules.js';
import type { PortMapping } from '../../src/network/ports.js';
import type { NetworkTools } from '../../src/network/tools.js';

const NET = { name: 'tnet', bridge: 'tbr0', subnet: '10.77.0.0/24' };
const tcp = (hostPort: number, containerPort = 80): PortMapping => ({
  hostPort,
  containerPort,
  protocol: 'tcp',
  hostIP: '',
});
const CHAIN = portmapChainOf('tnet', 'berth-pod-web');
const COMMENT = '"dnat name: \\"tnet\\" id: \\"berth-pod-web\\""';

/** Tools that start nothing: each call recorded as one line; restore refused when `refuse` says. */
function recordingTools(refuse: (f: Family) => boolean = () => false) {
  const calls: string[] = [];
  const tools: NetworkTools = {
    run: async (cmd, args) => {
      calls.push(`${cmd} ${args.join(' ')}`);
      return { stdout: '[]', stderr: '' };
    },
    plugin: async (c) => {
      calls.push(`${c.type} ${c.command} netns=${c.netns} id=${c.containerId} path=${c.path ?? ''}`);
      return undefined;
    },
    save: async (f) => {
      calls.push(`save ${f}`);
      return { rules: [], chains: new Set() };
    },
    restore: async (f: Family, lines: RuleLine[]) => {
      if (lines.length === 0) return; // no process
      calls.push(`restore ${f}\n${lines.map((l) => `${l.table} ${l.line}`).join('\n')}`);
      if (refuse(f)) throw new Error(`ip${f === 6 ? '6' : ''}tables-restore: Bad rule`);
    },
  };
  return { tools, calls };
}

describe('a pod removal from the network: the processes it starts', () => {
  let work: string;
  let state: string;
  let lockDir: string;
  const record = (over: Partial<Attachment> = {}): Attachment => ({
    key: 'pod-web',
    owner: { kind: 'pod', name: 'web' },
    state: 'ready',
    netns: join(work, 'no-netns'), // not a mount point: DEL runs with no namespace
    ports: [tcp(8080), { hostPort: 5353, containerPort: 53, protocol: 'udp', hostIP: '127.0.0.1' }],
    ip: '10.77.0.5',
    ips: ['10.77.0.5'],
    result: { ips: [{ address: '10.77.0.5/24', gateway: '10.77.0.1', interface: 2 }] },
    names: ['web'],
    ...over,
  });
  const detach = async (rec: Attachment, tools: NetworkTools, net = NET) => {
    const dirs = networkDirs(state, net.name);
    await writeAttachment(dirs.attachments, rec);
    // No plugin directory: were anything run for real, it would fail.
    const adapter = createNetworkAdapter({
      settings: net,
      state,
      lockDir,
      binDir: join(work, 'none'),
      tools,
    });
    await adapter.detach(rec.key);
    return adapter.list();
  };
  const path = () => join(lockDir, 'ipv4-plugin-path');
  const portRestore = (f: Family) =>
    [
      `restore ${f}`,
      `nat -D CNI-HOSTPORT-DNAT -m comment --comment ${COMMENT} -m multiport -p tcp --destination-ports 8080 -j ${CHAIN}`,
      `nat -D CNI-HOSTPORT-DNAT -m comment --comment ${COMMENT} -m multiport -p udp --destination-ports 5353 -j ${CHAIN}`,
      `nat -F ${CHAIN}`,
      `nat -X ${CHAIN}`,
    ].join('\n');

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-teardown-'));
    state = join(work, 'state');
    lockDir = join(work, 'locks');
  });
  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('a pod with published ports: one iptables-restore and the bridge DEL, no portmap DEL', async () => {
    const { tools, calls } = recordingTools();
    expect(await detach(record(), tools)).toEqual([]);
    expect(calls).toEqual([portRestore(4), `bridge DEL netns= id=berth-pod-web path=${path()}`]);
  });

  it("the holder's namespace goes once its DEL is done, beside the record's removal and the peers' names", async () => {
    const { tools, calls } = recordingTools();
    const dirs = networkDirs(state, NET.name);
    await writeAttachment(dirs.attachments, record());
    const adapter = createNetworkAdapter({
      settings: NET,
      state,
      lockDir,
      binDir: join(work, 'none'),
      tools,
    });
    // The record's removal runs beside the namespace's (an unlink in libuv's pool): whether the record
    // is still there when the namespace goes is a race, not asserted; that both are done after is.
    await adapter.detach('pod-web', async () => {
      calls.push('namespace');
    });
    expect(calls).toEqual([portRestore(4), `bridge DEL netns= id=berth-pod-web path=${path()}`, 'namespace']);
    expect(await adapter.list()).toEqual([]);
    // Nothing of the holder on the network: not called (its caller takes the namespace away after).
    calls.length = 0;
    await adapter.detach('pod-web', async () => {
      calls.push('namespace');
    });
    expect(calls).toEqual([]);
  });

  it('the restore refused (rules of another portmap, or already gone): portmap DEL after the bridge DEL', async () => {
    const { tools, calls } = recordingTools(() => true);
    expect(await detach(record(), tools)).toEqual([]);
    expect(calls).toEqual([
      portRestore(4),
      `bridge DEL netns= id=berth-pod-web path=${path()}`,
      `portmap DEL netns= id=berth-pod-web path=${path()}`,
    ]);
  });

  it('a half-made ADD (adding) runs the whole chain in reverse; a pod without ports the bridge DEL alone', async () => {
    const adding = recordingTools();
    await detach(record({ state: 'adding', ip: undefined, ips: undefined, result: undefined }), adding.tools);
    expect(adding.calls).toEqual([
      `portmap DEL netns= id=berth-pod-web path=${path()}`,
      `bridge DEL netns= id=berth-pod-web path=${path()}`,
    ]);
    const bare = recordingTools();
    await detach(record({ ports: [] }), bare.tools);
    expect(bare.calls).toEqual([`bridge DEL netns= id=berth-pod-web path=${path()}`]);
  });

  it('dual stack: a restore in each family; one refused brings portmap DEL back', async () => {
    const net6 = { ...NET, ipv6Subnet: 'fd77::/64' };
    const dual = record({
      ips: ['10.77.0.5', 'fd77::5'],
      result: { ips: [{ address: '10.77.0.5/24' }, { address: 'fd77::5/64' }] },
    });
    const both = recordingTools();
    await detach(dual, both.tools, net6);
    // Dual stack runs the plugins with berth's own PATH (portmap needs ip6tables).
    expect(both.calls).toEqual([portRestore(4), portRestore(6), 'bridge DEL netns= id=berth-pod-web path=']);
    const six = recordingTools((f) => f === 6);
    await detach(dual, six.tools, net6);
    expect(six.calls).toEqual([
      portRestore(4),
      portRestore(6),
      'bridge DEL netns= id=berth-pod-web path=',
      'portmap DEL netns= id=berth-pod-web path=',
    ]);
  });
});

describe('portmap 1.1.1 port rules, as restore lines', () => {
  it('protocols sorted, at most 15 ports a jump, in the order given', () => {
    const ports = [
      ...Array.from({ length: 16 }, (_, i) => tcp(9000 + i)),
      { hostPort: 7000, containerPort: 7000, protocol: 'sctp' as const, hostIP: '' },
    ];
    const lines = portRuleDeletions('tnet', 'berth-pod-web', ports).map((l) => l.line);
    const head = `-D CNI-HOSTPORT-DNAT -m comment --comment ${COMMENT} -m multiport`;
    expect(lines).toEqual([
      `${head} -p sctp --destination-ports 7000 -j ${CHAIN}`,
      `${head} -p tcp --destination-ports ${Array.from({ length: 15 }, (_, i) => 9000 + i).join(',')} -j ${CHAIN}`,
      `${head} -p tcp --destination-ports 9015 -j ${CHAIN}`,
      `-F ${CHAIN}`,
      `-X ${CHAIN}`,
    ]);
  });

  it('hostile words: quotes and backslashes escaped, a comment over 255 characters cut as portmap cuts it', () => {
    expect(restoreWord('a"b\\c d')).toBe('"a\\"b\\\\c d"');
    expect(restoreWord("it's")).toBe('"it\'s"');
    expect(restoreWord('8080,8081')).toBe('8080,8081');
    const long = portmapComment('tnet', `berth-pod-${'x'.repeat(300)}`);
    expect([
      long.length,
      long.endsWith('...'),
      long.startsWith('dnat name: "tnet" id: "berth-pod-xxx'),
    ]).toEqual([256, true, true]);
  });

  it('additions: the chain declared first, the entry jumps only where the host lacks them, IPv6 without the localhost mark', () => {
    const ports = [tcp(8080), { hostPort: 5353, containerPort: 53, protocol: 'udp' as const, hostIP: '::1' }];
    const o = { network: 'tnet', containerId: 'berth-pod-web', markChain: 'BERTH-MARK-b0', ports };
    const none = { rules: [], chains: new Set<string>() };
    const v4 = portRuleAdditions({ ...o, containerNet: '10.1.2.3/24' }, none).map((l) => l.line);
    expect(v4).toEqual([
      `:${CHAIN} - [0:0]`,
      ...HOSTPORT_ENTRIES,
      `-A ${CHAIN} -p tcp --dport 8080 -s 10.1.2.3/24 -j BERTH-MARK-b0`,
      `-A ${CHAIN} -p tcp --dport 8080 -s 127.0.0.1 -j BERTH-MARK-b0`,
      `-A ${CHAIN} -p tcp --dport 8080 -j DNAT --to-destination 10.1.2.3:80`,
      `-A CNI-HOSTPORT-DNAT -m comment --comment ${COMMENT} -m multiport -p tcp --destination-ports 8080 -j ${CHAIN}`,
      `-A CNI-HOSTPORT-DNAT -m comment --comment ${COMMENT} -m multiport -p udp --destination-ports 5353 -j ${CHAIN}`,
    ]);
    const have = {
      rules: HOSTPORT_ENTRIES.map((line) => ({ table: 'nat' as const, line })),
      chains: new Set<string>(),
    };
    const v6 = portRuleAdditions({ ...o, containerNet: 'fd00::5/64' }, have).map((l) => l.line);
    expect(v6.slice(0, 5)).toEqual([
      `:${CHAIN} - [0:0]`,
      `-A ${CHAIN} -p tcp --dport 8080 -s fd00::5/64 -j BERTH-MARK-b0`,
      `-A ${CHAIN} -p tcp --dport 8080 -j DNAT --to-destination [fd00::5]:80`,
      `-A ${CHAIN} -p udp --dport 5353 -d ::1 -s fd00::5/64 -j BERTH-MARK-b0`,
      `-A ${CHAIN} -p udp --dport 5353 -d ::1 -j DNAT --to-destination [fd00::5]:53`,
    ]);
  });
});

describe("a dead claim's port rules, found by its id alone", () => {
  it("its jumps and chain go; another holder's jump to another chain and a host without the chain are left", () => {
    const other = portmapChainOf('tnet', 'berth-pod-other');
    const save = [
      '*nat',
      `:${CHAIN} - [0:0]`,
      `:${other} - [0:0]`,
      `-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment ${COMMENT} -m multiport --dports 8080 -j ${CHAIN}`,
      `-A CNI-HOSTPORT-DNAT -p udp -m comment --comment ${COMMENT} -m multiport --dports 53 -j ${CHAIN}`,
      `-A CNI-HOSTPORT-DNAT -p tcp -m multiport --dports 8080 -j ${other}`,
      `-A ${CHAIN} -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.1.2.3:80`,
      'COMMIT',
    ].join('\n');
    expect(portRulesOfId('tnet', 'berth-pod-web', parseSave(save)).map((l) => l.line)).toEqual([
      `-D CNI-HOSTPORT-DNAT -p tcp -m comment --comment ${COMMENT} -m multiport --dports 8080 -j ${CHAIN}`,
      `-D CNI-HOSTPORT-DNAT -p udp -m comment --comment ${COMMENT} -m multiport --dports 53 -j ${CHAIN}`,
      `-F ${CHAIN}`,
      `-X ${CHAIN}`,
    ]);
    expect(portRulesOfId('tnet', 'berth-pod-gone', parseSave(save))).toEqual([]);
  });
});
