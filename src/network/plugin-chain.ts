// Running the network's CNI chain (conflist.ts) for one holder: ADD through it in order, DEL in
// reverse, as the CNI spec runs a list, each plugin through the tools the adapter was given
// (cni-exec.ts on the host) with the PATH the network wants (plugin-path.ts). portmap's part is
// berth's own restores where they are taken (port-rules.ts: the same rules, a process a family
// instead of some fifteen): an ADD without UDP ports makes the port rules after the bridge plugin
// (portmap's ADD also clears UDP conntrack entries, which berth does not), a DEL of a record
// whose ADD went through takes them away beside the bridge's DEL; portmap itself runs only when a
// restore is refused; `addPorts` is portmap's ADD alone (rules-repair.ts: UDP ports, a refused restore).
// The bridge plugin's DEL of a ready holder whose namespace is there is berth's too (unplug.ts: one
// `ip` for the plugin's two processes); the plugin runs when that cannot be. An ADD's result is
// checked (cni-result.ts) before the next plugin or berth uses it.
import { join } from 'node:path';
import { isMountPoint } from '../runtime/rootfs.js';
import { type Attachment, cniIdOf } from './attachments.js';
import type { PluginCall } from './cni-exec.js';
import { checkAddResult } from './cni-result.js';
import {
  type CniResult,
  markChainOf,
  type PluginConf,
  pluginChain,
  pluginInput,
  portmapChainOf,
} from './conflist.js';
import type { Family, RuleLine, RulesSnapshot } from './iptables.js';
import { hostLinksNow } from './links-here.js';
import { ipv4OnlyPluginPath } from './plugin-path.js';
import { addPortRules, removePortRules } from './port-rules.js';
import type { PortMapping } from './ports.js';
import type { NetworkSettings } from './settings.js';
import type { NetworkTools } from './tools.js';
import { unplug } from './unplug.js';

const IFNAME = 'eth0';

export interface PluginChainOptions {
  net: NetworkSettings;
  /** host-local's dataDir: the host-wide one (ipam-store.ts). */
  ipamDir: string;
  binDir: string;
  tools: NetworkTools;
  /** Where an IPv4-only network's plugin PATH is made. */
  lockDir: string;
  /** The links of berth's namespace and their bridges (links-here.ts): the host's unless a test's. */
  netDev?: string;
  sysNet?: string;
}

export interface PluginChain {
  /** One plugin for the holder of CNI container id `containerId`. */
  run(
    containerId: string,
    conf: PluginConf,
    call: Pick<PluginCall, 'command' | 'netns' | 'stdin'>,
  ): Promise<unknown>;
  /**
   * ADD through the chain. `before` is awaited after the first plugin and before the port rules:
   * what they need of the host (no stale chain of this key, the network's mark chain) is done
   * meanwhile; `rules` gives the host's rules as read before. With `checks` (a family's `-C` lines
   * for what the port rules need of the host) the port rules are first made without them, in one
   * restore that checks; `rules` is asked for only when that restore is refused.
   */
  add(
    a: Attachment,
    before: Promise<unknown>,
    rules: () => Promise<Map<Family, RulesSnapshot>>,
    keep?: string[],
    checks?: Map<Family, RuleLine[]>,
  ): Promise<CniResult | undefined>;
  del(a: Attachment): Promise<void>;
  /**
   * The port rules of a holder whose address was given before (a claimed spare: spares.ts), as
   * `add` makes them after the bridge plugin.
   */
  makePorts(
    a: Attachment,
    result: CniResult,
    rules: () => Promise<Map<Family, RulesSnapshot>>,
    checks?: Map<Family, RuleLine[]>,
  ): Promise<void>;
  /** portmap's own ADD for a ready holder: its port rules made (or completed) as the plugin makes them. */
  addPorts(a: Attachment): Promise<void>;
  /**
   * portmap's DEL of id `containerId`'s chain when `rules` have it and no record does (a --state
   * wiped while the host's rules stayed): portmap appends to a chain it finds, so stale DNATs to
   * an old address would come first.
   */
  clearStale(containerId: string, ports: PortMapping[], rules: Map<Family, RulesSnapshot>): Promise<void>;
}

