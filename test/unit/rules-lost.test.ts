// Which holders' rules a firewall reload took (network/rules-lost.ts): every ready holder when the
// network's own rules are not whole, else those with published ports whose DNAT chain, its rules
// or the jump to it are gone; holders without ports or still being added are never named.
import { describe, expect, it } from 'vitest';
import type { Attachment } from '../../src/network/attachments.js';
import { portmapChainOf } from '../../src/network/conflist.js';
import { networkRules } from '../../src/network/host-rules.js';
import { parseSave } from '../../src/network/iptables.js';
import { holdersWithRulesLost } from '../../src/network/rules-lost.js';

const NET = { name: 'n1', bridge: 'br-n1', subnet: '10.77.0.0/24' };
const holder = (key: string, ports: number[], state: Attachment['state'] = 'ready'): Attachment => ({
  key,
  owner: { kind: 'pod', name: key.slice(4) },
  state,
  netns: `/s/netns/${key}`,
  ports: ports.map((p) => ({ hostPort: p, containerPort: 80, protocol: 'tcp', hostIP: '' })),
  names: [key.slice(4)],
  ip: '10.77.0.2',
  result: { ips: [{ address: '10.77.0.2/24' }] },
});
const networkLines = networkRules(NET).map(
  (r) => `-A ${r.chain} ${r.spec.map((a) => (/\s/.test(a) ? `"${a}"` : a)).join(' ')}`,
);
const portLines = (key: string, port: number) => {
  const chain = portmapChainOf(NET.name, `berth-${key}`);
  return {
    chain: `:${chain} - [0:0]`,
    rule: `-A ${chain} -p tcp -m tcp --dport ${port} -j DNAT --to-destination 10.77.0.2:80`,
    jump: `-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment "dnat name: \\"n1\\" id: \\"berth-${key}\\"" -m multiport --dports ${port} -j ${chain}`,
  };
};
const save = (network: string[], ports: string[]) => {
  const nat = network.filter((l) => !/^-A (FORWARD|INPUT) /.test(l));
  const filter = network.filter((l) => /^-A (FORWARD|INPUT) /.test(l));
  const chains = [
    ':PREROUTING ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    `:BERTH-MARK-${NET.bridge} - [0:0]`,
  ];
  const text = [
    '*nat',
    ...chains,
    ...ports.filter((l) => l.startsWith(':')),
    ...nat,
    ...ports.filter((l) => l.startsWith('-A')),
    'COMMIT',
    '*filter',
    ...filter,
    'COMMIT',
  ];
  return new Map([[4 as const, parseSave(text.join('\n'))]]);
};

describe('rules lost', () => {
  const web = holder('pod-web', [8080]);
  const quiet = holder('pod-quiet', []);
  const adding = holder('pod-new', [9090], 'adding');
  const all = [web, quiet, adding];
  const p = portLines('pod-web', 8080);

  it('nothing lost while every rule is there', () => {
    expect(holdersWithRulesLost(NET, all, save(networkLines, [p.chain, p.rule, p.jump]))).toEqual(new Set());
  });

  it("the network's rules flushed: every ready holder, ports or not", () => {
    expect(holdersWithRulesLost(NET, all, save([], [p.chain, p.rule, p.jump]))).toEqual(
      new Set(['pod-web', 'pod-quiet']),
    );
    expect(holdersWithRulesLost(NET, all, save(networkLines.slice(1), [p.chain, p.rule, p.jump])).size).toBe(
      2,
    );
  });

  it("a holder's chain, its rules or its jump gone: that holder", () => {
    for (const left of [[p.rule, p.jump], [p.chain, p.jump], [p.chain, p.rule], []])
      expect(holdersWithRulesLost(NET, all, save(networkLines, left))).toEqual(new Set(['pod-web']));
  });
});
