import type { Command } from '../command.js';
import { applyCommand } from './apply.js';
import { containerCreate } from './container-create.js';
import { containerExec } from './container-exec.js';
import { containerKill, containerRm, containerStart, containerStop } from './container-lifecycle.js';
import { containerLogs } from './container-logs.js';
import { containerLs } from './container-ls.js';
import { daemonCommand } from './daemon.js';
import { imageInspect } from './image-inspect.js';
import { imageLs } from './image-ls.js';
import { imagePrune } from './image-prune.js';
import { imagePull } from './image-pull.js';
import { imageRm } from './image-rm.js';
import { imageUnpack } from './image-unpack.js';
import { networkInspect, networkLs } from './network.js';
import { planCommand } from './plan.js';
import { logs, ps } from './ps.js';
import { validate } from './validate.js';

/** Every command, in the order `berth --help` lists them. */
export const COMMANDS: readonly Command[] = [
  validate,
  planCommand,
  applyCommand,
  daemonCommand,
  ps,
  logs,
  imagePull,
  imageLs,
  imageRm,
  imageInspect,
  imageUnpack,
  imagePrune,
  containerCreate,
  containerStart,
  containerStop,
  containerKill,
  containerRm,
  containerLs,
  containerLogs,
  containerExec,
  networkLs,
  networkInspect,
];
