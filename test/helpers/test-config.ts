// The tests' own host config: an empty one whose credentials file is an empty one of its own, so a
// real /etc/berth/config.yaml or auth.json never changes what a test sees (cli.ts passes it).
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** An empty host config whose credentials file is an empty one of its own, readable by any user. */
export function writeTestConfig(): { file: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'berth-test-config-'));
  chmodSync(dir, 0o755); // privilege tests run the CLI as other users
  const auth = join(dir, 'auth.json');
  writeFileSync(auth, '{"auths": {}}\n', { mode: 0o644 });
  const file = join(dir, 'config.yaml');
  writeFileSync(file, `auth:\n  configFile: ${JSON.stringify(auth)}\n`, { mode: 0o644 });
  return { file, dir };
}
