// Prerequisites of integration and e2e tests. Outside CI a missing tool skips the suite with a
// reason; in CI (CI=true) it fails the run, so nothing is silently skipped there.
import { execFileSync } from 'node:child_process';

function hasTool(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** undefined when everything is present; otherwise the reason to skip (throws in CI). */
export function missingPrereqs(tools: string[], options: { root?: boolean } = {}): string | undefined {
  const missing = tools.filter((t) => !hasTool(t));
  const reasons: string[] = [];
  if (missing.length > 0) reasons.push(`missing ${missing.join(', ')}`);
  if (options.root && process.getuid?.() !== 0) reasons.push('needs root');
  if (reasons.length === 0) return undefined;
  const reason = reasons.join('; ');
  if (process.env.CI === 'true') throw new Error(`test prerequisites not met in CI: ${reason}`);
  console.warn(`skipping: ${reason} (run scripts/setup.sh)`);
  return reason;
}

/** What an e2e test of pods on the bridge network needs: containers, a registry, images, the CNI plugins. */
export const BRIDGE_POD_PREREQS = [
  'runc',
  'conmon',
  'docker-registry',
  'skopeo',
  'umoci',
  'unshare',
  'iptables',
  'ip',
  '/usr/lib/cni/bridge',
];
