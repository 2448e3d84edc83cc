// One iptables-restore for a batch of rule changes (network/iptables.ts), forked or through the
// spawn helper the daemon and `container run` start their tools with (not a fork of Node, which
// costs the daemon more than the restore itself), the same way: the lines applied all at once, and
// a refused batch one ERR_NETWORK_RULES with iptables' own words, the host's rules unchanged. Root:
// the host's nat table, in a chain of this test's own; the restore found on PATH is a script that
// notes its parent and runs the host's.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readRules, restore } from '../../src/network/iptables.js';
import { findOnPath } from '../../src/runtime/tool.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { spawnMode } from '../helpers/spawn-helper-mode.js';

const skip = missingPrereqs(['python3', 'iptables-restore', 'iptables-save'], { root: true });
const bin = mkdtempSync(join(tmpdir(), 'berth-restore-'));
const parents = join(bin, 'parents');
writeFileSync(
  join(bin, 'iptables-restore'),
  `#!/bin/sh\necho $PPID >> ${parents}\nexec ${findOnPath('iptables-restore')} "$@"\n`,
);
chmodSync(join(bin, 'iptables-restore'), 0o755);
const path = process.env.PATH;
process.env.PATH = `${bin}:${path}`; // the helper, started below, takes it too
afterAll(() => {
  process.env.PATH = path;
  rmSync(bin, { recursive: true, force: true });
});

describe.skipIf(skip).each([
  ['forked', false],
  ['through the spawn helper', true],
])('iptables restore (%s)', (_how, viaHelper) => {
  const chain = `BERTH-T-${randomBytes(4).toString('hex').toUpperCase()}`;
  const { use, stop } = spawnMode(viaHelper);
  afterAll(async () => {
    await restore(4, [
      { table: 'nat', line: `-F ${chain}` },
      { table: 'nat', line: `-X ${chain}` },
    ]).catch(() => undefined);
    await stop();
  });

  it('applies the batch; a refused one is ERR_NETWORK_RULES with what iptables said, nothing of it applied', async () => {
    const parent = use();
    rmSync(parents, { force: true });
    await restore(4, [
      { table: 'nat', line: `:${chain} - [0:0]` },
      { table: 'nat', line: `-A ${chain} -p tcp --dport 1 -j RETURN` },
    ]);
    const made = await readRules(4);
    expect(made.chains.has(`nat:${chain}`)).toBe(true);
    expect(made.rules.filter((r) => r.line.startsWith(`-A ${chain} `)).map((r) => r.line)).toEqual([
      `-A ${chain} -p tcp -m tcp --dport 1 -j RETURN`,
    ]);
    const refused = restore(4, [
      { table: 'nat', line: `-A ${chain} -p tcp --dport 2 -j RETURN` },
      { table: 'nat', line: `-D ${chain} -p tcp --dport 3 -j RETURN` },
    ]);
    await expect(refused).rejects.toMatchObject({ code: 'ERR_NETWORK_RULES' });
    await expect(refused).rejects.toThrow(/^iptables-restore failed: .*line 3 failed/);
    const after = await readRules(4);
    expect(after.rules.filter((r) => r.line.startsWith(`-A ${chain} `))).toEqual(
      made.rules.filter((r) => r.line.startsWith(`-A ${chain} `)),
    );
    expect(readFileSync(parents, 'utf8').trim().split('\n').map(Number)).toEqual([parent, parent]);
  });
});
