// The processes the network starts, as one dependency of the adapter: the CNI plugins, `ip`,
// `iptables-save` and `iptables-restore` (and their ip6tables twins). The host's by default; a
// test passes its own to see which processes a pod's attach or removal starts, and in what order.
import { runTool } from '../runtime/tool.js';
import type { RunTool } from './bridge-links.js';
import { execPlugin } from './cni-exec.js';
import { readRules, restore } from './iptables.js';

export interface NetworkTools {
  run: RunTool;
  plugin: typeof execPlugin;
  save: typeof readRules;
  restore: typeof restore;
}

export const HOST_TOOLS: NetworkTools = { run: runTool, plugin: execPlugin, save: readRules, restore };
