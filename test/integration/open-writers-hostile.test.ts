// The writer check (open-writers.ts) reads from /proc where each process's descriptors point, on the
// daemon's thread. Two things a container's process can do there, without any privilege:
// - A descriptor's link names its file as seen from that process's own root: one that opens
//   `/etc/berth/manifests/web.yaml` for writing in its own root file system shows that same path on
//   the host. It must not hold the host's file (every edit of it waited WRITER_HOLD_MS, 60 s, and
//   `apply` said it held, for a writer that never writes it). The "container" here is what runc
//   makes of one: a process in a mount namespace of its own, pivoted into a root of its own (a tmpfs)
//   holding the same path.
// - Hold a million descriptors (a container's RLIMIT_NOFILE): read in one go, about 7 s of readlinks
//   on the daemon's thread, whatever a poll's budget. Each poll reads one batch at least and then
//   stops at its budget, inside a process too (a clock that moves 1 ms a look: one batch a poll).
import { type ChildProcess, spawn } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { mkdir, mkdtemp, realpath, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FileIdentity } from '../../src/lib/file-cache.js';
import { identityOf } from '../../src/lib/file-cache.js';
import { loadManifests } from '../../src/manifest/load.js';
import { createWriterScan, type WriterVerdict } from '../../src/manifest/open-writers.js';
import { FD_BATCH } from '../../src/manifest/proc-fds.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['unshare', 'pivot_root', 'busybox', 'python3'], { root: true });

const POD =
  'apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n    - name: main\n      image: busybox:1\n';

// $0: the new root (a tmpfs mounted in the new mount namespace only), $1: the path opened in it.
const IN_OWN_ROOT = [
  'mount -t tmpfs -o size=4m,mode=0755 berth-test "$0"',
  'mkdir -p "$0/bin" "$0/old" "$0$(dirname "$1")"',
  'cp "$(command -v busybox)" "$0/bin/busybox"',
  'cd "$0"',
  'pivot_root . old',
  'exec /bin/busybox sh -c \'/bin/busybox umount -l /old && exec 3>>"$0" && echo ready && exec /bin/busybox sleep 600\' "$1"',
].join(' && ');

// The same, then gone into a mount namespace of its own with its descriptor: that descriptor's mount
// is none its new mountinfo lists (the path was all the check went by then: it held the host's file).
const IN_OWN_ROOT_MOVED = IN_OWN_ROOT.replace(
  'exec 3>>"$0" && echo ready && exec /bin/busybox sleep 600',
  'exec 3>>"$0" && exec /bin/busybox unshare -m /bin/busybox sh -c "echo ready && exec /bin/busybox sleep 600"',
);

// $0: the file. As many descriptors as the hard limit allows (of /dev/null), then the file opened for
// appending, the highest of them; says how many it holds.
const MANY_DESCRIPTORS = `
import os, resource, sys, time
_soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
n = min(hard, 50000) - 64
resource.setrlimit(resource.RLIMIT_NOFILE, (n + 64, hard))
null = os.open('/dev/null', os.O_RDONLY)
held = [os.dup(null) for _ in range(n)]
f = open(sys.argv[1], 'a')
print(n, flush=True)
time.sleep(600)
`;

let work: string;
const started = new Set<ChildProcess>();

/**
 * A process with `file` open for appending: on the host, in a root of its own at that path, or
 * behind many descriptors; with the first line it said.
 */
async function startWriter(
  file: string,
  o: { ownRoot?: string; moved?: boolean; manyDescriptors?: boolean } = {},
): Promise<{ child: ChildProcess; said: string }> {
  const script = o.moved ? IN_OWN_ROOT_MOVED : IN_OWN_ROOT;
  const child = o.ownRoot
    ? spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, o.ownRoot, file], {
        stdio: ['ignore', 'pipe', 'inherit'],
      })
    : o.manyDescriptors
      ? spawn('python3', ['-c', MANY_DESCRIPTORS, file], { stdio: ['ignore', 'pipe', 'inherit'] })
      : spawn('sh', ['-c', 'exec 3>>"$0" && echo ready && exec sleep 600', file], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
  started.add(child);
  const said = await new Promise<string>((resolve, reject) => {
    child.stdout?.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
    child.once('exit', (code) => reject(new Error(`writer exited (${code}) before it was ready`)));
  });
  return { child, said };
}

