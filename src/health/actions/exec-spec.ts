// The process an exec action runs, as `runc exec <id> CMD…` would build it: the container's own
// process from its bundle's config.json (user, env, working directory, capabilities, rlimits, no
// new privileges) with the action's command as its args and no terminal. The bundle is the one runc
// recorded for the container (its state.json's `bundle=` label). conmon is given it as a file
// (`--exec-process-spec`), as podman's exec does.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, errnoCode } from '../../lib/errors.js';

export interface ExecSpec {
  /** The container's bundle directory. */
  bundle: string;
  /** The process as JSON, for --exec-process-spec. */
  process: string;
}

/**
 * The bundle's config.json, or ERR_BUNDLE_CONFIG naming it (a file damaged by hand or a disk fault:
 * the probe fails with that, not with a bare "Unexpected end of JSON input").
 */
async function readBundleConfig(file: string, id: string): Promise<{ process?: object }> {
  let why: string;
  try {
    const config: unknown = JSON.parse(await readFile(file, 'utf8'));
    if (typeof config === 'object' && config !== null && !Array.isArray(config)) return config;
    why = 'not a JSON object';
  } catch (err) {
    why = errnoCode(err) ?? (err instanceof Error ? err.message : String(err));
  }
  throw new BerthError('ERR_BUNDLE_CONFIG', 'internal', `container ${id}: ${file} is unreadable (${why})`);
}

/** A container id as runc names its state directory: never a path. */
const isPlainName = (id: string) => /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(id);

/** The spec of `command` in container `id`; undefined when runc knows no such container. */
export async function execSpecOf(
  runcRoot: string,
  id: string,
  command: string[],
): Promise<ExecSpec | undefined> {
  if (!isPlainName(id)) return undefined;
  let bundle: string | undefined;
  try {
    const state = JSON.parse(await readFile(join(runcRoot, id, 'state.json'), 'utf8')) as {
      config?: { labels?: unknown };
    };
    const labels = Array.isArray(state.config?.labels) ? state.config.labels : [];
    const label = labels.find((l): l is string => typeof l === 'string' && l.startsWith('bundle='));
    bundle = label?.slice('bundle='.length);
  } catch {
    return undefined;
  }
  if (!bundle) return undefined;
  const config = await readBundleConfig(join(bundle, 'config.json'), id);
  const process = { ...(config.process ?? {}), terminal: false, args: command };
  return { bundle, process: JSON.stringify(process) };
}
