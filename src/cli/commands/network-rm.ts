// `berth network rm NAME`: the bridge and the network's rules stay after the last pod leaves (as
// podman's and the kubelet's bridge CNI's do); this takes them away, refused while a pod or
// container is on the network. The next pod on the network makes them again. A network the host
// config no longer describes (renamed, another bridge or subnet) is removed by its name the same way.
import { BerthError } from '../../lib/errors.js';
import type { Command } from '../command.js';

export const networkRm: Command = {
  path: ['network', 'rm'],
  summary: "Remove a network's bridge and rules (kept after its last pod); refused while anything is on it",
  usage: 'network rm NAME',
  options: {},
  flags: [],
  args: [1, 1],
  async run(ctx, { positionals }) {
    const rt = await ctx.runtime();
    if (!rt.network) throw new BerthError('ERR_NETWORK', 'internal', 'no network is configured');
    const net = await rt.network();
    const name = positionals[0] as string;
    if (name === net.settings.name) await net.remove();
    else if (net.removeFormer) await net.removeFormer(name);
    else {
      throw new BerthError('ERR_NETWORK_NOT_FOUND', 'not-found', `no network named "${name}"`, {
        hint: `this host has one: ${net.settings.name}`,
      });
    }
    ctx.stdout.write(`${name}\n`);
    return 0;
  },
};
