// The writer check (open-writers.ts) on a busy host: /proc is read on the daemon's thread, a poll's
// budget at a time, so a pass over 2000 processes takes many polls. A file is taken only once a whole
// pass found no writer: a writer behind every other process, one started while the pass looked, and
// one looked at before it opened the file are all found before the file is applied. How fast a pass
// is: scripts/bench/open-writers.mjs.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FileIdentity, identityOf } from '../../src/lib/file-cache.js';
import { loadManifests } from '../../src/manifest/load.js';
import { createWriterScan, type WriterVerdict } from '../../src/manifest/open-writers.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const SLEEPERS = 2000;
let work: string;
let sleepers: number[] = [];
/** Started before the sleepers: the oldest of them, looked at last. */
let oldWriter: ChildProcess;
let oldFile: string;
const started = new Set<ChildProcess>();

const pod = (name: string) =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\nspec:\n  containers:\n    - name: main\n      image: busybox:1\n`;

/**
 * A process that opens `file` for appending (and writes `write` to it), then sleeps; with `wait`, only
 * once told to (`go`). Ready once the file is open.
 */
function startWriter(file: string, o: { wait?: boolean; write?: string } = {}) {
  const script = `${o.wait ? 'read -r _; ' : ''}exec 3>>"$0"; printf %s "$1" >&3; echo ready; exec sleep 600`;
  const child = spawn('bash', ['-c', script, file, o.write ?? ''], { stdio: ['pipe', 'pipe', 'ignore'] });
  started.add(child);
  const ready = new Promise((r) => child.stdout?.once('data', r));
  return { child, ready, go: () => child.stdin?.write('go\n') };
}

async function endWriter(child: ChildProcess): Promise<void> {
  started.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill();
  await exited;
}

async function folderWith(name: string, text: string): Promise<{ dir: string; file: string }> {
  const dir = join(work, name);
  await mkdir(dir);
  const file = join(dir, 'pod.yaml');
  await writeFile(file, text);
  return { dir, file };
}

/** Polls of `scan` as the daemon makes them (the file's identity read again each time) until a verdict. */
async function pollUntilKnown(
  scan: ReturnType<typeof createWriterScan>,
  file: string,
  between: (i: number) => Promise<unknown> = async () => undefined,
): Promise<WriterVerdict[]> {
  const verdicts: WriterVerdict[] = [];
  for (let i = 0; i < 100_000; i++) {
    await between(i);
    const v = scan.poll([file])(file, identityOf(file) as FileIdentity);
    verdicts.push(v);
    if (v !== 'unknown') break;
  }
  return verdicts;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'berth-writers-'));
  ({ file: oldFile } = await folderWith('old', pod('web')));
  const old = startWriter(oldFile);
  oldWriter = old.child;
  await old.ready;
  // 2000 processes with 10 descriptors each (read-only: none is a writer), all newer than the writer.
  const out = execFileSync(
    'bash',
    [
      '-c',
      `for i in $(seq ${SLEEPERS}); do sleep 600 >/dev/null 2>&1 </dev/null 3</etc/hosts 4</etc/hosts 5</etc/passwd 6</etc/passwd 7</etc/group 8</etc/group 9</etc/hostname & echo $!; done`,
    ],
    { encoding: 'utf8' },
  );
  sleepers = out.trim().split('\n').map(Number);
}, 120_000);

afterEach(async () => {
  for (const child of started) if (child !== oldWriter) await endWriter(child);
});

afterAll(async () => {
  for (const pid of sleepers) {
    try {
      process.kill(pid);
    } catch {
      // gone
    }
  }
  if (started.has(oldWriter)) await endWriter(oldWriter);
  await removeTempRoot(work);
});

describe('the writer check on a host of 2000 processes', () => {
  it('a writer older than every other process holds its file in a load that reads /proc at once (apply, plan)', async () => {
    const loaded = await loadManifests(join(work, 'old'), { now: (await stat(oldFile)).mtimeMs + 10 });
    expect([loaded.settling.map((s) => s.file), loaded.docs]).toEqual([[oldFile], []]);
  });

  it("the daemon's polls: a writer the first poll cannot reach is found before the file is applied, and once it is gone a whole pass clears the file", async () => {
    const scan = createWriterScan({ budgetMs: 1 });
    const verdicts = await pollUntilKnown(scan, oldFile);
    expect(verdicts[0]).toBe('unknown'); // the first poll looked at the newer processes only
    expect(verdicts.at(-1)).toBe('writing');
    // The loads of a daemon keeping that scan: held while the writer has it open...
    const dir = join(work, 'old');
    const now = (await stat(oldFile)).mtimeMs + 10;
    for (let i = 0; i < 5; i++) {
      const held = await loadManifests(dir, { now, writers: scan });
      expect([held.settling.map((s) => s.file), held.docs]).toEqual([[oldFile], []]);
    }
    // ...and taken once it is gone, after a whole pass (many polls) found no other.
    await endWriter(oldWriter);
    let loads = 0;
    for (; loads < 100_000; loads++) {
      const loaded = await loadManifests(dir, { now, writers: scan });
      if (loaded.settling.length === 0) {
        expect(loaded.docs.map((d) => d.doc.metadata.name)).toEqual(['web']);
        break;
      }
    }
    expect(loads).toBeGreaterThan(1);
  }, 120_000);

  it('a process started while a pass looks, which opens the file, is found: the pass looks at those started meanwhile too', async () => {
    const { file } = await folderWith('born', pod('web'));
    const scan = createWriterScan({ budgetMs: 1 });
    // After the first poll: the pass is under way, its list taken without this writer.
    const verdicts = await pollUntilKnown(
      scan,
      file,
      async (i) => i === 1 && (await startWriter(file).ready),
    );
    expect(verdicts[0]).toBe('unknown');
    expect(verdicts.at(-1)).toBe('writing');
  }, 60_000);

  it('a process looked at before it opened the file and wrote to it is found: the pass that missed it does not clear the file', async () => {
    const { file } = await folderWith('late', pod('web'));
    // The newest process: looked at by the first poll, before it opens the file.
    const writer = startWriter(file, { wait: true, write: '# more\n' });
    const scan = createWriterScan({ budgetMs: 1 });
    const verdicts = await pollUntilKnown(scan, file, async (i) => {
      if (i !== 1) return;
      writer.go();
      await writer.ready; // open, and written to
    });
    expect(verdicts[0]).toBe('unknown');
    expect(verdicts.at(-1)).toBe('writing');
  }, 60_000);
});
