// The bridge plugin's DEL of a ready holder, done by berth where it can be: the plugin is two Go
// programs (itself, then host-local for the address), each a process start of some tens of
// milliseconds, where berth needs one `ip`. Its veth is deleted from the host's end (the pair goes
// with it, the pod's eth0 too) and its addresses' files as host-local's DEL deletes them
// (ipam-store.ts), under the bridge's lock the caller holds, as every change to them is. The veth
// goes first: killed between, the address is still held, and the next DEL (the plugin, the veth
// being gone) frees it; freed first, the address could go to another pod while the veth had it.
// Only a veth the host's /sys shows on the network's bridge is deleted; anything else (no single
// veth recorded, the veth gone or moved, /sys another namespace's, `ip` refused) is left to the
// plugin's DEL.
import type { RunTool } from './bridge-links.js';
import { type CniResult, hostVethsOf } from './conflist.js';
import { releaseHolder } from './ipam-store.js';
import type { HostLinks } from './links-here.js';

export interface Unplugging {
  bridge: string;
  /** host-local's directory of the bridge's allocations (ipam-store.ts). */
  ipamDir: string;
  containerId: string;
  ifName: string;
  result: CniResult;
}

/** True once the holder's veth and addresses are gone; false (nothing done) where the plugin must. */
export async function unplug(run: RunTool, links: HostLinks | undefined, u: Unplugging): Promise<boolean> {
  const veths = hostVethsOf(u.result, u.bridge);
  const veth = veths[0];
  if (veths.length !== 1 || veth === undefined || links?.masterOf?.(veth) !== u.bridge) return false;
  try {
    await run('ip', ['link', 'del', veth], `removing ${u.containerId} from bridge ${u.bridge}`, {
      code: 'ERR_NETWORK',
    });
  } catch {
    return false; // gone meanwhile, or refused: the plugin's DEL does it, or says why not
  }
  await releaseHolder(u.ipamDir, u.containerId, u.ifName);
  return true;
}
