// What a firewall reload leaves, and what berth makes again (network/rules-lost.ts,
// rules-repair.ts): snapshots in iptables-save's own wording (`-m tcp`, `--dports`, /32 added),
// counted chain by chain. The tools are recorded, not run; the restores themselves are checked on a
// real host by test/e2e/network.test.ts (a flush repaired by the daemon).
import { describe, expect, it } from 'vitest';
import type { Attachment } from '../../src/network/attachments.js';
import { portmapChainOf } from '../../src/network/conflist.js';
import { type Family, parseSave, type RuleLine, type RulesSnapshot } from '../../src/network/iptables.js';
import { portRulesLost } from '../../src/network/rules-lost.js';
import { repairRules } from '../../src/network/rules-repair.js';
import type { NetworkTools } from '../../src/network/tools.js';

const NET = { name: 'tnet', bridge: 'tbr0', subnet: '10.77.0.0/24' };
const CHAIN = portmapChainOf('tnet', 'berth-t1-pod-web');
const NETWORK_RULES = [
  '-A POSTROUTING -s 10.77.0.0/24 ! -d 10.77.0.0/24 -m comment --comment "berth network tnet" -j MASQUERADE',
  '-A POSTROUTING -o tbr0 -m mark --mark 0x2000/0x2000 -m comment --comment "berth network tnet" -j MASQUERADE',
  '-A BERTH-MARK-tbr0 -m comment --comment "berth network tnet" -j MARK --set-xmark 0x2000/0x2000',
];
const ENTRIES = [
  '-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT',
  '-A OUTPUT -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT',
];
const JUMP = `-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment "dnat name: \\"tnet\\" id: \\"berth-t1-pod-web\\"" -m multiport --dports 8080 -j ${CHAIN}`;
const POD_RULES = [
  `-A ${CHAIN} -s 10.77.0.5/32 -p tcp -m tcp --dport 8080 -j BERTH-MARK-tbr0`,
  `-A ${CHAIN} -s 127.0.0.1/32 -p tcp -m tcp --dport 8080 -j BERTH-MARK-tbr0`,
  `-A ${CHAIN} -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.77.0.5:80`,
];
const FILTER_RULES = [
  '-A INPUT -d 127.0.0.0/8 -i tbr0 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -m comment --comment "berth network tnet" -j DROP',
  '-A FORWARD -i tbr0 -m comment --comment "berth network tnet" -j ACCEPT',
  '-A FORWARD -o tbr0 -m conntrack --ctstate RELATED,ESTABLISHED,DNAT -m comment --comment "berth network tnet" -j ACCEPT',
];

/** The host's rules as iptables-save prints them, with only the given lines of each table. */
function save(o: { nat: string[]; filter?: string[]; chains?: string[] }): RulesSnapshot {
  const chains = o.chains ?? ['BERTH-MARK-tbr0', 'CNI-HOSTPORT-DNAT', CHAIN];
  return parseSave(
    [
      '*nat',
      ...['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'].map((c) => `:${c} ACCEPT [0:0]`),
      ...chains.map((c) => `:${c} - [0:0]`),
      ...o.nat,
      'COMMIT',
      '*filter',
      ...['INPUT', 'FORWARD', 'OUTPUT'].map((c) => `:${c} ACCEPT [0:0]`),
      ...(o.filter ?? FILTER_RULES),
      'COMMIT',
    ].join('\n'),
  );
}
const WHOLE = { nat: [...ENTRIES, ...NETWORK_RULES, JUMP, ...POD_RULES] };

/** This root's tag in its CNI ids (attachments.ts): `t1`. */
const TAG = 't1';
const web: Attachment = {
  key: 'pod-web',
  cniId: 'berth-t1-pod-web',
  owner: { kind: 'pod', name: 'web' },
  state: 'ready',
  netns: '/nonexistent',
  ports: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp', hostIP: '' }],
  ip: '10.77.0.5',
  ips: ['10.77.0.5'],
  result: { ips: [{ address: '10.77.0.5/24', gateway: '10.77.0.1', interface: 2 }] },
  names: ['web'],
};
const lost = (snap: RulesSnapshot, a = web) => portRulesLost(NET, a, new Map([[4, snap]]));

