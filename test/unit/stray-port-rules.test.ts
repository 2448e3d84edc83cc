// Which published-port rules no record holds (network/stray-port-rules.ts): a ruleset saved while a
// pod ran, restored after it went (iptables-persistent at boot), in iptables-save's own wording. Only
// this network's jumps into its own subnet are touched; another network's, another tool's, or one
// an attach under way holds are left. The restores themselves run on a real host in
// test/e2e/network.test.ts.
import { describe, expect, it } from 'vitest';
import { portmapChainOf } from '../../src/network/conflist.js';
import { removeNetworkRules } from '../../src/network/host-rules.js';
import { type Family, parseSave, type RuleLine } from '../../src/network/iptables.js';
import { strayPortRules } from '../../src/network/stray-port-rules.js';
import type { NetworkTools } from '../../src/network/tools.js';

const NET = { name: 'tnet', bridge: 'tbr0', subnet: '10.77.0.0/24', ipv6Subnet: 'fd77::/64' };

/** A pod's jump and chain as portmap (and berth) make them, for `net`'s comment and `to` as DNAT target. */
function pod(id: string, to: string, o: { net?: string; port?: number } = {}) {
  const chain = portmapChainOf(o.net ?? 'tnet', id);
  const port = o.port ?? 8080;
  return {
    chain,
    jump: `-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment "dnat name: \\"${o.net ?? 'tnet'}\\" id: \\"${id}\\"" -m multiport --dports ${port} -j ${chain}`,
    rules: [
      `-A ${chain} -s 127.0.0.1/32 -p tcp -m tcp --dport ${port} -j BERTH-MARK-tbr0`,
      `-A ${chain} -p tcp -m tcp --dport ${port} -j DNAT --to-destination ${to}:80`,
    ],
  };
}
type Pod = ReturnType<typeof pod>;

const save = (pods: Pod[], extra: string[] = []) =>
  parseSave(
    [
      '*nat',
      ':CNI-HOSTPORT-DNAT - [0:0]',
      ...pods.map((p) => `:${p.chain} - [0:0]`),
      ...pods.flatMap((p) => [p.jump, ...p.rules]),
      ...extra,
      'COMMIT',
    ].join('\n'),
  );
/** This root's strays: its tag `t1`, `held` the CNI ids of its records. */
const stray = (pods: Pod[], held: string[], family: Family = 4, extra: string[] = []) =>
  strayPortRules(NET, family, { tag: 't1', held }, save(pods, extra));

describe('stray port rules', () => {
  const web = pod('berth-t1-pod-web', '10.77.0.5');
  const old = pod('berth-t1-pod-old', '10.77.0.9');

  it("a pod no longer here: its jump deleted, its chain emptied and deleted; a held pod's kept", () => {
    expect(stray([web, old], ['berth-t1-pod-web'])).toEqual({
      ids: ['berth-t1-pod-old'],
      lines: [
        { table: 'nat', line: `-D${old.jump.slice(2)}` },
        { table: 'nat', line: `-F ${old.chain}` },
        { table: 'nat', line: `-X ${old.chain}` },
      ],
    });
    // An attach under way (its record `adding`) holds its rules too: its id is passed.
    expect(stray([web, old], ['berth-t1-pod-web', 'berth-t1-pod-old']).lines).toEqual([]);
  });

  it("another root's (another tag), or the version before's (no tag: any root's), are never this root's strays", () => {
    expect(stray([pod('berth-t2-pod-old', '10.77.0.9')], []).lines).toEqual([]);
    expect(stray([pod('berth-pod-old', '10.77.0.9')], []).lines).toEqual([]);
    // With nothing on the bridge (network rm: no tag given), any berth id's go.
    const all = strayPortRules(
      NET,
      4,
      { held: [] },
      save([pod('berth-t2-pod-a', '10.77.0.8'), pod('berth-pod-b', '10.77.0.9')]),
    );
    expect(all.ids).toEqual(['berth-t2-pod-a', 'berth-pod-b']);
  });

  it("the version before's (no tag) with no allocation naming it in the bridge's directory: stray; one named there (a live holder, any root's) is kept", () => {
    const oldWeb = pod('berth-pod-web', '10.77.0.2'); // a ruleset saved before the upgrade, restored at boot
    const live = pod('berth-pod-db', '10.77.0.3');
    const found = strayPortRules(
      NET,
      4,
      { tag: 't1', held: [], allocated: ['berth-pod-db', 'berth-t2-pod-x'] },
      save([oldWeb, live, pod('berth-t2-pod-x', '10.77.0.4')]),
    );
    expect(found.ids).toEqual(['berth-pod-web']);
    expect(found.lines.map((l) => l.line)).toEqual([
      `-D${oldWeb.jump.slice(2)}`,
      `-F ${oldWeb.chain}`,
      `-X ${oldWeb.chain}`,
    ]);
  });

  it("another network's, another tool's, or a DNAT out of this network's subnet: left", () => {
    expect(stray([pod('berth-t1-pod-x', '10.77.0.9', { net: 'other' })], []).lines).toEqual([]);
    expect(stray([pod('abc123', '10.77.0.9')], []).lines).toEqual([]); // podman's or containerd's id
    expect(stray([pod('berth-t1-pod-x', '10.88.0.9')], []).lines).toEqual([]); // same name, another subnet
    const mixed = pod('berth-t1-pod-x', '10.77.0.9');
    mixed.rules.push(`-A ${mixed.chain} -p tcp -m tcp --dport 9 -j DNAT --to-destination 192.0.2.1:9`);
    expect(stray([mixed], []).lines).toEqual([]);
  });

  it('a chain another jump still uses: the stray jump goes, the chain stays', () => {
    const other = `-A CNI-HOSTPORT-DNAT -p udp -m comment --comment "someone else" -j ${old.chain}`;
    expect(stray([old], [], 4, [other]).lines).toEqual([{ table: 'nat', line: `-D${old.jump.slice(2)}` }]);
  });

  it('IPv6: a DNAT into the IPv6 subnet is stray, one outside it is not', () => {
    expect(stray([pod('berth-t1-pod-v6', '[fd77::9]')], [], 6).ids).toEqual(['berth-t1-pod-v6']);
    expect(stray([pod('berth-t1-pod-v6', '[fd78::9]')], [], 6).lines).toEqual([]);
    expect(
      strayPortRules(
        { ...NET, ipv6Subnet: undefined },
        6,
        { tag: 't1', held: [] },
        save([pod('berth-t1-pod-v6', '[fd77::9]')]),
      ).lines,
    ).toEqual([]);
  });
});

describe('network rm with a stray pod chain still jumping to the mark chain', () => {
  it('the mark chain cannot go while referenced: the stray jump and chain are deleted in the same restore, first', async () => {
    const old = pod('berth-t1-pod-old', '10.77.0.9');
    const restores: string[][] = [];
    const tools: NetworkTools = {
      run: async () => ({ stdout: '', stderr: '' }),
      plugin: async () => undefined,
      save: async () => save([old], [':BERTH-MARK-tbr0 - [0:0]']),
      restore: async (_f: Family, lines: RuleLine[]) => {
        restores.push(lines.map((l) => l.line));
        if (restores.length === 1) throw new Error('CHAIN_DEL failed (Device or resource busy)');
      },
    };
    await removeNetworkRules({ ...NET, ipv6Subnet: undefined }, [4], tools);
    expect(restores).toHaveLength(2);
    expect(restores[1]).toEqual([
      `-D${old.jump.slice(2)}`,
      `-F ${old.chain}`,
      `-X ${old.chain}`,
      '-X BERTH-MARK-tbr0',
    ]);
  });
});
