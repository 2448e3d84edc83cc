// The command table: each command's path and summary (all `berth --help` needs) and how to load
// it, so a run loads the code of the one command it runs and nothing else (`container start`
// loads neither the manifest stack, ajv and yaml, nor chokidar). The summary is the command's
// own, repeated here; test/unit/cli-commands.test.ts holds each entry equal to what it loads.
import type { Command } from '../command.js';

export interface CommandEntry {
  path: string[];
  summary: string;
  load(): Promise<Command>;
}

/** Every command, in the order `berth --help` lists them. */
export const COMMANDS: readonly CommandEntry[] = [
  {
    path: ['validate'],
    summary:
      'Check a folder of manifests, or one file: every problem of every file, as FILE:LINE:COL: CODE: message',
    load: async () => (await import('./validate.js')).validate,
  },
  {
    path: ['plan'],
    summary:
      'Print what a reconcile of DIR would do, with reasons (exit 0: nothing; 2: something; 1: an error or a broken manifest)',
    load: async () => (await import('./plan.js')).planCommand,
  },
  {
    path: ['apply'],
    summary:
      'Reconcile the host with DIR once, then exit (non-zero if anything failed, a manifest is broken or still being written); with a daemon running, it applies its folder',
    load: async () => (await import('./apply.js')).applyCommand,
  },
  {
    path: ['daemon'],
    summary:
      'Watch a folder of manifests and keep the host matching it; serve the API on <state>/berth.sock (containers keep running when it stops)',
    load: async () => (await import('./daemon.js')).daemonCommand,
  },
  {
    path: ['ps'],
    summary:
      'Pods from manifests and their containers: phase, ready, state, restarts, last error, source file',
    load: async () => (await import('./ps.js')).ps,
  },
  {
    path: ['logs'],
    summary: "A pod's container output (POD alone: its only container, or the first)",
    load: async () => (await import('./ps.js')).logs,
  },
  {
    path: ['events'],
    summary:
      'What berth did and saw (actions, container exits, pulls, rejected manifests), from the event ring',
    load: async () => (await import('./events.js')).eventsCommand,
  },
  {
    path: ['image', 'pull'],
    summary: 'Fetch an image from its registry into the content store',
    load: async () => (await import('./image-pull.js')).imagePull,
  },
  {
    path: ['image', 'ls'],
    summary: 'List the images in the store',
    load: async () => (await import('./image-ls.js')).imageLs,
  },
  {
    path: ['image', 'rm'],
    summary: 'Remove images by reference or ID, then free the content nothing else uses',
    load: async () => (await import('./image-rm.js')).imageRm,
  },
  {
    path: ['image', 'inspect'],
    summary: 'Show an image: its manifest and config, as JSON',
    load: async () => (await import('./image-inspect.js')).imageInspect,
  },
  {
    path: ['image', 'unpack'],
    summary: "Write an image's flattened root filesystem into a new directory (for debugging and comparison)",
    load: async () => (await import('./image-unpack.js')).imageUnpack,
  },
  {
    path: ['image', 'prune'],
    summary: 'Remove every blob and snapshot no image references, and stale partial downloads',
    load: async () => (await import('./image-prune.js')).imagePrune,
  },
  {
    path: ['image', 'import'],
    summary: 'Import the images of an OCI layout or docker archive (air-gapped hosts)',
    load: async () => (await import('./image-import.js')).imageImport,
  },
  {
    path: ['image', 'export'],
    summary: 'Write images of the store to an OCI archive (or a docker archive)',
    load: async () => (await import('./image-export.js')).imageExport,
  },
  {
    path: ['container', 'create'],
    summary: 'Create a container from an image (not started): rootfs, config.json, conmon + runc create',
    load: async () => (await import('./container-create.js')).containerCreate,
  },
  {
    path: ['container', 'run'],
    summary:
      "Create and start a container, print its output until it exits, and exit with the container's code",
    load: async () => (await import('./container-run.js')).containerRun,
  },
  {
    path: ['container', 'start'],
    summary: 'Start a created container',
    load: async () => (await import('./container-lifecycle.js')).containerStart,
  },
  {
    path: ['container', 'stop'],
    summary: "Stop a container: its image's StopSignal, then SIGKILL after the grace period",
    load: async () => (await import('./container-lifecycle.js')).containerStop,
  },
  {
    path: ['container', 'kill'],
    summary: 'Send a signal to a container (SIGKILL unless told otherwise)',
    load: async () => (await import('./container-lifecycle.js')).containerKill,
  },
  {
    path: ['container', 'rm'],
    summary: 'Remove containers: runc state, rootfs, network namespace, bundle (named volumes stay)',
    load: async () => (await import('./container-lifecycle.js')).containerRm,
  },
  {
    path: ['container', 'ls'],
    summary: 'List containers with their live state',
    load: async () => (await import('./container-ls.js')).containerLs,
  },
  {
    path: ['container', 'logs'],
    summary: "A container's output (stdout to stdout, stderr to stderr)",
    load: async () => (await import('./container-logs.js')).containerLogs,
  },
  {
    path: ['container', 'exec'],
    summary:
      "Run a command in a running container (its user, env and working directory); exit with the command's code",
    load: async () => (await import('./container-exec.js')).containerExec,
  },
  {
    path: ['network', 'ls'],
    summary:
      "Networks: bridge, subnet, gateway and how many of this root's pods and containers are on each (roots may share a bridge: distinct addresses)",
    load: async () => (await import('./network.js')).networkLs,
  },
  {
    path: ['network', 'inspect'],
    summary:
      "A network: its settings and this root's pods and containers on it with address and ports (roots may share a bridge: distinct addresses)",
    load: async () => (await import('./network.js')).networkInspect,
  },
  {
    path: ['network', 'rm'],
    summary: "Remove a network's bridge and rules (kept after its last pod); refused while anything is on it",
    load: async () => (await import('./network-rm.js')).networkRm,
  },
];
