// `berth daemon` says a daemon already serves a --state only when one holds its lock: a --state it
// cannot lock (a file in its place, a read-only file system) is refused with the real cause.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import { removeTempRoot } from '../helpers/temp-root.js';

describe('daemon lock errors', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-daemon-lock-'));
  });
  afterAll(async () => {
    await removeTempRoot(work);
  });

  it('a file where --state should be: the cause, not "a daemon already serves"', async () => {
    const state = join(work, 'state-file');
    await writeFile(state, '');
    const res = await runBerth([
      '--root',
      join(work, 'root'),
      '--state',
      state,
      'daemon',
      '--manifests',
      work,
    ]);
    expect(res.code).not.toBe(4);
    expect(res.stderr).not.toContain('already serves');
    expect(res.stderr).toBe(`berth: ERR_NOT_DIRECTORY: ${state} is not a directory\n`); // one line, the cause
  });
});
