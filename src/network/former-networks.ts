// Networks this --state used that the host config no longer describes: renamed, or given another
// bridge or subnet. The bridge and its rules stay after a network's last pod (adapter.ts), so
// without a record of what they were a changed config left them on the host for good, and a
// same-subnet change left two bridges with the subnet's route: the host could not reach the new
// pods. Each network's settings are recorded when it is first used
// (`<state>/network-settings/<name>.json`); a network recorded but no longer configured is
// "former": its bridge and rules are taken away once nothing of this root is on it (checked when a
// pod joins the configured network, and when one of its own members leaves), a pod that joined it
// leaves it (also when it joins the configured network: a pod set up again after the change
// moves), and `berth network rm` removes it by name. A former network that still has members is
// left as it is until they go. Its members' records keep their own directory by name, so a network
// whose name stayed while its bridge or subnet changed is swept only when empty.
import { readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, errnoCode } from '../lib/errors.js';
import { makeDirs } from '../lib/make-dirs.js';
import { writeFileAtomic } from '../lib/write-atomic.js';
import type { AttachRequest, NetworkAdapter } from './adapter.js';
import { checkNetworkSettings, type NetworkSettings } from './settings.js';

export const settingsDir = (state: string) => join(state, 'network-settings');

const sameSettings = (a: NetworkSettings, b: NetworkSettings) =>
  a.name === b.name && a.bridge === b.bridge && a.subnet === b.subnet && a.ipv6Subnet === b.ipv6Subnet;

/** The networks recorded under `state` (a record that does not parse or check is skipped). */
export function recordedNetworks(state: string): NetworkSettings[] {
  let names: string[];
  try {
    names = readdirSync(settingsDir(state));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
  const out: NetworkSettings[] = [];
  for (const f of names.filter((n) => n.endsWith('.json')).sort()) {
    try {
      const s = JSON.parse(readFileSync(join(settingsDir(state), f), 'utf8')) as NetworkSettings;
      const checked = checkNetworkSettings({
        name: s.name,
        bridge: s.bridge,
        subnet: s.subnet,
        ...(s.ipv6Subnet ? { ipv6Subnet: s.ipv6Subnet } : {}),
      });
      if (`${checked.name}.json` === f) out.push(checked);
    } catch {
      // not berth's, or cut short: nothing to act on
    }
  }
  return out;
}

async function record(state: string, s: NetworkSettings): Promise<void> {
  await makeDirs(settingsDir(state), 0o700);
  await writeFileAtomic(join(settingsDir(state), `${s.name}.json`), `${JSON.stringify(s)}\n`, 0o600);
}

async function forget(state: string, name: string): Promise<void> {
  await rm(join(settingsDir(state), `${name}.json`), { force: true });
}

export interface FormerNetworksOptions {
  state: string;
  /** An adapter for a network's settings (the host's plugins and tools). */
  open(settings: NetworkSettings): NetworkAdapter;
}

/**
 * The configured network's adapter, aware of the former ones: attach records the configured
 * settings and sweeps idle former networks first; detach also leaves a former network the holder
 * joined; `removeFormer` is `berth network rm` of a name no longer configured.
 */
export function withFormerNetworks(current: NetworkAdapter, o: FormerNetworksOptions): NetworkAdapter {
  const net = current.settings;
  /** Recorded under another name (of `recorded`, when read already). */
  const former = (recorded = recordedNetworks(o.state)) =>
    recorded.filter((s) => s.name !== net.name).map((s) => o.open(s));

  /**
   * Takes an idle former network away. Best effort: a pod's join or removal does not fail for it;
   * what stays (a bridge another root's veth holds, a refused iptables call) stays recorded, shown
   * by `berth network ls`, and is tried again by the next join or `berth network rm`.
   */
  async function sweep(f: NetworkAdapter): Promise<boolean> {
    try {
      if ((await f.list()).length > 0) return false;
      await f.remove();
    } catch {
      return false;
    }
    if (f.settings.name !== net.name) await forget(o.state, f.settings.name); // this name: recorded anew
    return true;
  }

  /**
   * Records the configured settings, unless its name is recorded with another bridge or subnet and
   * members are still on it (they share the name's records): then the old bridge and rules go, and
   * the new settings are recorded, once the last of them has left. False while that waits (or the
   * old bridge could not be taken away).
   */
  async function recordCurrent(): Promise<boolean> {
    const same = recordedNetworks(o.state).find((s) => s.name === net.name);
    if (same && sameSettings(same, net)) return true;
    if (same && !(await sweep(o.open(same)))) return false;
    await record(o.state, net);
    return true;
  }

  /** Once a process, before its first attach (again while an old same-name network waits). */
  let prepared: Promise<boolean> | undefined;
  const prepare = async () => {
    prepared ??= (async () => {
      for (const f of former()) await sweep(f);
      return recordCurrent();
    })();
    const done = await prepared.catch((err) => {
      prepared = undefined;
      throw err;
    });
    if (!done) prepared = undefined;
    return done;
  };

  // A spare is made on the configured network only once its settings are recorded: while old
  // members keep the name's former bridge (they share its records), one would hold that bridge.
  const spares = current.spares && {
    ...current.spares,
    async make() {
      if (!(await prepare()))
        throw new BerthError(
          'ERR_NETWORK',
          'unavailable',
          `network ${net.name}: its settings changed while pods are on its former bridge: no spare places until they leave`,
        );
      return (current.spares as NonNullable<NetworkAdapter['spares']>).make();
    },
  };

  return {
    ...current,
    ...(spares ? { spares } : {}),
    async attach(req: AttachRequest) {
      await prepare();
      // A holder on a former network (a pod whose sandbox is set up again after the change) leaves
      // it first: its namespace's interface and address there go, and the network with its last.
      for (const f of former()) {
        if (!(await f.list()).some((a) => a.key === req.key)) continue;
        await f.detach(req.key);
        await sweep(f);
      }
      return current.attach(req);
    },
    async detach(key: string, off?: () => Promise<void>) {
      // Its namespace goes beside the configured network's DEL only when no former one has a DEL
      // to run in it after.
      const formerHolds = async () => {
        for (const f of former()) if ((await f.list()).some((a) => a.key === key)) return true;
        return false;
      };
      await current.detach(key, off && !(await formerHolds()) ? off : undefined);
      // Its name recorded with other settings (waiting for the network to empty): this may be the last.
      const recorded = recordedNetworks(o.state);
      const same = recorded.find((s) => s.name === net.name);
      if (same && !sameSettings(same, net)) await recordCurrent();
      for (const f of former(recorded)) {
        if (!(await f.list()).some((a) => a.key === key)) continue;
        await f.detach(key);
        await sweep(f);
      }
    },
    async repairRules() {
      const recorded = recordedNetworks(o.state);
      const same = recorded.find((s) => s.name === net.name);
      // Its name recorded with other settings: the members are on that bridge until they leave.
      const members = same && !sameSettings(same, net) ? o.open(same) : current;
      const repaired = [];
      for (const n of [members, ...former(recorded)]) repaired.push(...(await n.repairRules()));
      return repaired;
    },
    async remove() {
      await current.remove();
      await forget(o.state, net.name);
    },
    former,
    async removeFormer(name: string) {
      const f = former().find((x) => x.settings.name === name);
      if (!f) {
        throw new BerthError('ERR_NETWORK_NOT_FOUND', 'not-found', `no network named "${name}"`, {
          hint: `this host has one: ${net.name}`,
        });
      }
      await f.remove();
      await forget(o.state, name);
    },
  };
}
