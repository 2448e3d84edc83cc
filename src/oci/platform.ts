// Platforms (os/architecture/variant) and matching an image index entry to the host. Pure.
import { BerthError } from '../lib/errors.js';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

const NODE_ARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
};

/**
 * The platform of this process, in OCI terms. Node's `process.arch` etc. are passed in; `level` is
 * the CPU's: the ARM version, or the x86-64 micro-architecture level (amd64Level; 1 says nothing).
 */
export function hostPlatform(nodePlatform: string, nodeArch: string, level?: string): Platform {
  const architecture = NODE_ARCH[nodeArch] ?? nodeArch;
  const p: Platform = { os: nodePlatform === 'win32' ? 'windows' : nodePlatform, architecture };
  if (architecture === 'arm64') p.variant = 'v8';
  if (architecture === 'arm' && level) p.variant = `v${level}`;
  if (architecture === 'amd64' && level && Number(level) > 1) p.variant = `v${level}`;
  return p;
}

/**
 * CPU flags (/proc/cpuinfo names) each x86-64 level adds, as glibc's ld.so checks them, less LZCNT
 * (`abm`), which some hypervisors leave out of the list though every CPU with AVX2 and BMI2 has it.
 */
const AMD64_LEVELS = [
  ['cx16', 'lahf_lm', 'popcnt', 'pni', 'sse4_1', 'sse4_2', 'ssse3'],
  ['avx', 'avx2', 'bmi1', 'bmi2', 'f16c', 'fma', 'movbe', 'xsave'],
  ['avx512f', 'avx512bw', 'avx512cd', 'avx512dq', 'avx512vl'],
];

/** The x86-64 level (1–4) a CPU with these flags runs: amd64/v3 binaries need AVX2 and more. */
export function amd64Level(flags: string): number {
  const have = new Set(flags.split(/\s+/));
  let level = 1;
  for (const needs of AMD64_LEVELS) {
    if (!needs.every((f) => have.has(f))) break;
    level++;
  }
  return level;
}

/** `linux/arm64/v8` → Platform. */
export function parsePlatform(input: string): Platform {
  const parts = input.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9_.-]+$/.test(p))) {
    throw new BerthError('ERR_PLATFORM_INVALID', 'invalid', `invalid platform "${input}"`, {
      hint: 'expected os/architecture[/variant], e.g. linux/amd64 or linux/arm64/v8',
    });
  }
  const [os, architecture, variant] = parts as [string, string, string | undefined];
  const p: Platform = { os, architecture: architecture === 'aarch64' ? 'arm64' : architecture };
  if (architecture === 'x86_64') p.architecture = 'amd64';
  if (variant !== undefined) p.variant = variant;
  return p;
}

export function formatPlatform(p: Platform): string {
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}

/**
 * Variants a wanted variant can run, best first: v7 runs v6 and v5 binaries; amd64/v3 runs v2 and
 * plain amd64 (v1) ones, never the other way round (a v3 binary on a v2 CPU dies of SIGILL).
 */
function compatibleVariants(want: Platform): Array<string | undefined> {
  const v = want.variant;
  const levels = (n: number, from: number) =>
    Array.from({ length: Math.max(0, n - from + 1) }, (_, i) => n - i);
  if (want.architecture === 'arm') {
    return levels(Number((v ?? 'v7').slice(1)), 5).map((x) => `v${x}`);
  }
  if (want.architecture === 'amd64') {
    return levels(v === undefined ? 1 : Number(v.slice(1)), 1).map((x) => (x === 1 ? undefined : `v${x}`));
  }
  return [v];
}

/**
 * containerd's platforms.Normalize: os, architecture and variant in lower case, x86_64 and x86-64
 * are amd64, aarch64 arm64, i386 386, armhf arm/v7 and armel arm/v6, an arm variant 5-8 is v5-v8;
 * arm64 without a variant is v8, amd64/v1 plain amd64, an empty variant none.
 */
function normalized(p: Platform): Platform {
  let architecture = p.architecture.toLowerCase();
  let variant = p.variant?.toLowerCase() || undefined;
  if (architecture === 'x86_64' || architecture === 'x86-64') architecture = 'amd64';
  else if (architecture === 'aarch64') architecture = 'arm64';
  else if (architecture === 'i386') [architecture, variant] = ['386', undefined];
  else if (architecture === 'armhf') [architecture, variant] = ['arm', 'v7'];
  else if (architecture === 'armel') [architecture, variant] = ['arm', 'v6'];
  if (architecture === 'arm' && variant && /^[5-8]$/.test(variant)) variant = `v${variant}`;
  if (architecture === 'arm64' && (variant === undefined || variant === '8' || variant === 'v8.0'))
    variant = 'v8';
  if (architecture === 'amd64' && variant === 'v1') variant = undefined;
  return { os: p.os.toLowerCase(), architecture, ...(variant !== undefined ? { variant } : {}) };
}

/**
 * The 32-bit platform a 64-bit one also runs, as containerd's platformVector has it (platforms.Only,
 * Docker's and containerd's default matcher): arm64 runs arm (its variant, v8, and down to v5),
 * amd64 runs 386. An image offered only for those (a Raspberry Pi's armhf-only images on a 64-bit
 * OS) is taken after every entry of the host's own architecture.
 */
function compatArchitecture(want: Platform): Platform | undefined {
  // arm64's v8.x and v9.x run arm's v8 and below (containerd maps them the same way).
  if (want.architecture === 'arm64') return { os: want.os, architecture: 'arm', variant: 'v8' };
  if (want.architecture === 'amd64') return { os: want.os, architecture: '386' };
  return undefined;
}

/** Ranks of a compatible architecture's entries start here, after any of the host's own. */
const COMPAT_RANK = 100;

/** Rank of a candidate for `want`: lower is better; undefined means it cannot run. */
export function platformRank(wanted: Platform, entry: Platform | undefined): number | undefined {
  if (!entry) return undefined;
  const want = normalized(wanted);
  const candidate = normalized(entry);
  if (candidate.os !== want.os) return undefined;
  if (candidate.architecture !== want.architecture) {
    const compat = compatArchitecture(want);
    if (compat?.architecture !== candidate.architecture) return undefined;
    const rank = platformRank(compat, entry);
    return rank === undefined ? undefined : COMPAT_RANK + rank;
  }
  const variants = compatibleVariants(want);
  const known = want.architecture === 'arm' || want.architecture === 'amd64' || want.architecture === 'arm64';
  if (want.variant === undefined && !known) return 0;
  const cv = candidate.variant;
  if (cv === undefined && want.architecture === 'arm') return 10;
  const i = variants.indexOf(cv);
  return i < 0 ? undefined : i;
}

/** Index of the best entry for `want`, or undefined. Ties keep the index's order. */
export function selectPlatform<T extends { platform?: Platform }>(
  want: Platform,
  entries: readonly T[],
): T | undefined {
  let best: T | undefined;
  let bestRank = Number.POSITIVE_INFINITY;
  for (const e of entries) {
    const r = platformRank(want, e.platform);
    if (r !== undefined && r < bestRank) {
      best = e;
      bestRank = r;
    }
  }
  return best;
}
