// The daemon's caches of what each pass observes (lib/file-cache.ts, runc-state.ts' StateCache),
// on a real file system in a temp dir: every change a pass must see is seen through them — a record
// replaced with one of the same size and times, a file rewritten in place, one removed and made
// again, a pod's attachment that appears, a container's process that ends — and the caches are
// then really used (a file that did not change is not read again). Each test fails if the cache
// served what it held.
import { spawn } from 'node:child_process';
import { readFileSync, renameSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileCache, type FileIdentity, isStillValid, RACY_MS } from '../../src/lib/file-cache.js';
import { observeSandboxes } from '../../src/reconcile/pods.js';
import { readRecordsReport } from '../../src/runtime/record.js';
import { readLiveState, type StateCache, startTimeOf } from '../../src/runtime/runc-state.js';
import { removeTempRoot } from '../helpers/temp-root.js';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'berth-observe-cache-'));
});
afterAll(async () => {
  await removeTempRoot(work);
});

/** A clock far enough ahead that nothing written by the test is racy: only the identity decides. */
const later = () => Date.now() + 10 * RACY_MS;

/** A whole second: utimes sets it exactly, so a file's mtime can be put back as it was. */
const T = 1_700_000_000;

/** How often `parse` ran: the cache was missed. */
function counted<T>(parse: (text: string) => T): { parse: (text: string) => T; calls: () => number } {
  let n = 0;
  return {
    parse: (text) => {
      n++;
      return parse(text);
    },
    calls: () => n,
  };
}

describe('file cache: identity', () => {
  it('a file replaced by rename with the same size and mtime is read again (a new inode)', async () => {
    const cache = createFileCache({ now: later });
    const file = join(work, 'renamed.json');
    writeFileSync(file, '{"v":"aaaa"}');
    const mtime = statSync(file).mtime;
    const p = counted((t) => JSON.parse(t) as { v: string });
    expect(cache.read(file, p.parse)).toEqual({ v: 'aaaa' });
    expect(cache.read(file, p.parse)).toEqual({ v: 'aaaa' });
    expect(p.calls()).toBe(1); // the second read was served
    writeFileSync(`${file}.tmp`, '{"v":"bbbb"}');
    utimesSync(`${file}.tmp`, mtime, mtime);
    renameSync(`${file}.tmp`, file);
    expect(statSync(file).size).toBe(12);
    expect(statSync(file).mtime).toEqual(mtime);
    expect(cache.read(file, p.parse)).toEqual({ v: 'bbbb' });
    expect(p.calls()).toBe(2);
  });

  it('a file rewritten in place with the same size, its mtime put back, is read again (ctime)', async () => {
    const cache = createFileCache({ now: later });
    const file = join(work, 'in-place.json');
    writeFileSync(file, '{"v":"aaaa"}');
    utimesSync(file, T, T);
    const st = statSync(file);
    expect(cache.read(file, (t) => JSON.parse(t))).toEqual({ v: 'aaaa' });
    writeFileSync(file, '{"v":"cccc"}'); // same inode, same size
    utimesSync(file, T, T);
    expect(statSync(file).ino).toBe(st.ino);
    expect(statSync(file).mtimeMs).toBe(st.mtimeMs);
    expect(cache.read(file, (t) => JSON.parse(t))).toEqual({ v: 'cccc' });
  });

  it('a removed file is undefined, and the one made again under its name is read', async () => {
    const cache = createFileCache({ now: later });
    const file = join(work, 'removed.json');
    writeFileSync(file, '"one"');
    expect(cache.read(file, (t) => JSON.parse(t))).toBe('one');
    await unlink(file);
    expect(cache.read(file, (t) => JSON.parse(t))).toBeUndefined();
    expect(cache.size).toBe(0);
    writeFileSync(file, '"two"');
    expect(cache.read(file, (t) => JSON.parse(t))).toBe('two');
  });

  it('sweep forgets the files no read asked for since the last sweep', async () => {
    const cache = createFileCache({ now: later });
    const a = join(work, 'sweep-a');
    const b = join(work, 'sweep-b');
    writeFileSync(a, 'a');
    writeFileSync(b, 'b');
    cache.read(a, (t) => t);
    cache.read(b, (t) => t);
    cache.sweep();
    cache.read(a, (t) => t);
    cache.sweep();
    expect(cache.size).toBe(1);
    const p = counted((t) => t);
    expect(cache.read(b, p.parse)).toBe('b');
    expect(p.calls()).toBe(1);
  });
});

