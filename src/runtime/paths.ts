// Where a container's pieces live: its bundle under `<root>/containers/<id>/` (config.json,
// rootfs mount point, overlay upper/ and work/, its log, conmon's pid files, the per-container
// /etc files) and its runtime state under `--state` (runc's root, conmon's exit files and attach
// sockets, netns).
import { join } from 'node:path';

export interface RuntimePaths {
  containers: string;
  volumes: string;
  runcRoot: string;
  exits: string;
  netns: string;
  sockets: string;
}

export function runtimePaths(root: string, state: string): RuntimePaths {
  return {
    containers: join(root, 'containers'),
    volumes: join(root, 'volumes'),
    runcRoot: join(state, 'runc'),
    exits: join(state, 'exits'),
    netns: join(state, 'netns'),
    sockets: join(state, 'sockets'),
  };
}

/** The live log conmon writes in each bundle (rotated files beside it: log-files.ts). */
export const LOG_FILE_NAME = 'container.log';

export interface ContainerPaths {
  dir: string;
  record: string;
  config: string;
  rootfs: string;
  upper: string;
  work: string;
  log: string;
  pidFile: string;
  conmonPidFile: string;
  hostname: string;
  hosts: string;
  resolvConf: string;
  persist: string;
  exitFile: string;
  netns: string;
}

export function containerPaths(p: RuntimePaths, id: string): ContainerPaths {
  const dir = join(p.containers, id);
  return {
    dir,
    record: join(dir, 'container.json'),
    config: join(dir, 'config.json'),
    rootfs: join(dir, 'rootfs'),
    upper: join(dir, 'upper'),
    work: join(dir, 'work'),
    log: join(dir, LOG_FILE_NAME),
    pidFile: join(dir, 'pidfile'),
    conmonPidFile: join(dir, 'conmon.pid'),
    hostname: join(dir, 'hostname'),
    hosts: join(dir, 'hosts'),
    resolvConf: join(dir, 'resolv.conf'),
    persist: join(dir, 'persist'),
    exitFile: join(p.exits, id),
    netns: join(p.netns, id),
  };
}
