// Whether a seccomp filter lists x86-64's x32 ABI (kernel-abis.ts, seccomp.ts): read from a build
// config and a command line as the kernel reads them, and applied to both filters.
import { describe, expect, it } from 'vitest';
import { ALL_ABIS, kernelAbisOf } from '../../src/runtime/kernel-abis.js';
import { toOciSeccomp } from '../../src/runtime/seccomp.js';
import { fallbackSeccomp } from '../../src/runtime/seccomp-fallback.js';

const config = (...lines: string[]) =>
  `#\n# Automatically generated file; DO NOT EDIT.\nCONFIG_X86_64=y\n${lines.join('\n')}\n`;
const UPSTREAM = config('CONFIG_IA32_EMULATION=y', '# CONFIG_X86_X32_ABI is not set');
const DEBIAN = config('CONFIG_IA32_EMULATION=y', 'CONFIG_X86_X32_ABI=y', 'CONFIG_X86_X32_DISABLED=y');
const X32 = { x32: true };
const NO_X32 = { x32: false };

describe('whether a kernel runs x32 calls', () => {
  it('says no only from an x86-64 config that says so; anything unclear is yes (as before)', () => {
    expect(kernelAbisOf(undefined, 'ro quiet')).toEqual(ALL_ABIS);
    expect(kernelAbisOf(UPSTREAM, 'ro quiet')).toEqual(NO_X32);
    // an empty or cut-short file (a failed install, a full disk) is no config
    expect(kernelAbisOf('', '')).toEqual(X32);
    expect(kernelAbisOf('# CONFIG_X86_X32_ABI is not set\n', '')).toEqual(X32);
    expect(kernelAbisOf(config('CONFIG_IA32_EMULATION=y'), '')).toEqual(X32);
    // an option's name inside another's is not that option
    expect(kernelAbisOf(config('# CONFIG_X86_X32_ABI_EXTRA is not set'), '')).toEqual(X32);
    // before Linux 5.18 the option was CONFIG_X86_X32
    expect(kernelAbisOf(config('CONFIG_X86_X32=y'), '')).toEqual(X32);
    expect(kernelAbisOf(config('# CONFIG_X86_X32 is not set'), '')).toEqual(NO_X32);
  });
  it("reads syscall.x32 only on a kernel that has it (Debian's), as the kernel reads it", () => {
    expect(kernelAbisOf(DEBIAN, 'ro quiet')).toEqual(NO_X32);
    expect(kernelAbisOf(DEBIAN, 'ro syscall.x32=y quiet')).toEqual(X32);
    expect(kernelAbisOf(DEBIAN, 'syscall.x32="1"')).toEqual(X32);
    // the last value kstrtobool takes counts; what follows `--` is init's
    expect(kernelAbisOf(DEBIAN, 'syscall.x32=1 syscall.x32=N')).toEqual(NO_X32);
    expect(kernelAbisOf(DEBIAN, 'syscall.x32=1 syscall.x32=maybe')).toEqual(X32);
    expect(kernelAbisOf(DEBIAN, 'ro -- syscall.x32=y')).toEqual(NO_X32);
    // the parameter's file, where there is one, is what the kernel took
    expect(kernelAbisOf(DEBIAN, 'syscall.x32=y', 'N\n')).toEqual(NO_X32);
    expect(kernelAbisOf(DEBIAN, '', 'Y\n')).toEqual(X32);
    // on a kernel without that parameter, built in is run whatever the command line says
    expect(kernelAbisOf(config('CONFIG_X86_X32_ABI=y'), 'syscall.x32=n')).toEqual(X32);
    expect(
      kernelAbisOf(config('CONFIG_X86_X32_ABI=y', '# CONFIG_X86_X32_DISABLED is not set'), 'syscall.x32=n'),
    ).toEqual(NO_X32);
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
  it("leaves x32 out of the profile's sub-architectures where the kernel does not run it", () => {
    expect(arches(toOciSeccomp(profile, 'x64', []))).toEqual([
      'SCMP_ARCH_X86_64',
      'SCMP_ARCH_X86',
      'SCMP_ARCH_X32',
    ]);
    expect(arches(toOciSeccomp(profile, 'x64', [], { x32: false }))).toEqual([
      'SCMP_ARCH_X86_64',
      'SCMP_ARCH_X86',
    ]);
    // another host's sub-architectures are not x86-64's x32
    expect(arches(toOciSeccomp(profile, 'arm64', [], { x32: false }))).toEqual([
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
    expect(arches(fallbackSeccomp('x64', [], { x32: false }))).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86']);
    expect(arches(fallbackSeccomp('arm64', [], { x32: false }))).toEqual([
      'SCMP_ARCH_AARCH64',
      'SCMP_ARCH_ARM',
    ]);
  });
});
