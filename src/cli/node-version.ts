// The Node version berth runs on. Imported by main.ts before anything else: no imports at all.

export const MIN_NODE_MAJOR = 24;

/** The one-line refusal for a Node older than berth needs, or undefined when it is new enough. Pure. */
export function nodeTooOld(version: string, execPath: string): string | undefined {
  const major = Number(version.replace(/^v/, '').split('.')[0]);
  if (Number.isInteger(major) && major >= MIN_NODE_MAJOR) return undefined;
  // Older Nodes lack what berth calls (module.enableCompileCache, …): one clear line, not a trace.
  return `berth: ERR_NODE_TOO_OLD: berth needs Node ${MIN_NODE_MAJOR} or newer; ${execPath} is v${version.replace(/^v/, '')} (scripts/setup.sh installs Node ${MIN_NODE_MAJOR} under /opt/berth/node; the berth launcher uses it)`;
}