describe('file cache: racy entries', () => {
  const id = (ctimeMs: number, mtimeMs = ctimeMs): FileIdentity => ({
    dev: 1n,
    ino: 2n,
    size: 12n,
    mtimeNs: BigInt(mtimeMs) * 1_000_000n,
    ctimeNs: BigInt(ctimeMs) * 1_000_000n,
  });

  it('an unchanged identity vouches for the content only if the file had aged RACY_MS before the read', () => {
    const readAt = 1_000_000;
    // Changed within RACY_MS of the read: a second write in the same clock tick would leave the
    // same identity, so the content is read again.
    expect(isStillValid({ id: id(readAt - 5), readAt }, id(readAt - 5))).toBe(false);
    expect(isStillValid({ id: id(readAt - RACY_MS), readAt }, id(readAt - RACY_MS))).toBe(false);
    expect(isStillValid({ id: id(readAt - 10, readAt - 5000), readAt }, id(readAt - 10, readAt - 5000))).toBe(
      false,
    );
    expect(isStillValid({ id: id(readAt - RACY_MS - 1), readAt }, id(readAt - RACY_MS - 1))).toBe(true);
    // Any field changed: read again.
    const old = id(readAt - 10_000);
    for (const field of ['dev', 'ino', 'size', 'mtimeNs', 'ctimeNs'] as const)
      expect(isStillValid({ id: old, readAt }, { ...old, [field]: old[field] + 1n })).toBe(false);
  });

  it('a file just written is read on every pass until it has aged, with the real clock', async () => {
    const cache = createFileCache();
    const file = join(work, 'fresh.json');
    writeFileSync(file, '"x"');
    const p = counted((t) => JSON.parse(t));
    cache.read(file, p.parse);
    cache.read(file, p.parse);
    expect(p.calls()).toBe(2);
  });
});

describe('records through the cache', () => {
  const id = 'a'.repeat(32);
  const record = (annotations: Record<string, string>) =>
    `${JSON.stringify({ id, name: 'web_main', createdAt: '2026-11-30T00:00:00Z', settings: {}, annotations })}\n`;

  it('a record rewritten atomically, made unreadable and removed is seen each time', async () => {
    const dir = join(work, 'containers');
    await mkdir(join(dir, id), { recursive: true });
    const file = join(dir, id, 'container.json');
    const cache = createFileCache({ now: later });
    await writeFile(file, record({ 'berth.dev/spec-hash': '1111' }));
    expect(readRecordsReport(dir, cache).records.map((r) => r.annotations)).toEqual([
      { 'berth.dev/spec-hash': '1111' },
    ]);
    const { mtime } = statSync(file);
    writeFileSync(`${file}.tmp`, record({ 'berth.dev/spec-hash': '2222' }));
    utimesSync(`${file}.tmp`, mtime, mtime);
    renameSync(`${file}.tmp`, file);
    expect(readRecordsReport(dir, cache).records.map((r) => r.annotations)).toEqual([
      { 'berth.dev/spec-hash': '2222' },
    ]);
    await writeFile(file, '{"id":');
    expect(readRecordsReport(dir, cache)).toEqual({
      records: [],
      bad: [{ id, path: file, reason: 'not JSON (Unexpected end of JSON input)' }],
    });
    await unlink(file);
    expect(readRecordsReport(dir, cache)).toEqual({ records: [], bad: [] });
  });
});