/** Polls of `scan` as the daemon makes them (the file's identity read again each time) until a verdict. */
function pollUntilKnown(scan: ReturnType<typeof createWriterScan>, file: string): WriterVerdict[] {
  const verdicts: WriterVerdict[] = [];
  for (let i = 0; i < 1_000_000; i++) {
    const v = scan.poll([file])(file, identityOf(file) as FileIdentity);
    verdicts.push(v);
    if (v !== 'unknown') break;
  }
  return verdicts;
}

beforeAll(async () => {
  work = await realpath(await mkdtemp(join(tmpdir(), 'berth-writer-roots-')));
});

afterEach(async () => {
  for (const child of started) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill();
      await exited;
    }
  }
  started.clear();
});

afterAll(async () => {
  if (work) await removeTempRoot(work);
});

async function folderWith(name: string): Promise<{ dir: string; file: string }> {
  const dir = join(work, name);
  await mkdir(dir);
  const file = join(dir, 'web.yaml');
  await writeFile(file, POD);
  return { dir, file };
}

describe.skipIf(skip)('the writer check and hostile processes', () => {
  it("a container's process writing its own file of the manifest's path holds nothing: the host's file is taken at once", async () => {
    const { dir, file } = await folderWith('container');
    const root = join(work, 'container-root');
    await mkdir(root);
    const { child } = await startWriter(file, { ownRoot: root });
    // The kernel names its descriptor by the very path of the host's file.
    expect(readlinkSync(`/proc/${child.pid}/fd/3`)).toBe(file);
    const loaded = await loadManifests(dir, { now: (await stat(file)).mtimeMs + 10 });
    expect([loaded.settling.map((s) => s.file), loaded.docs.map((d) => d.doc.metadata.name)]).toEqual([
      [],
      ['web'],
    ]);
  });

  it("a container's process gone into a mount namespace of its own with its descriptor holds nothing either", async () => {
    const { dir, file } = await folderWith('moved');
    const root = join(work, 'moved-root');
    await mkdir(root);
    expect(IN_OWN_ROOT_MOVED).not.toBe(IN_OWN_ROOT);
    const { child } = await startWriter(file, { ownRoot: root, moved: true });
    expect(readlinkSync(`/proc/${child.pid}/fd/3`)).toBe(file);
    const loaded = await loadManifests(dir, { now: (await stat(file)).mtimeMs + 10 });
    expect([loaded.settling.map((s) => s.file), loaded.docs.map((d) => d.doc.metadata.name)]).toEqual([
      [],
      ['web'],
    ]);
  });

  it('a process on the host writing the file still holds it', async () => {
    const { dir, file } = await folderWith('host');
    await startWriter(file);
    const loaded = await loadManifests(dir, { now: (await stat(file)).mtimeMs + 10 });
    expect([loaded.settling.map((s) => s.file), loaded.docs]).toEqual([[file], []]);
  });

  it("a process holding thousands of descriptors is read a batch a poll: the daemon's budget holds inside one process", async () => {
    const { file } = await folderWith('many');
    const { said } = await startWriter(file, { manyDescriptors: true });
    const held = Number(said);
    expect(held).toBeGreaterThan(8 * FD_BATCH);
    let clock = 0;
    const verdicts = pollUntilKnown(createWriterScan({ budgetMs: 1, now: () => clock++ }), file);
    expect(verdicts.at(-1)).toBe('writing'); // its writer, the highest of its descriptors, found
    expect(verdicts.length).toBeGreaterThan(Math.floor(held / FD_BATCH));
  });
});