describe('port rules lost', () => {
  it('whole, or with more than was made (another attach on the bridge): not lost', () => {
    expect(lost(save(WHOLE))).toBe(false);
    expect(lost(save({ nat: [...WHOLE.nat, JUMP, ENTRIES[0] as string] }))).toBe(false);
    // The entries as another portmap words them.
    const worded = ENTRIES.map((e) => e.replace('-j', '-m comment --comment "kubernetes hostport" -j'));
    expect(lost(save({ nat: [...worded, ...NETWORK_RULES, JUMP, ...POD_RULES] }))).toBe(false);
  });

  it('its chain emptied, its rules partly gone, its jump gone, its chain gone, or an entry gone: lost', () => {
    const without = (drop: string[]) => save({ nat: WHOLE.nat.filter((l) => !drop.includes(l)) });
    expect(lost(without(POD_RULES))).toBe(true); // `iptables -t nat -F`
    expect(lost(without([POD_RULES[2] as string]))).toBe(true);
    expect(lost(without([JUMP]))).toBe(true);
    expect(lost(save({ ...WHOLE, chains: ['BERTH-MARK-tbr0', 'CNI-HOSTPORT-DNAT'] }))).toBe(true);
    expect(lost(without([ENTRIES[1] as string]))).toBe(true);
  });

  it('a saved ruleset of another boot restored: the chain is all there, but its DNAT sends the port to another address: lost', () => {
    const old = POD_RULES.map((l) => l.replaceAll('10.77.0.5', '10.77.0.9'));
    expect(lost(save({ nat: [...ENTRIES, ...NETWORK_RULES, JUMP, ...old] }))).toBe(true);
    const dnatOnly = POD_RULES.map((l, i) => (i === 2 ? (old[2] as string) : l));
    expect(lost(save({ nat: [...ENTRIES, ...NETWORK_RULES, JUMP, ...dnatOnly] }))).toBe(true);
  });

  it('a holder without ports, one not ready, or a family not read has nothing lost', () => {
    const empty = save({ nat: [] });
    expect(lost(empty, { ...web, ports: [] })).toBe(false);
    expect(lost(empty, { ...web, state: 'adding' })).toBe(false);
    expect(portRulesLost(NET, web, new Map([[6, empty]]))).toBe(false);
  });
});

/** Tools that start nothing: each call recorded; save answers `snap`. */
function recordingTools(snap: () => RulesSnapshot) {
  const calls: string[] = [];
  const tools: NetworkTools = {
    run: async (cmd, args) => {
      calls.push(`${cmd} ${args.join(' ')}`);
      return { stdout: '', stderr: '' };
    },
    plugin: async () => undefined,
    save: async (f: Family) => {
      calls.push(`save ${f}`);
      return snap();
    },
    restore: async (f: Family, lines: RuleLine[]) => {
      if (lines.length > 0)
        calls.push(`restore ${f}\n${lines.map((l) => `${l.table} ${l.line}`).join('\n')}`);
    },
  };
  return { tools, calls };
}