export function createPluginChain(o: PluginChainOptions): PluginChain {
  const { net, tools } = o;
  let pluginPath: Promise<string | undefined> | undefined;
  const pathOfPlugins = () => {
    if (net.ipv6Subnet) return Promise.resolve(undefined);
    pluginPath ??= ipv4OnlyPluginPath(o.lockDir);
    return pluginPath;
  };

  const run: PluginChain['run'] = async (containerId, conf, call) => {
    const path = await pathOfPlugins();
    return tools.plugin({
      ...(path ? { path } : {}),
      binDir: o.binDir,
      type: conf.type,
      containerId,
      ifName: IFNAME,
      ...call,
    });
  };

  async function add(
    a: Attachment,
    before: Promise<unknown>,
    rules: () => Promise<Map<Family, RulesSnapshot>>,
    keep?: string[],
    checks?: Map<Family, RuleLine[]>,
  ): Promise<CniResult | undefined> {
    let result: CniResult | undefined;
    for (const [i, conf] of pluginChain(net, o.ipamDir, a.ports, keep).entries()) {
      if (i === 1) await before;
      if (conf.type === 'portmap' && result) {
        await addPortsOf(a, conf, result, rules, checks);
        continue;
      }
      const stdin = pluginInput(net, conf, result);
      const said = await run(cniIdOf(a), conf, { command: 'ADD', netns: a.netns, stdin });
      result = checkAddResult(net, conf.type, cniIdOf(a), said);
    }
    return result;
  }

  /**
   * The holder's port rules for its ADD's `result`: berth's restore (checked first with `checks`,
   * else made from `rules`), portmap's ADD when that is refused or a port is UDP.
   */
  async function addPortsOf(
    a: Attachment,
    conf: PluginConf,
    result: CniResult,
    rules: () => Promise<Map<Family, RulesSnapshot>>,
    checks?: Map<Family, RuleLine[]>,
  ): Promise<void> {
    // UDP ports stay with portmap: its ADD also drops the host's conntrack entries for them, so a
    // client that kept sending to the port (a DNS or WireGuard peer) reaches the new pod, not a
    // former address; berth has no conntrack of its own to do that with.
    if (!a.ports.some((p) => p.protocol === 'udp')) {
      const own = {
        network: net.name,
        bridge: net.bridge,
        containerId: cniIdOf(a),
        markChain: markChainOf(net),
      };
      const made = { ...own, ports: a.ports };
      if (checks && (await addPortRules(tools, made, result, new Map(), checks))) return;
      if (await addPortRules(tools, made, result, await rules())) return;
    }
    await run(cniIdOf(a), conf, { command: 'ADD', netns: a.netns, stdin: pluginInput(net, conf, result) });
  }

  /**
   * portmap's own DEL is some ten iptables processes a family (port-rules.ts): a record whose ADD
   * went through has its port rules taken away in one restore per family, beside the bridge's DEL
   * (independent: one is the host's nat table, the other the pod's veth and IPAM file; the bridge's
   * lock keeps the address from another pod meanwhile).
   */
  async function del(a: Attachment): Promise<void> {
    const netns = (await isMountPoint(a.netns)) ? a.netns : '';
    const delOne = (conf: PluginConf) =>
      run(cniIdOf(a), conf, { command: 'DEL', netns, stdin: pluginInput(net, conf, a.result) });
    const chain = [...pluginChain(net, o.ipamDir, a.ports)].reverse();
    const portmap = chain.find((c) => c.type === 'portmap');
    const ready = a.state === 'ready' ? a.result : undefined;
    const own = portmap && ready ? removePortRules(tools, net.name, a) : undefined;
    own?.catch(() => undefined); // awaited below
    // The bridge plugin's part done here (unplug.ts) for a ready holder whose namespace is still there.
    const unplugged = (conf: PluginConf) =>
      conf.type === 'bridge' &&
      netns !== '' &&
      ready !== undefined &&
      unplug(tools.run, hostLinksNow(o.netDev, o.sysNet), {
        bridge: net.bridge,
        ipamDir: join(o.ipamDir, net.bridge),
        containerId: cniIdOf(a),
        ifName: IFNAME,
        result: ready,
      });
    try {
      for (const conf of chain)
        if ((conf !== portmap || !own) && !(await unplugged(conf))) await delOne(conf);
    } finally {
      await own?.catch(() => undefined);
    }
    if (portmap && own && !(await own)) await delOne(portmap);
  }

  async function makePorts(
    a: Attachment,
    result: CniResult,
    rules: () => Promise<Map<Family, RulesSnapshot>>,
    checks?: Map<Family, RuleLine[]>,
  ): Promise<void> {
    const conf = pluginChain(net, o.ipamDir, a.ports).find((c) => c.type === 'portmap');
    if (conf) await addPortsOf(a, conf, result, rules, checks);
  }

  async function addPorts(a: Attachment): Promise<void> {
    const conf = pluginChain(net, o.ipamDir, a.ports).find((c) => c.type === 'portmap');
    if (conf)
      await run(cniIdOf(a), conf, {
        command: 'ADD',
        netns: a.netns,
        stdin: pluginInput(net, conf, a.result),
      });
  }

  async function clearStale(containerId: string, ports: PortMapping[], rules: Map<Family, RulesSnapshot>) {
    const portmap = pluginChain(net, o.ipamDir, ports).find((c) => c.type === 'portmap');
    const stale = `nat:${portmapChainOf(net.name, containerId)}`;
    if (!portmap || ![...rules.values()].some((r) => r.chains.has(stale))) return;
    await run(containerId, portmap, { command: 'DEL', netns: '', stdin: pluginInput(net, portmap) });
  }

  return { run, add, del, addPorts, makePorts, clearStale };
}
