// Which of an x86-64 kernel's other system call ABIs it runs: i386 (IA32 emulation) and x32. A
// seccomp filter lists only the architectures the kernel runs (seccomp.ts): libseccomp compiles
// the rules once per listed architecture in every `runc create` (x32 alone was ~15 ms of CPU
// there), and a call of an ABI the kernel lacks is refused either way. Read from the kernel's
// build config (/proc/config.gz, else /boot/config-RELEASE) and its command line, once per
// process; without a config both count as run, as before. The parser is pure.
import { readFile } from 'node:fs/promises';
import { release } from 'node:os';
import { gunzipSync } from 'node:zlib';

export interface KernelAbis {
  /** 32-bit x86 programs (IA32 emulation). */
  x86: boolean;
  /** x32 programs (64-bit registers, 32-bit pointers). */
  x32: boolean;
}

export const ALL_ABIS: KernelAbis = { x86: true, x32: true };

/** A parameter of the kernel's command line, the last one given (as the kernel takes it); a bare name is "y". */
function cmdlineValue(cmdline: string, name: string): string | undefined {
  let value: string | undefined;
  for (const word of cmdline.split(/\s+/)) {
    if (word === '--') break; // the rest is init's
    if (word === name) value = 'y';
    else if (word.startsWith(`${name}=`)) value = word.slice(name.length + 1);
  }
  return value;
}

/** kstrtobool's reading of a value (its first letters): true, false, or undefined for neither. */
function kernelBool(value: string | undefined): boolean | undefined {
  const [a = '', b = ''] = (value ?? '').toLowerCase();
  if ('yt1'.includes(a) && a !== '') return true;
  if ('nf0'.includes(a) && a !== '') return false;
  if (a === 'o' && b === 'n') return true;
  if (a === 'o' && b === 'f') return false;
  return undefined;
}

const configOn = (config: string, option: string) => new RegExp(`^${option}=y$`, 'm').test(config);

/**
 * The ABIs a kernel of this build config and command line runs. An ABI built in but off by
 * default (Debian's CONFIG_X86_X32_DISABLED, CONFIG_IA32_EMULATION_DEFAULT_DISABLED) runs only
 * when the command line turns it on (`syscall.x32=y`, `ia32_emulation=true`); one built in runs
 * unless the command line turns it off.
 */
export function kernelAbisOf(config: string | undefined, cmdline: string): KernelAbis {
  if (config === undefined) return ALL_ABIS;
  const abi = (built: boolean, offByDefault: boolean, param: string) => {
    if (!built) return false;
    const given = kernelBool(cmdlineValue(cmdline, param));
    return given ?? !offByDefault;
  };
  return {
    // CONFIG_X86_X32 before Linux 5.18, CONFIG_X86_X32_ABI since
    x32: abi(
      configOn(config, 'CONFIG_X86_X32_ABI') || configOn(config, 'CONFIG_X86_X32'),
      configOn(config, 'CONFIG_X86_X32_DISABLED'),
      'syscall.x32',
    ),
    x86: abi(
      configOn(config, 'CONFIG_IA32_EMULATION'),
      configOn(config, 'CONFIG_IA32_EMULATION_DEFAULT_DISABLED'),
      'ia32_emulation',
    ),
  };
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
    const [config, cmdline] = await Promise.all([
      kernelConfig(),
      readFile('/proc/cmdline', 'utf8').catch(() => ''),
    ]);
    return kernelAbisOf(config, cmdline);
  })();
  return loaded;
}
