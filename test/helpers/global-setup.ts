// Once per test run: Node 24 is required, the CLI is built (and bundled) so tests run it as users
// do, and the tests' own host config is written once (cli.ts hands it to every CLI run; the test
// processes find it in BERTH_TEST_CONFIG) and removed when the run ends.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { writeTestConfig } from './test-config.js';

export default function setup(): () => void {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 24)
    throw new Error(`berth needs Node 24 or newer; this is ${process.version} (run scripts/setup.sh)`);
  execFileSync('npm', ['run', '-s', 'build'], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    stdio: 'inherit',
  });
  // Set before the workers start: forked test processes inherit it.
  const { file, dir } = writeTestConfig();
  process.env.BERTH_TEST_CONFIG = file;
  return () => rmSync(dir, { recursive: true, force: true });
}
