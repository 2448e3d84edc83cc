// `container run`'s own exit codes, out of the way of its container's (docker's and podman's), in a
// file of their own: the thin run (thin-run.ts) exits with them too.
import { hasCode } from '../lib/errors.js';

/** berth failed (or the exited container's code was never recorded): docker's and podman's 125. */
export const RUN_FAILED = 125;
/** The command is not in the image: the shell's (and docker's) 127. */
export const COMMAND_NOT_FOUND = 127;
/** Interrupted before the container started: 128 + SIGINT, as a shell reports it. */
export const INTERRUPTED = 130;

/** berth's own failures, out of the way of the container's codes. */
export function runFailureCode(err: unknown): number {
  if (hasCode(err, 'ERR_INTERRUPTED')) return INTERRUPTED;
  return hasCode(err, 'ERR_COMMAND_NOT_FOUND') ? COMMAND_NOT_FOUND : RUN_FAILED;
}

/** The store lacks the image (or its unpacked snapshot): `--pull missing` pulls it and tries again. */
export function imageMissing(err: unknown): boolean {
  return hasCode(err, 'ERR_IMAGE_NOT_FOUND') || hasCode(err, 'ERR_IMAGE_NOT_UNPACKED');
}

/** How long a stop after an interrupt may take beyond the grace period before berth leaves anyway. */
export const STOP_MARGIN_MS = 15_000;