describe('sandboxes through the cache', () => {
  it("a pod's pod.json rewritten and its attachment added later are seen", async () => {
    const host = {
      pods: join(work, 'sb', 'pods'),
      netns: join(work, 'sb', 'netns'),
      volumes: '',
      attachments: join(work, 'sb', 'attachments'),
    };
    await mkdir(join(host.pods, 'web'), { recursive: true });
    const podJson = join(host.pods, 'web', 'pod.json');
    await writeFile(podJson, '{"source":"/m/a.yaml"}\n');
    utimesSync(podJson, T, T);
    const cache = createFileCache({ now: later });
    expect(Object.fromEntries(await observeSandboxes(host, cache))).toEqual({
      web: { netns: false, volumes: {}, source: '/m/a.yaml' },
    });
    writeFileSync(podJson, '{"source":"/m/b.yaml"}\n'); // in place, same size, same mtime
    utimesSync(podJson, T, T);
    await mkdir(host.attachments, { recursive: true });
    const attachment = {
      key: 'pod-web',
      owner: { kind: 'pod', name: 'web' },
      state: 'ready',
      netns: '/n',
      ports: [],
      ip: '10.88.0.2',
      names: ['web'],
    };
    await writeFile(join(host.attachments, 'pod-web.json'), JSON.stringify(attachment));
    expect(Object.fromEntries(await observeSandboxes(host, cache))).toEqual({
      web: {
        netns: false,
        volumes: {},
        source: '/m/b.yaml',
        network: { state: 'ready', ports: [], names: ['web'], aliases: [] },
      },
    });
    await writeFile(
      join(host.attachments, 'pod-web.json'),
      JSON.stringify({ ...attachment, state: 'adding' }),
    );
    expect((await observeSandboxes(host, cache)).get('web')?.network?.state).toBe('adding');
    await unlink(join(host.attachments, 'pod-web.json'));
    expect((await observeSandboxes(host, cache)).get('web')).toEqual({
      netns: false,
      volumes: {},
      source: '/m/b.yaml',
    });
  });
});

describe('runc state through the cache', () => {
  /** A process of our own standing in for a container's init: its pid and start time, and a way to end it. */
  async function initProcess() {
    const child = spawn('sleep', ['60'], { stdio: 'ignore' });
    await new Promise((res) => child.once('spawn', res));
    const pid = child.pid as number;
    const start = startTimeOf(readFileSync(`/proc/${pid}/stat`, 'utf8')) as number;
    const end = async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((res) => child.once('exit', res));
      child.kill('SIGKILL');
      await exited; // reaped: no zombie left
    };
    return { pid, start, end };
  }

  it('created, then running once exec.fifo goes, then stopped when the process ends; a new state.json is read', async () => {
    const runcRoot = join(work, 'runc');
    const id = 'b'.repeat(32);
    await mkdir(join(runcRoot, id), { recursive: true });
    const cache: StateCache = new Map();
    const first = await initProcess();
    try {
      await writeFile(
        join(runcRoot, id, 'state.json'),
        JSON.stringify({ init_process_pid: first.pid, init_process_start: first.start }),
      );
      await writeFile(join(runcRoot, id, 'exec.fifo'), '');
      expect(await readLiveState(runcRoot, id, cache)).toEqual({ state: 'created', pid: first.pid });
      await unlink(join(runcRoot, id, 'exec.fifo'));
      expect(await readLiveState(runcRoot, id, cache)).toEqual({ state: 'running', pid: first.pid });
      expect(await readLiveState(runcRoot, id, cache)).toEqual({ state: 'running', pid: first.pid });
      await first.end();
      expect(await readLiveState(runcRoot, id, cache)).toEqual({ state: 'stopped', pid: null });
    } finally {
      await first.end();
    }
    // Another init under the same id (state.json written again, a later mtime): created again.
    const second = await initProcess();
    try {
      const state = join(runcRoot, id, 'state.json');
      const before = statSync(state).mtime;
      await writeFile(
        state,
        JSON.stringify({ init_process_pid: second.pid, init_process_start: second.start }),
      );
      utimesSync(state, before, new Date(before.getTime() + 1000));
      await writeFile(join(runcRoot, id, 'exec.fifo'), '');
      expect(await readLiveState(runcRoot, id, cache)).toEqual({ state: 'created', pid: second.pid });
    } finally {
      await second.end();
    }
  });
});
