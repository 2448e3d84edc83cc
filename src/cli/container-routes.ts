// The daemon's container routes, so `berth container run` pays for neither Node's start nor the
// runtime's modules on its way to the first output (the daemon has both warm):
//   POST /v1/containers        { image, name, flags, command } → the created container's record
//   POST /v1/containers/start  { name } (a name or an id) → its status, as `container start -o json`
// A create request carries the command line's own flags (`--publish 8080:80` as `publish:
// ["8080:80"]`), read by the same code as `container create`'s: the API adds no second parser of
// settings. Every field is checked against that command's options before anything is made, and a
// request that is not exactly that shape is a 400 naming the field.

import type { RouteRequest, Routes } from '../api/server.js';
import type { EventSink } from '../events/event.js';
import { BerthError } from '../lib/errors.js';
import { isObject } from '../oci/descriptor.js';
import {
  type ContainerStatus,
  type RuntimeDeps,
  removeContainer,
  startContainer,
} from '../runtime/containers.js';
import { createContainer } from '../runtime/create.js';
import type { ContainerRecord } from '../runtime/record.js';
import type { OptionSpec } from './args.js';
import { settingsFromFlags } from './create-flags.js';
import { CREATE_OPTIONS } from './create-options.js';

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

function onlyKeys(v: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(v)) {
    if (!allowed.includes(k)) throw bad(`${where}: unknown field ${JSON.stringify(k)}`);
  }
}

/** A string a command line could carry: JSON's may hold NUL, which no argument can. */
const argument = (v: unknown): v is string => typeof v === 'string' && !v.includes('\0');

function text(v: unknown, field: string): string {
  if (!argument(v) || v === '') throw bad(`${field} must be a non-empty string without NUL`);
  return v;
}

function strings(v: unknown, field: string): string[] {
  if (!Array.isArray(v) || v.length > MAX_LIST || !v.every(argument)) {
    throw bad(`${field} must be a list of at most ${MAX_LIST} strings without NUL`);
  }
  return v as string[];
}

/** A create request's body, checked field by field against `options` (container create's). */
export function createRequestOf(body: unknown, options: OptionSpec): CreateRequest {
  if (!isObject(body)) throw bad('the body must be a JSON object { image, name, flags, command }');
  onlyKeys(body, ['image', 'name', 'flags', 'command'], 'body');
  const flags = body.flags === undefined ? {} : body.flags;
  if (!isObject(flags)) throw bad('flags must be an object');
  const checked: CreateRequest['flags'] = {};
  for (const [key, value] of Object.entries(flags)) {
    const option = Object.hasOwn(options, key) ? options[key] : undefined;
    if (!option) throw bad(`flags: unknown flag ${JSON.stringify(key)}`);
    if (option.type === 'boolean') {
      if (typeof value !== 'boolean') throw bad(`flags.${key} must be true or false`);
      checked[key] = value;
    } else if (option.multiple) checked[key] = strings(value, `flags.${key}`);
    else if (argument(value)) checked[key] = value;
    else throw bad(`flags.${key} must be a string without NUL`);
  }
  return {
    image: text(body.image, 'image'),
    name: text(body.name, 'name'),
    flags: checked,
    command: body.command === undefined ? [] : strings(body.command, 'command'),
  };
}

function startRequestOf(body: unknown): string {
  if (!isObject(body)) throw bad('the body must be a JSON object { name }');
  onlyKeys(body, ['name'], 'body');
  return text(body.name, 'name');
}

export interface ContainerRoutes {
  routes: Routes;
  /** `work` counted among the requests under way; refused (ERR_DAEMON_STOPPING) once the daemon stops. */
  tracked<T>(work: () => Promise<T>): Promise<T>;
  /** Once every request under way has ended (the daemon waits for it before its tools go). */
  settled(): Promise<void>;
}

/**
 * A create asked for through the API, recorded in `events`; undone when `gone` aborted meanwhile
 * (its client went: nobody would start or remove it, and a record of it would hold its name).
 */
export async function createThroughApi(
  rt: RuntimeDeps,
  events: EventSink,
  r: CreateRequest,
  gone: AbortSignal,
): Promise<ContainerRecord> {
  const settings = settingsFromFlags(r.name, r.flags, r.command, rt.paths.volumes);
  const record = await createContainer(rt, r.image, settings);
  if (gone.aborted) {
    await removeContainer(rt, record.id, true);
    throw new BerthError('ERR_API_CLIENT_GONE', 'unavailable', `the client went before ${r.name} was made`);
  }
  events.emit({
    type: 'container',
    object: record.name,
    reason: 'Created',
    message: `from ${record.image}, through the API`,
    attributes: { id: record.id, image: record.image, via: 'api' },
  });
  return record;
}

/**
 * The routes, on the daemon's runtime; what they make is recorded in `events` (`via: api`). Once
 * `stopping` aborts they refuse (503). A create whose client went before it ended (the client gave
 * up, or the daemon is stopping and closed its connections) is removed: nobody would start or
 * remove it, and a record of it would hold its name.
 */
export function containerRoutes(rt: RuntimeDeps, events: EventSink, stopping: AbortSignal): ContainerRoutes {
  const underWay = new Set<Promise<unknown>>();
  const tracked = <T>(work: () => Promise<T>): Promise<T> => {
    if (stopping.aborted) {
      const hint = 'run the command again: without a daemon it works on the store itself';
      return Promise.reject(
        new BerthError('ERR_DAEMON_STOPPING', 'unavailable', 'the daemon is stopping', { hint }),
      );
    }
    const p = work();
    underWay.add(p);
    p.finally(() => underWay.delete(p)).catch(() => undefined);
    return p;
  };
  const create = (req: RouteRequest) =>
    createThroughApi(rt, events, createRequestOf(req.body(), CREATE_OPTIONS), req.signal);
  const start = async (req: RouteRequest): Promise<ContainerStatus> => {
    const status = await startContainer(rt, startRequestOf(req.body()));
    events.emit({
      type: 'container',
      object: status.name,
      reason: 'Started',
      message: 'through the API',
      attributes: { id: status.id, via: 'api' },
    });
    return status;
  };
  return {
    tracked,
    routes: {
      'POST /v1/containers': (req) => tracked(() => create(req)),
      'POST /v1/containers/start': (req) => tracked(() => start(req)),
    },
    async settled() {
      while (underWay.size > 0) await Promise.allSettled([...underWay]);
    },
  };
}
