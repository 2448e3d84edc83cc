// Once per test run: Node 24 is required, and the CLI is built (and bundled) so tests run it as
// users do.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 24)
    throw new Error(`berth needs Node 24 or newer; this is ${process.version} (run scripts/setup.sh)`);
  execFileSync('npm', ['run', '-s', 'build'], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    stdio: 'inherit',
  });
}
