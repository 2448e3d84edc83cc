// Worker thread entries the CLI starts. The bundle (scripts/bundle.mjs) puts each beside
// dist/cli/berth.mjs; this file itself lands in berth.mjs or in one of its chunks (dist/cli/chunks),
// so the entry is looked for beside it, then one level up.
import { existsSync } from 'node:fs';

function besideTheCli(name: string): URL {
  const near = new URL(`./${name}`, import.meta.url);
  return existsSync(near) ? near : new URL(`../${name}`, import.meta.url);
}

export const UNPACK_WORKER = besideTheCli('unpack-worker.mjs');
