// `berth network ls|inspect`: the host's bridge network (host config `network:`), its subnet and
// gateway, and who is on it with which address and published ports, read from the records the
// network adapter keeps under --state (no plugin is called, nothing is changed). Networks this
// --state used that the host config no longer describes are listed too, `configured: false`
// (network/former-networks.ts), until their last member leaves or `berth network rm` takes them.
// The members are this root's: other berth roots may use the same bridge, and their pods get
// addresses of their own (the allocations are host-wide per bridge: network/ipam-store.ts).
import { BerthError } from '../../lib/errors.js';
import type { NetworkAdapter } from '../../network/adapter.js';
import { formatPort } from '../../network/ports.js';
import { gateway6Of, gatewayOf } from '../../network/settings.js';
import type { Command, CommandContext } from '../command.js';
import { renderJson, renderTable } from '../output.js';

async function describeNetwork(net: NetworkAdapter, configured: boolean) {
  const { name, bridge, subnet, ipv6Subnet } = net.settings;
  const members = (await net.list()).map((a) => ({
    kind: a.owner.kind,
    name: a.owner.name,
    state: a.state,
    ip: a.ip ?? null,
    ips: a.ips ?? (a.ip ? [a.ip] : []),
    ports: a.ports,
  }));
  const v6 = ipv6Subnet ? { ipv6Subnet, ipv6Gateway: gateway6Of(ipv6Subnet) as string } : {};
  return { name, bridge, subnet, gateway: gatewayOf(subnet), ...v6, configured, members };
}

async function openNetwork(ctx: CommandContext): Promise<NetworkAdapter> {
  const rt = await ctx.runtime();
  if (!rt.network) throw new BerthError('ERR_NETWORK', 'internal', 'no network is configured');
  return rt.network();
}

export const networkLs: Command = {
  path: ['network', 'ls'],
  summary:
    "Networks: bridge, subnet, gateway and how many of this root's pods and containers are on each (roots may share a bridge: distinct addresses)",
  usage: 'network ls',
  options: {},
  flags: [],
  args: [0, 0],
  async run(ctx) {
    const net = await openNetwork(ctx);
    const all = [
      await describeNetwork(net, true),
      ...(await Promise.all((net.former?.() ?? []).map((f) => describeNetwork(f, false)))),
    ];
    if (ctx.flags.output === 'json') {
      ctx.stdout.write(renderJson(all));
      return 0;
    }
    ctx.stdout.write(
      renderTable(
        ['NAME', 'BRIDGE', 'SUBNET', 'GATEWAY', 'MEMBERS', 'CONFIGURED'],
        all.map((n) => [
          n.name,
          n.bridge,
          [n.subnet, n.ipv6Subnet ?? []].flat().join(','),
          [n.gateway, n.ipv6Gateway ?? []].flat().join(','),
          String(n.members.length),
          n.configured ? 'yes' : 'no',
        ]),
      ),
    );
    return 0;
  },
};

export const networkInspect: Command = {
  path: ['network', 'inspect'],
  summary:
    "A network: its settings and this root's pods and containers on it with address and ports (roots may share a bridge: distinct addresses)",
  usage: 'network inspect NAME',
  options: {},
  flags: [],
  args: [1, 1],
  async run(ctx, { positionals }) {
    const net = await openNetwork(ctx);
    const name = positionals[0];
    const target = name === net.settings.name ? net : net.former?.().find((f) => f.settings.name === name);
    if (!target) {
      throw new BerthError('ERR_NETWORK_NOT_FOUND', 'not-found', `no network named "${name}"`, {
        hint: `this host has one: ${net.settings.name}`,
      });
    }
    const n = await describeNetwork(target, target === net);
    if (ctx.flags.output === 'json') {
      ctx.stdout.write(renderJson(n));
      return 0;
    }
    const v6 = n.ipv6Subnet ? `, IPv6 subnet ${n.ipv6Subnet}, gateway ${n.ipv6Gateway}` : '';
    const former = n.configured ? '' : ' (not in the host config: removed with its last member)';
    ctx.stdout.write(
      `${n.name}: bridge ${n.bridge}, subnet ${n.subnet}, gateway ${n.gateway}${v6}${former}\n`,
    );
    ctx.stdout.write(
      renderTable(
        ['KIND', 'NAME', 'STATE', 'IP', 'PORTS'],
        n.members.map((m) => [
          m.kind,
          m.name,
          m.state,
          m.ips.join(',') || '-',
          m.ports.map(formatPort).join(',') || '-',
        ]),
      ),
    );
    return 0;
  },
};