describe('repairing a network after a firewall reload', () => {
  const portmap = (calls: string[]) => async (a: Attachment) => {
    calls.push(`portmap ADD ${a.key}`);
  };

  it('nothing on the network: no process at all', async () => {
    const { tools, calls } = recordingTools(() => save({ nat: [] }));
    expect(await repairRules(NET, [{ ...web, state: 'adding' }], tools, portmap(calls), TAG)).toEqual({
      network: 'tnet',
      families: [],
      holders: [],
      failed: [],
      strays: [],
    });
    expect(calls).toEqual([]);
  });

  it('all there: one save, nothing changed', async () => {
    const { tools, calls } = recordingTools(() => save(WHOLE));
    const done = await repairRules(NET, [web], tools, portmap(calls), TAG);
    expect([done.families, done.holders, done.failed]).toEqual([[], [], []]);
    expect(calls).toEqual(['save 4']);
  });

  it('the network rules flushed: made again first; a pod chain flushed with its jump left: the jump deleted and the chain emptied before the rules are made again', async () => {
    const { tools, calls } = recordingTools(() => save({ nat: [...ENTRIES, JUMP], filter: [] }));
    const done = await repairRules(NET, [web], tools, portmap(calls), TAG);
    expect(done.families).toEqual([4]);
    expect(calls[0]).toBe('save 4');
    expect(calls[1]?.split('\n').filter((l) => l.includes('berth network tnet'))).toHaveLength(6);
    expect(calls[2]).toBe(`restore 4\nnat -D${JUMP.slice(2)}\nnat -F ${CHAIN}`);
    // Then addPortRules' own restore (port-rules.ts), after route_localnet on the bridge: this host
    // has no bridge tbr0, so that is refused and portmap's own ADD makes the rules, as at attach.
    expect(calls.slice(3)).toEqual(['portmap ADD pod-web']);
    expect([done.holders.map((a) => a.key), done.failed]).toEqual([['pod-web'], []]);
  });

  it("a restored ruleset's rules of a pod no longer here are deleted, the holder's kept; each named", async () => {
    const old = portmapChainOf('tnet', 'berth-t1-pod-old');
    const oldJump = JUMP.replaceAll('berth-t1-pod-web', 'berth-t1-pod-old').replace(CHAIN, old);
    const oldRules = POD_RULES.map((l) => l.replace(CHAIN, old).replaceAll('10.77.0.5', '10.77.0.9'));
    const snap = save({
      ...WHOLE,
      nat: [...WHOLE.nat, oldJump, ...oldRules],
      chains: [old, CHAIN, 'CNI-HOSTPORT-DNAT'],
    });
    const { tools, calls } = recordingTools(() => snap);
    const done = await repairRules(NET, [web], tools, portmap(calls), TAG);
    expect([done.strays, done.holders, done.failed]).toEqual([['berth-t1-pod-old'], [], []]);
    expect(calls).toEqual(['save 4', `restore 4\nnat -D${oldJump.slice(2)}\nnat -F ${old}\nnat -X ${old}`]);
  });

  it("another root's rules on the network (another tag), and untagged ones of the version before, are never this root's strays", async () => {
    const rules = (id: string, ip: string) => {
      const chain = portmapChainOf('tnet', id);
      return {
        chain,
        nat: [
          JUMP.replaceAll('berth-t1-pod-web', id).replace(CHAIN, chain),
          ...POD_RULES.map((l) => l.replace(CHAIN, chain).replaceAll('10.77.0.5', ip)),
        ],
      };
    };
    const theirs = rules('berth-t2-pod-web', '10.77.0.6');
    const legacy = rules('berth-pod-solo', '10.77.0.7');
    const snap = save({
      ...WHOLE,
      nat: [...WHOLE.nat, ...theirs.nat, ...legacy.nat],
      chains: [theirs.chain, legacy.chain, CHAIN, 'CNI-HOSTPORT-DNAT'],
    });
    const { tools, calls } = recordingTools(() => snap);
    const done = await repairRules(NET, [web], tools, portmap(calls), TAG);
    expect([done.strays, done.holders, done.failed]).toEqual([[], [], []]);
    expect(calls).toEqual(['save 4']);
  });

  it('stray rules whose delete is refused (changed meanwhile): said, the holders still repaired, tried at the next check', async () => {
    const old = portmapChainOf('tnet', 'berth-t1-pod-old');
    const oldJump = JUMP.replaceAll('berth-t1-pod-web', 'berth-t1-pod-old').replace(CHAIN, old);
    const snap = save({ nat: [...ENTRIES, ...NETWORK_RULES, oldJump], chains: [old, 'CNI-HOSTPORT-DNAT'] });
    const { tools, calls } = recordingTools(() => snap);
    const refusing: NetworkTools = {
      ...tools,
      restore: async (f, lines) => {
        if (lines.some((l) => l.line.startsWith(`-X ${old}`))) throw new Error('Bad rule');
        return tools.restore(f, lines);
      },
    };
    const done = await repairRules(NET, [web], refusing, portmap(calls), TAG);
    expect([done.strays, String(done.strayError), done.holders.map((a) => a.key)]).toEqual([
      [],
      'Error: Bad rule',
      ['pod-web'],
    ]);
  });

  it('a holder with UDP ports is put back by portmap (its ADD also drops stale conntrack entries); a failed ADD is reported, not thrown', async () => {
    const dns = {
      ...web,
      key: 'pod-dns',
      cniId: 'berth-t1-pod-dns',
      ports: [{ hostPort: 53, containerPort: 53, protocol: 'udp' as const, hostIP: '' }],
    };
    const { tools, calls } = recordingTools(() => save({ nat: [...ENTRIES, ...NETWORK_RULES] }));
    const done = await repairRules(NET, [dns], tools, portmap(calls), TAG);
    expect(calls).toEqual(['save 4', 'portmap ADD pod-dns']);
    expect(done.holders.map((a) => a.key)).toEqual(['pod-dns']);
    const refused = await repairRules(
      NET,
      [dns],
      tools,
      async () => {
        throw new Error('portmap: failed to set up');
      },
      TAG,
    );
    expect(refused.failed.map((f) => [f.holder.key, String(f.error)])).toEqual([
      ['pod-dns', 'Error: portmap: failed to set up'],
    ]);
  });
});
