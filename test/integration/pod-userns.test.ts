// A hostUsers: false pod's namespaces (runtime/pod-userns.ts), as root with the real unshare,
// nsenter and mount: the user namespace maps 0… to the pod's range and owns the network namespace
// (loopback up), so a process that joins the user namespace first may then join the netns, as
// runc 1.1 does; a mapping the kernel refuses leaves no file and no mount; a user namespace file a
// crash left mounted is replaced; the pod's PID namespace holder is made inside it.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { removeNetns } from '../../src/runtime/netns.js';
import { startPidHolder, stopPidHolder } from '../../src/runtime/pid-holder.js';
import { createPodNamespaces, podUsernsFileOf } from '../../src/runtime/pod-userns.js';
import { missingPrereqs } from '../helpers/prereqs.js';

const skip = missingPrereqs(['unshare', 'nsenter', 'ip', 'catatonit'], { root: true });
const RANGE = { base: 2 ** 30 + 7 * 65536, size: 65536 };

const mountsUnder = (dir: string) =>
  readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(`${dir}/`));

describe.skipIf(skip)("a hostUsers: false pod's user and network namespaces", () => {
  let dir: string;
  let netns: string;
  let userns: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-podns-'));
    netns = join(dir, 'netns', 'pod-p');
    userns = podUsernsFileOf(netns);
  });
  afterEach(async () => {
    await stopPidHolder(join(dir, 'pidns.json'));
    await removeNetns(netns);
    await removeNetns(userns);
    expect(mountsUnder(dir)).toEqual([]);
    await rm(dir, { recursive: true, force: true });
  });

  it('maps the range, owns the netns with loopback up, and lets a process join user first then net', async () => {
    await createPodNamespaces(userns, netns, RANGE);
    expect(mountsUnder(dir).sort()).toEqual([netns, userns].sort());
    expect(statSync(userns).ino).not.toBe(statSync('/proc/self/ns/user').ino);
    // nsenter joins the user namespace first too: refused were the netns the host's.
    const inside = execFileSync('nsenter', [
      `--user=${userns}`,
      `--net=${netns}`,
      'sh',
      '-c',
      'cat /proc/self/uid_map /proc/self/gid_map; id -u; ip -o link show lo',
    ])
      .toString()
      .split('\n');
    expect(inside.slice(0, 2).map((l) => l.trim().split(/\s+/))).toEqual([
      ['0', String(RANGE.base), String(RANGE.size)],
      ['0', String(RANGE.base), String(RANGE.size)],
    ]);
    expect(inside[2]).toBe('0');
    expect(inside[3]).toMatch(/<LOOPBACK,UP,LOWER_UP>/);
  });

  it('a mapping the kernel refuses is an ERR_NETNS naming the files, leaving no file and no mount', async () => {
    const bad = { base: 2 ** 32 - 10, size: 65536 }; // past the last host ID
    await expect(createPodNamespaces(userns, netns, bad)).rejects.toMatchObject({
      code: 'ERR_NETNS',
      message: expect.stringContaining(userns),
    });
    expect([existsSync(userns), existsSync(netns), mountsUnder(dir)]).toEqual([false, false, []]);
  });

  it('replaces a user namespace file a crash left, mounted or not', async () => {
    const mapOf = () =>
      execFileSync('nsenter', [`--user=${userns}`, 'cat', '/proc/self/uid_map'])
        .toString()
        .trim()
        .split(/\s+/);
    await createPodNamespaces(userns, netns, { ...RANGE, base: RANGE.base + RANGE.size });
    await removeNetns(netns); // as a crash mid-setup: the netns is not there, the userns file is
    await createPodNamespaces(userns, netns, RANGE);
    expect(mapOf()).toEqual(['0', String(RANGE.base), String(RANGE.size)]);
    expect(mountsUnder(dir).sort()).toEqual([netns, userns].sort());
    await removeNetns(netns);
    await removeNetns(userns);
    await writeFile(userns, ''); // a plain file left behind
    await createPodNamespaces(userns, netns, RANGE);
    expect(mountsUnder(dir).sort()).toEqual([netns, userns].sort());
  });

  it("makes the shared PID namespace's holder inside the pod's user namespace", async () => {
    await createPodNamespaces(userns, netns, RANGE);
    const record = await startPidHolder(join(dir, 'pidns.json'), userns);
    const pid = Number(record.owner.split('-')[0]);
    expect(readFileSync(`/proc/${pid}/uid_map`, 'utf8').trim().split(/\s+/)).toEqual([
      '0',
      String(RANGE.base),
      String(RANGE.size),
    ]);
    // A process that joins the user namespace can then join the PID namespace.
    const joined = execFileSync('nsenter', [`--user=${userns}`, `--pid=/proc/${pid}/ns/pid`, '--', 'true']);
    expect(joined.toString()).toBe('');
  });
});
