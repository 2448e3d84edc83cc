// Command-line parsing: global flags anywhere, then a command path (`image pull`), then the
// command's own flags and positionals. Built on node:util parseArgs; pure.
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { BerthError } from '../lib/errors.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export const GLOBAL_OPTIONS = {
  root: { type: 'string' },
  state: { type: 'string' },
  config: { type: 'string' },
  output: { type: 'string', short: 'o' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const satisfies OptionSpec;

export type OutputFormat = 'table' | 'json';

export interface GlobalFlags {
  root: string;
  state: string;
  config: string | undefined;
  output: OutputFormat;
  help: boolean;
  version: boolean;
}

export const DEFAULT_ROOT = '/var/lib/berth';
export const DEFAULT_STATE = '/run/berth';

/** Split argv into the command words (leading positionals) and the rest, skipping global flag values. */
export function splitCommandPath(argv: readonly string[], depth: number): { path: string[]; rest: string[] } {
  const path: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (path.length < depth && !a.startsWith('-')) {
      path.push(a);
      continue;
    }
    rest.push(a);
    const name = a.startsWith('--') ? a.slice(2) : undefined;
    const takesValue =
      (name !== undefined &&
        !name.includes('=') &&
        name in GLOBAL_OPTIONS &&
        GLOBAL_OPTIONS[name as keyof typeof GLOBAL_OPTIONS].type === 'string') ||
      a === '-o';
    if (takesValue && i + 1 < argv.length) rest.push(argv[++i] as string);
  }
  return { path, rest };
}

export interface ParsedCommandArgs {
  global: GlobalFlags;
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  /** Everything after `--`. */
  passthrough: string[];
}

export function parseCommandArgs(
  rest: readonly string[],
  options: OptionSpec,
  env: Record<string, string | undefined>,
): ParsedCommandArgs {
  const dd = rest.indexOf('--');
  const own = dd < 0 ? [...rest] : rest.slice(0, dd);
  const passthrough = dd < 0 ? [] : rest.slice(dd + 1);
  // A command whose own flag is -o (`image export -o FILE`) keeps it; --output stays global.
  const ownsO = Object.values(options).some((o) => o.short === 'o');
  const globals = ownsO ? { ...GLOBAL_OPTIONS, output: { type: 'string' as const } } : GLOBAL_OPTIONS;
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: own,
      options: { ...globals, ...options },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new BerthError('ERR_USAGE', 'invalid', (err as Error).message.split('\n')[0] ?? 'bad arguments', {
      hint: 'see --help',
    });
  }
  const v = parsed.values as Record<string, string | boolean | string[] | undefined>;
  const output = (v.output as string | undefined) ?? 'table';
  if (output !== 'table' && output !== 'json') {
    throw new BerthError('ERR_USAGE', 'invalid', `--output must be table or json, not "${output}"`);
  }
  const global: GlobalFlags = {
    root: (v.root as string | undefined) ?? env.BERTH_ROOT ?? DEFAULT_ROOT,
    state: (v.state as string | undefined) ?? env.BERTH_STATE ?? DEFAULT_STATE,
    config: (v.config as string | undefined) ?? env.BERTH_CONFIG,
    output,
    help: v.help === true,
    version: v.version === true,
  };
  return { global, values: v, positionals: parsed.positionals, passthrough };
}
