// `container create`'s and `container run`'s options as parseArgs takes them, in a file of their own:
// the thin `container run` (thin-run.ts) parses its command line with them, and loads none of what
// reading their values into settings takes (create-flags.ts).
import type { OptionSpec } from './args.js';

export const CREATE_OPTIONS = {
  env: { type: 'string', short: 'e', multiple: true },
  volume: { type: 'string', short: 'v', multiple: true },
  tmpfs: { type: 'string', multiple: true },
  memory: { type: 'string' },
  cpus: { type: 'string' },
  pids: { type: 'string' },
  user: { type: 'string', short: 'u' },
  workdir: { type: 'string', short: 'w' },
  'read-only': { type: 'boolean' },
  privileged: { type: 'boolean' },
  'cap-add': { type: 'string', multiple: true },
  'cap-drop': { type: 'string', multiple: true },
  network: { type: 'string' },
  publish: { type: 'string', short: 'p', multiple: true },
} as const satisfies OptionSpec;

/** `container run`'s options: create's, and what run adds. */
export const RUN_OPTIONS = {
  ...CREATE_OPTIONS,
  rm: { type: 'boolean' },
  detach: { type: 'boolean', short: 'd' },
  time: { type: 'string', short: 't' },
  pull: { type: 'string' },
} as const satisfies OptionSpec;

/** The create flags among `container run`'s parsed values, as the daemon's create route takes them. */
export function createFlagsOf(values: Record<string, unknown>): Record<string, string | boolean | string[]> {
  const flags: Record<string, string | boolean | string[]> = {};
  for (const key of Object.keys(CREATE_OPTIONS)) {
    const v = values[key];
    if (typeof v === 'string' || typeof v === 'boolean' || Array.isArray(v)) flags[key] = v;
  }
  return flags;
}
