// A `mount` that behaves as util-linux 2.39+ does on a host with the new mount API (Debian 13,
// Arch, Fedora 39+): each -o option goes to the kernel as an fsconfig(FSCONFIG_SET_STRING) value,
// which fs/fsopen.c copies with strndup_user(value, 256), so a value of 256 bytes or more is EINVAL
// and mount says 'wrong fs type, bad option' (util-linux#2287) — unless LIBMOUNT_FORCE_MOUNT2=always
// makes libmount use the one mount(2) call. Everything else goes to the host's own mount. Put its
// directory first on PATH for a berth run.
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findOnPath } from '../../src/runtime/tool.js';

const SCRIPT = (real: string) => `#!/bin/sh
if [ "$LIBMOUNT_FORCE_MOUNT2" != always ]; then
  prev=
  for a in "$@"; do
    if [ "$prev" = -o ]; then
      rest="$a"
      while [ -n "$rest" ]; do
        opt="\${rest%%,*}"
        case "$rest" in *,*) rest="\${rest#*,}" ;; *) rest= ;; esac
        value="\${opt#*=}"
        if [ "\${#value}" -ge 256 ]; then
          echo "mount: $(eval echo "\\\${$#}"): wrong fs type, bad option, bad superblock on overlay, missing codepage or helper program, or other error." >&2
          exit 32
        fi
      done
    fi
    prev="$a"
  done
fi
exec ${real} "$@"
`;

/** Makes `dir` (a test's temp dir) hold the shim; returns the directory to put first on PATH. */
export async function fsconfigMountShim(dir: string): Promise<string> {
  const real = findOnPath('mount');
  if (!real.startsWith('/')) throw new Error('no mount on PATH');
  const bin = join(dir, 'fsconfig-mount');
  await mkdir(bin, { recursive: true });
  await writeFile(join(bin, 'mount'), SCRIPT(real));
  await chmod(join(bin, 'mount'), 0o755);
  return bin;
}
