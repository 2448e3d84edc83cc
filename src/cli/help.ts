// Help text, generated from the command table so it can never drift from what parses. Pure.
import type { Command } from './command.js';

const GLOBAL_FLAGS: Array<[string, string]> = [
  ['--root DIR', 'store root (default /var/lib/berth, or $BERTH_ROOT)'],
  ['--state DIR', 'runtime state (default /run/berth, or $BERTH_STATE)'],
  ['--config FILE', 'host config (default /etc/berth/config.yaml, or $BERTH_CONFIG)'],
  ['-o, --output table|json', 'output format (default table)'],
  ['-h, --help', 'show help'],
];

function flagLines(flags: Array<[string, string]>): string {
  const w = Math.max(...flags.map(([f]) => f.length));
  return flags.map(([f, d]) => `  ${f.padEnd(w)}   ${d}`).join('\n');
}

/** What the command list shows: the lazily loaded table has this much of each command. */
type Listed = Pick<Command, 'path' | 'summary'>;

export function renderMainHelp(commands: readonly Listed[]): string {
  const w = Math.max(...commands.map((c) => c.path.join(' ').length));
  const lines = commands.map((c) => `  ${c.path.join(' ').padEnd(w)}   ${c.summary}`);
  return [
    'berth: a container host controller: a folder of manifests in, running containers out.',
    '',
    'Usage: berth COMMAND [FLAGS] [ARGS]',
    '',
    'Commands:',
    ...lines,
    '',
    'Global flags:',
    flagLines(GLOBAL_FLAGS),
    '',
    "Run `berth COMMAND --help` for a command's flags.",
    '',
  ].join('\n');
}

export function renderGroupHelp(group: string, commands: readonly Listed[]): string {
  return renderMainHelp(commands.filter((c) => c.path[0] === group));
}

export function renderCommandHelp(c: Command): string {
  const parts = [`Usage: berth ${c.usage}`, '', c.summary + '.', ''];
  if (c.flags.length > 0) parts.push('Flags:', flagLines(c.flags), '');
  parts.push('Global flags:', flagLines(GLOBAL_FLAGS), '');
  return parts.join('\n');
}
