// Calling one CNI plugin (network/cni-exec.ts), forked or through the daemon's spawn helper, the
// same way: only the CNI_* variables, PATH and GOMAXPROCS/GOGC/GOMEMLIMIT in its environment, the
// configuration on stdin, its result parsed; a failure is one ERR_CNI naming the plugin and what
// it said (its error object, else its last stderr lines, else its exit; past 16 MiB of output, killed). The plugins are small
// scripts written here: the case is what any plugin may do, and a real one cannot be made to fail
// each way.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { execPlugin, type PluginCall } from '../../src/network/cni-exec.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { spawnMode } from '../helpers/spawn-helper-mode.js';

const skip = missingPrereqs(['python3', 'sh', 'env', 'cat']);
const bin = mkdtempSync(join(tmpdir(), 'berth-cni-exec-'));
const plugin = (name: string, body: string) => {
  writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
  chmodSync(join(bin, name), 0o755);
};
// Echoes what it was given as a CNI result: its environment, its stdin and its parent.
plugin(
  'echo',
  `in=$(cat)
printf '{"env":"%s","stdin":%s,"parent":%s}' "$(env | sort | tr '\\n' ' ')" "$in" "$PPID"`,
);
plugin(
  'refuses',
  `cat >/dev/null; printf '{"code":7,"msg":"no address left","details":"range full"}'; exit 1`,
);
plugin('crashes', `echo first >&2; echo 'panic: nil map' >&2; exit 2`);
plugin('hangs', 'exec sleep 30');
plugin('silent', 'exit 3');
plugin('segfaults', 'kill -SEGV $$');
// Exits 0 after 20 MB of output, far past any result: forked, it was all held, then taken as no result.
plugin('floods', `cat >/dev/null; head -c 20000000 /dev/zero | tr '\\0' x`);

const call = (type: string, o: Partial<PluginCall> = {}): PluginCall => ({
  binDir: bin,
  type,
  command: 'ADD',
  containerId: 'berth-pod-a',
  netns: '/run/netns/x',
  ifName: 'eth0',
  stdin: '{"cniVersion":"1.0.0"}',
  path: '/usr/bin:/bin',
  ...o,
});

describe.skipIf(skip).each([
  ['forked', false],
  ['through the spawn helper', true],
])('CNI plugin call (%s)', (_how, viaHelper) => {
  const { use, stop } = spawnMode(viaHelper);
  afterAll(stop);

  it('gives the plugin the CNI variables, PATH and the Go runtime settings only, the config on stdin; its result parsed', async () => {
    const parent = use();
    const r = (await execPlugin(call('echo'))) as { env: string; stdin: unknown; parent: number };
    expect(r.stdin).toEqual({ cniVersion: '1.0.0' });
    // What sh adds itself (PWD, SHLVL, _) aside: nothing of this process's environment.
    const own = r.env
      .trim()
      .split(' ')
      .filter((v) => !/^(PWD|SHLVL|_|OLDPWD)=/.test(v));
    expect(own).toEqual([
      'CNI_COMMAND=ADD',
      'CNI_CONTAINERID=berth-pod-a',
      'CNI_IFNAME=eth0',
      'CNI_NETNS=/run/netns/x',
      `CNI_PATH=${bin}`,
      // The Go plugins' runtime kept small (cni-exec.ts: 40.5 → 36.2 ms of CPU for bridge's ADD).
      'GOGC=off',
      'GOMAXPROCS=1',
      'GOMEMLIMIT=64MiB',
      'PATH=/usr/bin:/bin',
    ]);
    expect(r.parent).toBe(parent);
  });

  it('a refusal is said with the plugin error object; a crash with its last stderr lines', async () => {
    use();
    await expect(execPlugin(call('refuses'))).rejects.toMatchObject({
      code: 'ERR_CNI',
      message: 'CNI refuses ADD for berth-pod-a: no address left: range full',
    });
    await expect(execPlugin(call('crashes', { command: 'DEL' }))).rejects.toMatchObject({
      code: 'ERR_CNI',
      message: 'CNI crashes DEL for berth-pod-a: first; panic: nil map',
    });
  });

  it('a plugin that says nothing is said by how it ended: its code, or the signal by name', async () => {
    use();
    await expect(execPlugin(call('silent'))).rejects.toMatchObject({
      message: 'CNI silent ADD for berth-pod-a: exited with code 3',
    });
    await expect(execPlugin(call('segfaults'))).rejects.toMatchObject({
      message: 'CNI segfaults ADD for berth-pod-a: killed by signal SIGSEGV',
    });
  });

  it('a plugin writing past 16 MiB is killed and said to be, never taken as a result', async () => {
    use();
    await expect(execPlugin(call('floods'))).rejects.toMatchObject({
      code: 'ERR_CNI',
      message: 'CNI floods ADD for berth-pod-a: wrote more than 16 MiB',
    });
  });

  it('a plugin past its time is killed and said to be; a missing one or a bad name is an ERR_CNI', async () => {
    use();
    const started = Date.now();
    const hung = await execPlugin(call('hangs', { timeoutMs: 300 })).catch((e: Error) => e);
    expect(hung).toMatchObject({ code: 'ERR_CNI' });
    expect((hung as Error).message).toMatch(/^CNI hangs ADD for berth-pod-a: timed out$/);
    expect(Date.now() - started).toBeLessThan(10_000);
    await expect(execPlugin(call('absent'))).rejects.toMatchObject({ code: 'ERR_CNI' });
    await expect(execPlugin(call('../../bin/sh'))).rejects.toMatchObject({
      code: 'ERR_CNI',
      message: 'CNI ../../bin/sh ADD for berth-pod-a: not a plugin name',
    });
  });
});

afterAll(() => rmSync(bin, { recursive: true, force: true }));
