// The x86-64 kernel ABIs a seccomp filter lists (kernel-abis.ts, seccomp.ts): read from a build
// config and a command line as the kernel reads them, and applied to both filters.
import { describe, expect, it } from 'vitest';
import { ALL_ABIS, kernelAbisOf } from '../../src/runtime/kernel-abis.js';
import { toOciSeccomp } from '../../src/runtime/seccomp.js';
import { fallbackSeccomp } from '../../src/runtime/seccomp-fallback.js';

const config = (...lines: string[]) =>
  `#\n# Automatically generated file; DO NOT EDIT.\n${lines.join('\n')}\n`;
const UPSTREAM = config('CONFIG_IA32_EMULATION=y', '# CONFIG_X86_X32_ABI is not set');
const DEBIAN = config('CONFIG_IA32_EMULATION=y', 'CONFIG_X86_X32_ABI=y', 'CONFIG_X86_X32_DISABLED=y');

describe('the ABIs a kernel runs', () => {
  it('takes both without a config to read (as before)', () => {
    expect(kernelAbisOf(undefined, 'ro quiet')).toEqual(ALL_ABIS);
  });
  it('leaves out x32 where it is not built, or built off and not turned on', () => {
    expect(kernelAbisOf(UPSTREAM, 'ro quiet')).toEqual({ x86: true, x32: false });
    expect(kernelAbisOf(DEBIAN, 'ro quiet')).toEqual({ x86: true, x32: false });
    expect(kernelAbisOf(DEBIAN, 'ro syscall.x32=y quiet')).toEqual({ x86: true, x32: true });
    expect(kernelAbisOf(DEBIAN, 'syscall.x32')).toEqual({ x86: true, x32: true });
    // the last one given counts; what follows `--` is init's, not the kernel's
    expect(kernelAbisOf(DEBIAN, 'syscall.x32=1 syscall.x32=N')).toEqual({ x86: true, x32: false });
    expect(kernelAbisOf(DEBIAN, 'ro -- syscall.x32=y')).toEqual({ x86: true, x32: false });
    // before Linux 5.18 the option was CONFIG_X86_X32
    expect(kernelAbisOf(config('CONFIG_IA32_EMULATION=y', 'CONFIG_X86_X32=y'), '')).toEqual(ALL_ABIS);
    expect(kernelAbisOf(config('CONFIG_X86_X32_ABI=y'), 'syscall.x32=off').x32).toBe(false);
    // an option's name inside another's is not that option
    expect(kernelAbisOf(config('CONFIG_X86_X32_ABI_EXTRA=y'), '').x32).toBe(false);
  });
  it('leaves out i386 where IA32 emulation is not built, off by default or turned off', () => {
    expect(kernelAbisOf(config('# CONFIG_IA32_EMULATION is not set'), '').x86).toBe(false);
    expect(kernelAbisOf(UPSTREAM, 'ia32_emulation=false').x86).toBe(false);
    const offByDefault = config('CONFIG_IA32_EMULATION=y', 'CONFIG_IA32_EMULATION_DEFAULT_DISABLED=y');
    expect(kernelAbisOf(offByDefault, '').x86).toBe(false);
    expect(kernelAbisOf(offByDefault, 'ia32_emulation=true').x86).toBe(true);
    // a value kstrtobool does not read changes nothing
    expect(kernelAbisOf(offByDefault, 'ia32_emulation=maybe').x86).toBe(false);
    expect(kernelAbisOf(UPSTREAM, 'ia32_emulation=maybe').x86).toBe(true);
  });
});

describe('the filter for them', () => {
  const profile = {
    defaultAction: 'SCMP_ACT_ERRNO',
    archMap: [
      { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
      { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
    ],
    syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }],
  };
  const arches = (o: object) => (o as { architectures: string[] }).architectures;
  it("lists the profile's sub-architectures the kernel runs, the native one always", () => {
    expect(arches(toOciSeccomp(profile, 'x64', []))).toEqual([
      'SCMP_ARCH_X86_64',
      'SCMP_ARCH_X86',
      'SCMP_ARCH_X32',
    ]);
    expect(arches(toOciSeccomp(profile, 'x64', [], { x86: true, x32: false }))).toEqual([
      'SCMP_ARCH_X86_64',
      'SCMP_ARCH_X86',
    ]);
    expect(arches(toOciSeccomp(profile, 'x64', [], { x86: false, x32: false }))).toEqual([
      'SCMP_ARCH_X86_64',
    ]);
    // another host's sub-architectures are not x86-64's ABIs
    expect(arches(toOciSeccomp(profile, 'arm64', [], { x86: false, x32: false }))).toEqual([
      'SCMP_ARCH_AARCH64',
      'SCMP_ARCH_ARM',
    ]);
  });
  it("does the same in berth's own filter", () => {
    expect(arches(fallbackSeccomp('x64', []))).toEqual([
      'SCMP_ARCH_X86_64',
      'SCMP_ARCH_X86',
      'SCMP_ARCH_X32',
    ]);
    expect(arches(fallbackSeccomp('x64', [], { x86: true, x32: false }))).toEqual([
      'SCMP_ARCH_X86_64',
      'SCMP_ARCH_X86',
    ]);
    expect(arches(fallbackSeccomp('arm64', [], { x86: false, x32: false }))).toEqual([
      'SCMP_ARCH_AARCH64',
      'SCMP_ARCH_ARM',
    ]);
  });
});
