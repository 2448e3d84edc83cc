// The daemon's container routes, so `berth container run` pays for neither Node's start nor the
// runtime's modules on its way to the first output (the daemon has both warm):
//   POST /v1/containers        { image, name, flags, command } → the created container's record
//   POST /v1/containers/start  { name } (a name or an id) → its status, as `container start -o json`
// A create request carries the command line's own flags (`--publish 8080:80` as `publish:
// ["8080:80"]`), read by the same code as `container create`'s: the API adds no second parser of
// settings. Every field is checked against that command's options before anything is made, and a
// request that is not exactly that shape is a 400 naming the field.

import type { Routes } from '../api/server.js';
import type { EventSink } from '../events/event.js';
import { BerthError } from '../lib/errors.js';
import type { RuntimeDeps } from '../runtime/containers.js';
import { startContainer } from '../runtime/containers.js';
import { createContainer } from '../runtime/create.js';
import type { ContainerRecord } from '../runtime/record.js';
import type { OptionSpec } from './args.js';
import { CREATE_OPTIONS, settingsFromFlags } from './create-flags.js';

export interface CreateRequest {
  image: string;
  name: string;
  /** `container create`'s flags as parseArgs gives them: long name → string, boolean or strings. */
  flags: Record<string, string | boolean | string[]>;
  command: string[];
}

/** At most this many strings in one request's lists (a command's arguments, repeated flags). */
const MAX_LIST = 4096;

const bad = (message: string) => new BerthError('ERR_API_BAD_BODY', 'invalid', message);

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function onlyKeys(v: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(v)) {
    if (!allowed.includes(k)) throw bad(`${where}: unknown field ${JSON.stringify(k)}`);
  }
}

function text(v: unknown, field: string): string {
  if (typeof v !== 'string' || v === '') throw bad(`${field} must be a non-empty string`);
  return v;
}

function strings(v: unknown, field: string): string[] {
  if (!Array.isArray(v) || v.length > MAX_LIST || !v.every((s) => typeof s === 'string')) {
    throw bad(`${field} must be a list of at most ${MAX_LIST} strings`);
  }
  return v as string[];
}

/** A create request's body, checked field by field against `options` (container create's). */
export function createRequestOf(body: unknown, options: OptionSpec): CreateRequest {
  if (!isRecord(body)) throw bad('the body must be a JSON object { image, name, flags, command }');
  onlyKeys(body, ['image', 'name', 'flags', 'command'], 'body');
  const flags = body.flags ?? {};
  if (!isRecord(flags)) throw bad('flags must be an object');
  const checked: CreateRequest['flags'] = {};
  for (const [key, value] of Object.entries(flags)) {
    const option = Object.hasOwn(options, key) ? options[key] : undefined;
    if (!option) throw bad(`flags: unknown flag ${JSON.stringify(key)}`);
    if (option.type === 'boolean') {
      if (typeof value !== 'boolean') throw bad(`flags.${key} must be true or false`);
      checked[key] = value;
    } else if (option.multiple) checked[key] = strings(value, `flags.${key}`);
    else if (typeof value === 'string') checked[key] = value;
    else throw bad(`flags.${key} must be a string`);
  }
  return {
    image: text(body.image, 'image'),
    name: text(body.name, 'name'),
    flags: checked,
    command: strings(body.command ?? [], 'command'),
  };
}

function startRequestOf(body: unknown): string {
  if (!isRecord(body)) throw bad('the body must be a JSON object { name }');
  onlyKeys(body, ['name'], 'body');
  return text(body.name, 'name');
}

/** The routes, on the daemon's runtime; what they make is recorded in `events` (`via: api`). */
export function containerRoutes(rt: RuntimeDeps, events: EventSink): Routes {
  return {
    'POST /v1/containers': async (req): Promise<ContainerRecord> => {
      const r = createRequestOf(req.body(), CREATE_OPTIONS);
      const settings = settingsFromFlags(r.name, r.flags, r.command, rt.paths.volumes);
      const record = await createContainer(rt, r.image, settings);
      events.emit({
        type: 'container',
        object: record.name,
        reason: 'Created',
        message: `from ${record.image}, through the API`,
        attributes: { id: record.id, image: record.image, via: 'api' },
      });
      return record;
    },
    'POST /v1/containers/start': async (req) => {
      const status = await startContainer(rt, startRequestOf(req.body()));
      events.emit({
        type: 'container',
        object: status.name,
        reason: 'Started',
        message: 'through the API',
        attributes: { id: status.id, via: 'api' },
      });
      return status;
    },
  };
}
