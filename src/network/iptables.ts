// The host's packet filter as berth reads and changes it: one `iptables-save` (or `ip6tables-save`)
// for every table at once, and one `iptables-restore --noflush` for a whole batch of changes. Each
// is a process of some tens of milliseconds on an nf_tables host, so attach and detach count them
// (a rule at a time, or a table at a time, was most of the bridge's cost). Where a spawn helper is
// in use (the daemon, `container run`) the restore starts through it, as the plugins and the save
// do: a fork of Node costs it more than the restore's own CPU.
import { spawn } from 'node:child_process';
import { BerthError } from '../lib/errors.js';
import { howItEnded } from '../runtime/spawn-helper.js';
import { runTool, spawnHelperInUse } from '../runtime/tool.js';

export type Family = 4 | 6;
export type Table = 'nat' | 'filter';

export interface RuleLine {
  table: Table;
  /** As iptables-save prints a rule (`-A CHAIN ...`), or a command for restore (`-I`, `-D`). */
  line: string;
}

/** What the host has now, read once: every rule line and every chain, per table. */
export interface RulesSnapshot {
  rules: RuleLine[];
  /** `table:CHAIN` for each chain the tables declare. */
  chains: Set<string>;
}

const tool = (family: Family, what: 'save' | 'restore') =>
  `${family === 6 ? 'ip6tables' : 'iptables'}-${what}`;

/** Parses iptables-save's output (pure). */
export function parseSave(text: string): RulesSnapshot {
  const out: RulesSnapshot = { rules: [], chains: new Set() };
  let table = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1).trim();
    else if (table !== 'nat' && table !== 'filter') continue;
    else if (line.startsWith(':')) out.chains.add(`${table}:${line.slice(1).split(' ')[0]}`);
    else if (line.startsWith('-A ')) out.rules.push({ table, line });
  }
  return out;
}

export async function readRules(family: Family): Promise<RulesSnapshot> {
  const { stdout } = await runTool(tool(family, 'save'), [], 'reading the rules', {
    code: 'ERR_NETWORK_RULES',
    kind: 'unavailable',
  });
  return parseSave(stdout);
}

/**
 * The text restore reads: each table's lines, then COMMIT, the tables in the order the lines name
 * them first (pure). Each COMMIT is a transaction of its own, and a failing line stops the restore:
 * checks (`-C`) of one table put before another's changes leave the host unchanged when one fails.
 */
export function restoreText(lines: RuleLine[]): string {
  const tables = [...new Set(lines.map((l) => l.table))];
  return `${tables
    .map((t) => [`*${t}`, ...lines.filter((l) => l.table === t).map((l) => l.line), 'COMMIT'].join('\n'))
    .join('\n')}\n`;
}

const RESTORE_TIMEOUT_MS = 60_000;

/** One `iptables-restore --noflush` for every change: all of them applied, or none. */
export async function restore(family: Family, lines: RuleLine[]): Promise<void> {
  if (lines.length === 0) return;
  const cmd = tool(family, 'restore');
  const args = ['-w', '5', '--noflush'];
  const helper = spawnHelperInUse();
  if (!helper) return forked(cmd, args, restoreText(lines));
  const o = await helper
    .run({ argv: [cmd, ...args], stdin: restoreText(lines), timeoutMs: RESTORE_TIMEOUT_MS })
    .catch((e: Error) => {
      throw new BerthError('ERR_NETWORK_RULES', 'unavailable', `${cmd}: ${e.message}`, { cause: e });
    });
  if (o.code === 0 && o.why === null) return;
  throw new BerthError(
    'ERR_NETWORK_RULES',
    'unavailable',
    `${cmd} failed: ${o.stderr.trim() || howItEnded(o)}`,
  );
}

function forked(cmd: string, args: string[], text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    child.on('error', (e) =>
      reject(new BerthError('ERR_NETWORK_RULES', 'unavailable', `${cmd}: ${e.message}`, { cause: e })),
    );
    child.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(new BerthError('ERR_NETWORK_RULES', 'unavailable', `${cmd} failed: ${stderr.trim()}`)),
    );
    child.stdin.on('error', () => undefined); // its exit says why
    child.stdin.end(text);
  });
}
