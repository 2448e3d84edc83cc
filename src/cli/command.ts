// The shape every CLI command has, and what it is given to run.
import type { HostConfig } from '../config/host-config.js';
import type { ContentStore } from '../content/types.js';
import type { EventRing } from '../events/ring.js';
import type { RegistryClient } from '../registry/types.js';
import type { RuntimeDeps } from '../runtime/containers.js';
import type { SnapshotStore } from '../snapshot/snapshot-store.js';
import type { GlobalFlags, OptionSpec, ParsedCommandArgs } from './args.js';

export interface CliIO {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: Record<string, string | undefined>;
  now: () => Date;
  /**
   * How long a clean stop may take after the first SIGTERM/SIGINT before the process leaves anyway
   * (main.ts: 15 s unless the command says otherwise: the daemon's steps may take longer).
   */
  setStopTimeout?(ms: number): void;
  /** `fn` runs when a reader of stdout or stderr goes away, instead of berth leaving at once. */
  whenOutputCloses?(fn: () => void): void;
  /**
   * `fn` runs on SIGHUP instead of the clean stop SIGTERM makes (the daemon stays: a closed ssh
   * session or a `kill -HUP` meant as a reload must not take a host's controller down).
   */
  whenHangup?(fn: () => void): void;
}

/** Resources are opened lazily: `berth image ls` never builds a registry client. */
export interface CommandContext extends CliIO {
  flags: GlobalFlags;
  signal: AbortSignal;
  hostConfig(): Promise<HostConfig>;
  store(): Promise<ContentStore>;
  registry(): Promise<RegistryClient>;
  /** A client whose credentials are these docker config.json texts first (a pod's imagePullSecrets). */
  registryWithPullSecrets(secrets: string[]): Promise<RegistryClient>;
  /** The snapshot store of the host's form (see unpack.snapshotter). */
  snapshots(): Promise<SnapshotStore>;
  /** What container commands need: paths, runc, the stores, host facts. */
  runtime(): Promise<RuntimeDeps>;
  /** The event ring under --root: `emit` records what a command did (`berth events` shows it). */
  events(): Promise<EventRing>;
}

export interface Command {
  path: string[];
  summary: string;
  /** Synopsis after `berth `, e.g. `image pull REF [--platform OS/ARCH[/VARIANT]]`. */
  usage: string;
  options: OptionSpec;
  /** Flag help lines: [flag, description]. */
  flags: Array<[string, string]>;
  /** Minimum and maximum positionals. */
  args: [number, number];
  run(ctx: CommandContext, args: ParsedCommandArgs): Promise<number>;
  /**
   * The exit code of a failure, where the command's own codes need another range than berth's
   * (`container run` exits with the container's code, so its failures are 125-127 as docker's).
   */
  failureCode?(err: unknown): number;
}
