// The parts of an image config that become the container's process (Env, Entrypoint, Cmd,
// WorkingDir), checked at create before any step is taken: a NUL byte cannot be handed to execve,
// and runc says so only as "runc create failed" (an Env entry) or the process dies with "exec:
// invalid argument" (an argument). Only the parts the container uses are checked: a command given
// replaces the image's Cmd, and its NUL then harms no one. Pure.
import { BerthError } from '../lib/errors.js';
import type { ImageConfig } from '../oci/image.js';

export interface ImageProcessUse {
  entrypoint: boolean;
  cmd: boolean;
  workingDir: boolean;
}

function refuse(image: string, field: string, why: string): BerthError {
  return new BerthError('ERR_IMAGE_CONFIG_INVALID', 'invalid', `image "${image}": config.${field} ${why}`);
}

const NUL = 'holds a NUL byte, which no process can be given';

export function checkImageProcess(config: ImageConfig, image: string, use: ImageProcessUse): void {
  const c = config.config ?? {};
  (c.Env ?? []).forEach((kv, i) => {
    if (kv.includes('\0')) throw refuse(image, `Env[${i}]`, NUL);
    // `NAME` alone unsets NAME (spec.ts); `=value` names nothing.
    if (kv.startsWith('='))
      throw refuse(
        image,
        `Env[${i}]`,
        `${JSON.stringify(kv.length > 80 ? `${kv.slice(0, 80)}…` : kv)} is not KEY=VALUE`,
      );
  });
  const lists = [
    ['Entrypoint', use.entrypoint ? c.Entrypoint : undefined],
    ['Cmd', use.cmd ? c.Cmd : undefined],
  ] as const;
  for (const [field, args] of lists)
    (args ?? []).forEach((a, i) => {
      if (a.includes('\0')) throw refuse(image, `${field}[${i}]`, NUL);
    });
  if (use.workingDir && c.WorkingDir?.includes('\0')) throw refuse(image, 'WorkingDir', NUL);
}
