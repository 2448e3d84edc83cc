// Whether an x86-64 kernel runs x32 system calls (64-bit registers, 32-bit pointers). A seccomp
// filter lists SCMP_ARCH_X32 only where it does (seccomp.ts): libseccomp compiles the rules once per
// listed architecture in every `runc create` (x32 was ~17 ms of CPU of runc run's 134 here). Where
// it is left out an x32 call is killed by the filter (libseccomp's bad-arch action) instead of
// refused by the kernel (ENOSYS): no x32 program runs there either way. Read from the kernel's
// build config (/proc/config.gz, else /boot/config-RELEASE) and, for Debian's kernels (built with
// x32 off unless `syscall.x32=y`), its parameter; once per process. Anything unclear counts as x32
// run, as before. i386 (SCMP_ARCH_X86) is always listed: real programs use it, and a kernel
// parameter older kernels ignore (ia32_emulation=) is no proof it is off. The parser is pure.
import { readFile } from 'node:fs/promises';
import { release } from 'node:os';
import { gunzipSync } from 'node:zlib';

export interface KernelAbis {
  /** x32 programs' calls reach the kernel's x32 table. */
  x32: boolean;
}

export const ALL_ABIS: KernelAbis = { x32: true };

/** A parameter of the kernel's command line as the kernel takes it: `-` as `_`, quotes off, the last one. */
function cmdlineValue(cmdline: string, name: string): string | undefined {
  let value: string | undefined;
  for (const word of cmdline.split(/\s+/)) {
    if (word === '--') break; // the rest is init's
    const eq = word.indexOf('=');
    const key = (eq < 0 ? word : word.slice(0, eq)).replaceAll('-', '_');
    if (key !== name || eq < 0) continue;
    const v = word.slice(eq + 1).replace(/^"(.*)"$/, '$1');
    if (kernelBool(v) !== undefined) value = v; // one kstrtobool refuses leaves the one before
  }
  return value;
}

/** kstrtobool's reading of a value (its first letters): true, false, or undefined for neither. */
function kernelBool(value: string | undefined): boolean | undefined {
  const [a = '', b = ''] = (value ?? '').toLowerCase();
  if (a !== '' && 'yt1'.includes(a)) return true;
  if (a !== '' && 'nf0'.includes(a)) return false;
  if (a === 'o' && b === 'n') return true;
  if (a === 'o' && b === 'f') return false;
  return undefined;
}

const configSays = (config: string, option: string) => {
  if (new RegExp(`^${option}=y$`, 'm').test(config)) return true;
  if (new RegExp(`^# ${option} is not set$`, 'm').test(config)) return false;
  return undefined;
};

/**
 * Whether a kernel of this build config and command line (Debian's `syscall.x32` parameter as
 * /sys/module/syscall/parameters/x32 shows it, when given, else as the command line says) runs x32
 * calls: only a config of an x86-64 build that says x32 is not built, or built off (Debian's
 * CONFIG_X86_X32_DISABLED) and not turned on, says no.
 */
export function kernelAbisOf(config: string | undefined, cmdline: string, x32Param?: string): KernelAbis {
  if (config === undefined || configSays(config, 'CONFIG_X86_64') !== true) return ALL_ABIS;
  // CONFIG_X86_X32 before Linux 5.18, CONFIG_X86_X32_ABI since
  const built = configSays(config, 'CONFIG_X86_X32_ABI') ?? configSays(config, 'CONFIG_X86_X32');
  if (built === undefined) return ALL_ABIS;
  if (!built) return { x32: false };
  const offByDefault = configSays(config, 'CONFIG_X86_X32_DISABLED');
  if (offByDefault === undefined) return ALL_ABIS; // no such parameter: built is run
  const given = kernelBool(x32Param?.trim()) ?? kernelBool(cmdlineValue(cmdline, 'syscall.x32'));
  return { x32: given ?? !offByDefault };
}

async function kernelConfig(): Promise<string | undefined> {
  const gz = await readFile('/proc/config.gz').catch(() => undefined);
  if (gz) {
    try {
      return gunzipSync(gz).toString('latin1');
    } catch {
      // a damaged one: the file under /boot, else none
    }
  }
  return readFile(`/boot/config-${release()}`, 'latin1').catch(() => undefined);
}

let loaded: Promise<KernelAbis> | undefined;

/** This host's, read once per process (x86-64 only: other hosts list what their profile maps). */
export function loadKernelAbis(): Promise<KernelAbis> {
  loaded ??= (async () => {
    if (process.arch !== 'x64') return ALL_ABIS;
    const [config, cmdline, x32Param] = await Promise.all([
      kernelConfig(),
      readFile('/proc/cmdline', 'utf8').catch(() => ''),
      readFile('/sys/module/syscall/parameters/x32', 'utf8').catch(() => undefined),
    ]);
    return kernelAbisOf(config, cmdline, x32Param);
  })();
  return loaded;
}
