// Once per test run: Node 24 is required, the CLI is built (and bundled) so tests run it as users
// do (when a source changed since the last build: build-fresh.ts), and the tests' own host config
// is written once (cli.ts hands it to every CLI run; the test processes find it in BERTH_TEST_CONFIG)
// and removed when the run ends, with the default network's bridge and rules when the run made them
// (berth keeps them after the last pod: `network rm`).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_NETWORK } from '../../src/network/settings.js';
import { buildInputsOf, distIsFresh, recordBuild } from './build-fresh.js';
import { writeTestConfig } from './test-config.js';

const defaultBridge = () => existsSync(`/sys/class/net/${DEFAULT_NETWORK.bridge}`);

/** `berth network rm` of the default network (refused, and left, while anything is on it). */
function removeDefaultNetwork(repo: string, config: string): void {
  const tmp = mkdtempSync(join(tmpdir(), 'berth-test-netrm-'));
  try {
    execFileSync(
      process.execPath,
      [
        join(repo, 'dist/cli/berth.mjs'),
        '--config',
        config,
        '--root',
        join(tmp, 'root'),
        '--state',
        join(tmp, 'state'),
      ].concat(['network', 'rm', DEFAULT_NETWORK.name]),
      { stdio: 'ignore' },
    );
  } catch {
    // in use (a berth of the host's own, or a test still tearing down): left as it is
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export default function setup(): () => void {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 24)
    throw new Error(`berth needs Node 24 or newer; this is ${process.version} (run scripts/setup.sh)`);
  const repo = fileURLToPath(new URL('../..', import.meta.url));
  if (!distIsFresh(repo)) {
    const inputs = buildInputsOf(repo); // before the build: an edit made while it runs builds again next time
    execFileSync('npm', ['run', '-s', 'build'], { cwd: repo, stdio: 'inherit' });
    recordBuild(repo, inputs);
  }
  // Set before the workers start: forked test processes inherit it.
  const { file, dir } = writeTestConfig();
  process.env.BERTH_TEST_CONFIG = file;
  const hadBridge = defaultBridge();
  return () => {
    if (!hadBridge && defaultBridge() && process.getuid?.() === 0) removeDefaultNetwork(repo, file);
    rmSync(dir, { recursive: true, force: true });
  };
}
