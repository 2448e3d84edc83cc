// The canonical form of a path given on the command line: absolute, with every symlink of the part
// that exists resolved (the rest is created as plain directories). The kernel reports mount points
// in this form (/proc/self/mountinfo), so paths compared with it must be built from it.
import { realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { errnoCode } from './errors.js';

/** `path` made absolute, its longest existing prefix resolved with realpath. */
export function canonicalPath(path: string): string {
  const abs = resolve(path);
  const rest: string[] = [];
  let head = abs;
  for (;;) {
    try {
      return join(realpathSync(head), ...rest.reverse());
    } catch (err) {
      const code = errnoCode(err);
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || head === dirname(head)) throw err;
      rest.push(basename(head));
      head = dirname(head);
    }
  }
}
