// berth's own seccomp filter, for hosts without containers-common's profile. Where that profile
// allows a list and refuses the rest, this one (smaller, written for berth) refuses what only the
// host should do — kernel modules, mounts, namespaces, reboots, clocks, swap, keyrings, tracing
// other processes, BPF, perf — and allows the rest. Rules a capability unlocks are left out for
// containers that were given it. Pure data and a filter.

import { ALL_ABIS, type KernelAbis } from './kernel-abis.js';
import { notRun } from './seccomp.js';

const ARCH: Record<string, string[]> = {
  x64: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  arm64: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
};

/** Syscalls refused with EPERM, and the capability (if any) that lets a container have them. */
const REFUSED: Array<[string[], string | undefined]> = [
  [
    ['init_module', 'finit_module', 'delete_module', 'create_module', 'query_module', 'get_kernel_syms'],
    'CAP_SYS_MODULE',
  ],
  [
    [
      'mount',
      'umount',
      'umount2',
      'pivot_root',
      'fsopen',
      'fsconfig',
      'fsmount',
      'fspick',
      'move_mount',
      'open_tree',
      'mount_setattr',
      'setns',
      'unshare',
      'quotactl',
      'quotactl_fd',
      'lookup_dcookie',
      'bpf',
      'fanotify_init',
      'open_by_handle_at',
      'name_to_handle_at',
      'perf_event_open',
      'userfaultfd',
      'kcmp',
      'syslog',
      'sethostname',
      'setdomainname',
      'iopl',
      'ioperm',
      'vm86',
      'vm86old',
      'nfsservctl',
      'uselib',
      '_sysctl',
      'sysfs',
      'ustat',
    ],
    'CAP_SYS_ADMIN',
  ],
  [['reboot', 'kexec_load', 'kexec_file_load'], 'CAP_SYS_BOOT'],
  [['swapon', 'swapoff'], 'CAP_SYS_ADMIN'],
  [['acct'], 'CAP_SYS_PACCT'],
  [
    [
      'settimeofday',
      'stime',
      'clock_settime',
      'clock_settime64',
      'clock_adjtime',
      'clock_adjtime64',
      'adjtimex',
    ],
    'CAP_SYS_TIME',
  ],
  [['ptrace', 'process_vm_readv', 'process_vm_writev'], 'CAP_SYS_PTRACE'],
  [['add_key', 'request_key', 'keyctl'], undefined],
  [['mbind', 'set_mempolicy', 'move_pages', 'migrate_pages'], 'CAP_SYS_NICE'],
];

/** CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET. */
const NAMESPACE_FLAGS = [0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000];

export function fallbackSeccomp(arch: string, caps: string[], abis: KernelAbis = ALL_ABIS): object {
  const has = new Set(caps);
  const names = REFUSED.filter(([, cap]) => !cap || !has.has(cap)).flatMap(([list]) => list);
  return {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: (ARCH[arch] ?? []).filter((a, i) => i === 0 || !notRun(abis)(a)),
    syscalls: [
      { names, action: 'SCMP_ACT_ERRNO', errnoRet: 1 },
      // clone3 cannot be filtered on its flags: ENOSYS makes libc fall back to clone, which can.
      { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
      // clone with a namespace flag: one rule per flag (a filter can test "these bits set", not "any").
      ...(has.has('CAP_SYS_ADMIN')
        ? []
        : NAMESPACE_FLAGS.map((flag) => ({
            names: ['clone'],
            action: 'SCMP_ACT_ERRNO',
            errnoRet: 1,
            args: [{ index: 0, value: flag, valueTwo: flag, op: 'SCMP_CMP_MASKED_EQ' }],
          }))),
    ],
  };
}
