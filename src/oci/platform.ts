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

/** The platform of this process, in OCI terms. Node's `process.arch` etc. are passed in. */
export function hostPlatform(nodePlatform: string, nodeArch: string, armVersion?: string): Platform {
  const architecture = NODE_ARCH[nodeArch] ?? nodeArch;
  const p: Platform = { os: nodePlatform === 'win32' ? 'windows' : nodePlatform, architecture };
  if (architecture === 'arm64') p.variant = 'v8';
  if (architecture === 'arm' && armVersion) p.variant = `v${armVersion}`;
  return p;
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

function normalizedVariant(p: Platform): string | undefined {
  if (p.architecture === 'arm64' && (p.variant === undefined || p.variant === '')) return 'v8';
  return p.variant === '' ? undefined : p.variant;
}

/** ARM variants a wanted variant can run, best first (v7 runs v6 and v5 binaries). */
function compatibleVariants(want: Platform): Array<string | undefined> {
  const v = normalizedVariant(want);
  if (want.architecture === 'arm' && v) {
    const n = Number(v.slice(1));
    return [5, 6, 7, 8]
      .filter((x) => x <= n)
      .reverse()
      .map((x) => `v${x}`);
  }
  return [v];
}

/** Rank of a candidate for `want`: lower is better; undefined means it cannot run. */
export function platformRank(want: Platform, candidate: Platform | undefined): number | undefined {
  if (!candidate) return undefined;
  if (candidate.os !== want.os || candidate.architecture !== want.architecture) return undefined;
  if (want.variant === undefined && want.architecture !== 'arm64') return 0;
  const cv = normalizedVariant(candidate);
  if (cv === undefined) return want.architecture === 'arm' ? 10 : 0;
  const i = compatibleVariants(want).indexOf(cv);
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
