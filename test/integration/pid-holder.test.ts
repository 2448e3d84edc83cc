// The PID namespace holder's identity (runtime/pid-holder.ts): a record is the holder only while
// pid, start time, boot and namespace inode all match; a record naming another process (a reused
// PID, a tampered pidns.json) is never taken for the holder and that process is never killed.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isOwnerAlive, isProcessAlive, ownerToken } from '../../src/lib/process.js';
import {
  isHolderAlive,
  pidNamespaceOf,
  readHolderRecordSync,
  recordedHolderPid,
  startPidHolder,
  stopPidHolder,
} from '../../src/runtime/pid-holder.js';
import { holderEnv, sweepOrphanHolders } from '../../src/runtime/pid-holder-orphans.js';
import { missingPrereqs } from '../helpers/prereqs.js';

const skip = missingPrereqs(['unshare', 'catatonit'], { root: true });

describe.skipIf(skip)('PID namespace holder', () => {
  let dir: string;
  let other: ChildProcess | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-pidholder-'));
  });
  afterEach(async () => {
    if (other?.pid && other.exitCode === null && other.signalCode === null)
      process.kill(other.pid, 'SIGKILL'); // the one we started
    const left = readHolderRecordSync(join(dir, 'pidns.json'));
    if (left && isHolderAlive(left)) await stopPidHolder(join(dir, 'pidns.json'));
    await rm(dir, { recursive: true, force: true });
  });

  it('starts a holder in a new PID namespace, records it 0600, and stops it', async () => {
    const file = join(dir, 'pidns.json');
    const r = await startPidHolder(file);
    const pid = Number.parseInt(r.owner, 10);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // The holder is unshare's forked child, recorded as soon as it exists: it may not have exec'd
    // catatonit yet (same pid, same start time, same namespace), so its command line is waited for.
    const cmdline = () => readFile(`/proc/${pid}/cmdline`, 'utf8');
    for (let i = 0; i < 100 && (await cmdline()) !== 'catatonit\0-P\0'; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(await cmdline()).toBe('catatonit\0-P\0');
    expect((await readFile(`/proc/${pid}/status`, 'utf8')).match(/^NSpid:\s+(\d+)\s+(\d+)$/m)?.[2]).toBe('1');
    expect(r.ns).not.toBe(statSync('/proc/self/ns/pid').ino);
    expect(pidNamespaceOf(file)).toBe(`/proc/${pid}/ns/pid`);
    await stopPidHolder(file);
    expect(isOwnerAlive(r.owner)).toBe(false);
    expect(readHolderRecordSync(file)).toBeUndefined();
    expect(() => pidNamespaceOf(file)).toThrow(/ERR_PIDNS|shared PID namespace is gone/);
  });

  it('a holder whose record cannot be written is killed, never left unknown', async () => {
    const holders = () =>
      readdirSync('/proc')
        .filter((d) => /^\d+$/.test(d))
        .filter((d) => {
          try {
            return readFileSync(`/proc/${d}/cmdline`, 'utf8') === 'catatonit\0-P\0';
          } catch {
            return false;
          }
        });
    const before = holders();
    await writeFile(join(dir, 'file'), ''); // a record under a file: it cannot be written
    await expect(startPidHolder(join(dir, 'file', 'pidns.json'))).rejects.toThrow(/ENOTDIR|EEXIST/);
    const until = Date.now() + 5000;
    while (holders().length > before.length && Date.now() < until) await delay(10);
    expect(holders()).toEqual(before);
  });

  it('a record naming another live process (reused PID, tampered file) is not the holder, and it is never killed', async () => {
    other = spawn('sleep', ['1000'], { stdio: 'ignore' });
    const pid = other.pid as number;
    const file = join(dir, 'pidns.json');
    const ours = statSync('/proc/self/ns/pid').ino;
    // Right pid, wrong start time (what a PID reused after the holder died looks like).
    const [, start, boot] = ownerToken(pid).split('-');
    await writeFile(file, JSON.stringify({ owner: `${pid}-${Number(start) - 1}-${boot}`, ns: ours }));
    expect(isHolderAlive(readHolderRecordSync(file))).toBe(false);
    // Right pid and start time but not a holder's namespace (its PID namespace is the host's).
    await writeFile(file, JSON.stringify({ owner: ownerToken(pid), ns: ours + 1 }));
    expect(isHolderAlive(readHolderRecordSync(file))).toBe(false);
    // Another boot.
    await writeFile(file, JSON.stringify({ owner: `${pid}-${start}-00000000`, ns: ours }));
    expect(isHolderAlive(readHolderRecordSync(file))).toBe(false);
    // Garbage.
    await writeFile(file, '{"owner": 1');
    expect(readHolderRecordSync(file)).toBeUndefined();
    await writeFile(file, JSON.stringify({ owner: ownerToken(pid), ns: ours + 1 }));
    await stopPidHolder(file);
    expect(isProcessAlive(pid)).toBe(true);
    expect(other.exitCode).toBeNull();
    expect(() => pidNamespaceOf(file)).toThrow(
      expect.objectContaining({
        code: 'ERR_PIDNS',
        message: `the pod's shared PID namespace is gone (its holder in ${file} is not running): the pod's sandbox is set up again`,
      }),
    );
  });

  it("the next pass kills a holder whose starter died before recording it; a live starter's stays", async () => {
    // What a berth killed between the spawn and pidns.json leaves: its marker and an unrecorded
    // holder carrying its token. The dead starter is a process this test started and killed.
    const pods = join(dir, 'pods');
    const home = join(pods, 'web');
    await mkdir(home, { recursive: true });
    const file = join(home, 'pidns.json');
    const starter = spawn('sleep', ['1000']);
    const dead = ownerToken(starter.pid);
    const exited = new Promise((r) => starter.once('exit', r));
    starter.kill('SIGKILL');
    await exited;
    const orphan = spawn('unshare', ['--pid', '--fork', 'catatonit', '-P'], {
      detached: true,
      stdio: 'ignore',
      env: holderEnv(file, dead),
    });
    other = orphan;
    await writeFile(`${file}.starting.${dead}`, '');
    // A live starter's holder for another pod (this very process): never touched.
    const liveHome = join(pods, 'api');
    await mkdir(liveHome, { recursive: true });
    const liveFile = join(liveHome, 'pidns.json');
    const live = spawn('unshare', ['--pid', '--fork', 'catatonit', '-P'], {
      detached: true,
      stdio: 'ignore',
      env: holderEnv(liveFile),
    });
    await writeFile(`${liveFile}.starting.${ownerToken()}`, '');
    // A FIFO planted at active.json and a stray file do not block the sweep.
    execFileSync('mkfifo', [join(home, 'active.json')]);
    await writeFile(join(pods, 'stray'), '');
    try {
      const until = Date.now() + 5000;
      const forked = () =>
        [orphan.pid, live.pid].every(
          (p) => readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim() !== '',
        );
      while (!forked() && Date.now() < until) await delay(5);
      const orphanChild = Number(
        readFileSync(`/proc/${orphan.pid}/task/${orphan.pid}/children`, 'utf8').trim(),
      );
      const killed = await sweepOrphanHolders(pods, recordedHolderPid);
      expect(killed.sort((a, b) => a - b)).toEqual([orphan.pid as number, orphanChild].sort((a, b) => a - b));
      const gone = Date.now() + 5000;
      while ((isProcessAlive(orphanChild) || orphan.signalCode === null) && Date.now() < gone) await delay(5);
      expect(isProcessAlive(orphanChild)).toBe(false);
      expect(orphan.signalCode).toBe('SIGKILL');
      expect(readdirSync(home).sort()).toEqual(['active.json']);
      expect(live.exitCode).toBeNull();
      expect(readdirSync(liveHome)).toEqual([`pidns.json.starting.${ownerToken()}`]);
    } finally {
      // Only the processes this test started, by PID: both unshares and their catatonits.
      for (const parent of [live, orphan]) {
        if (parent.exitCode !== null || parent.signalCode !== null) continue;
        const children = readFileSync(`/proc/${parent.pid}/task/${parent.pid}/children`, 'utf8').trim();
        for (const c of children.split(' ').filter(Boolean)) process.kill(Number(c), 'SIGKILL');
        process.kill(parent.pid as number, 'SIGKILL');
      }
    }
  });
});
