// Whoever writes the manifests folder (a sync tool, a checkout, a sync container with CAP_MKNOD on
// a hostPath) may leave device nodes and FIFOs there, under any name. Opening a device node runs its
// driver's open, which acts before anything is read: /dev/watchdog's arms the host's watchdog (a
// close without its magic character, and the host reboots), a terminal's makes it the daemon's
// controlling terminal. A load must never open one, under a manifest's name or any other (a file
// berth does not read is still looked at, for a Kubernetes object a kubelet would run). What is
// opened is seen through inotify's IN_OPEN on the folder, which the kernel reports for every open of
// a file there, a device node's too, and for none made O_PATH (which runs no driver).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadManifests } from '../../src/manifest/load.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['python3', 'mknod', 'mkfifo'], { root: true });

const POD =
  'apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n    - name: main\n      image: busybox:1\n';

// Watches $1 for IN_OPEN; says "ready", then, at a line on stdin, the names opened since (JSON).
const WATCH_OPENS = `
import ctypes, json, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init1(0o4000)
if fd < 0 or libc.inotify_add_watch(fd, sys.argv[1].encode(), 0x20) < 0:
    sys.exit('inotify: errno %d' % ctypes.get_errno())
print('ready', flush=True)
sys.stdin.readline()
names = []
while True:
    try:
        buf = os.read(fd, 65536)
    except BlockingIOError:
        break
    i = 0
    while i < len(buf):
        _wd, _mask, _cookie, n = struct.unpack_from('iIII', buf, i)
        names.append(buf[i + 16:i + 16 + n].rstrip(b'\\0').decode())
        i += 16 + n
print(json.dumps(names), flush=True)
`;

/** Every name of `dir` opened while `work` ran. */
async function opensDuring(dir: string, work: () => Promise<unknown>): Promise<string[]> {
  const watcher: ChildProcess = spawn('python3', ['-c', WATCH_OPENS, dir], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  let wake: (() => void) | undefined;
  watcher.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    lines.push(...chunk.split('\n').filter(Boolean));
    wake?.();
  });
  const line = async (n: number) => {
    while (lines.length < n) await new Promise<void>((r) => (wake = r));
    return lines[n - 1] as string;
  };
  expect(await line(1)).toBe('ready');
  await work();
  watcher.stdin?.write('report\n');
  return JSON.parse(await line(2)) as string[];
}

let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'berth-folder-devices-'));
});

afterAll(async () => {
  if (work) await removeTempRoot(work);
});

describe.skipIf(skip)('device nodes and FIFOs in the manifests folder', () => {
  it('are never opened, under a manifest name, behind a link, or under a name berth does not read', async () => {
    const dir = join(work, 'folder');
    await mkdir(dir);
    await writeFile(join(dir, 'web.yaml'), POD);
    // /dev/null's numbers: harmless to open, but a device node all the same.
    for (const name of ['watchdog', 'tty.yaml']) execFileSync('mknod', [join(dir, name), 'c', '1', '3']);
    for (const name of ['README', 'fifo.yaml']) execFileSync('mkfifo', [join(dir, name)]);
    await symlink('watchdog', join(dir, 'linked.yaml'));
    let loaded: Awaited<ReturnType<typeof loadManifests>> | undefined;
    const opened = await opensDuring(dir, async () => {
      loaded = await loadManifests(dir);
    });
    // '' is the folder itself, listed.
    expect(opened.filter((n) => n !== 'web.yaml' && n !== '')).toEqual([]);
    expect(opened).toContain('web.yaml'); // the watch sees what is opened
    expect(loaded?.docs.map((d) => d.doc.metadata.name)).toEqual(['web']);
    const refused = (loaded?.diagnostics ?? [])
      .filter((d) => d.code === 'ERR_MANIFEST_UNREADABLE')
      .map((d) => `${d.file.slice(dir.length + 1)}: ${d.message}`)
      .sort();
    expect(refused).toEqual([
      'fifo.yaml: cannot read: not a regular file',
      'linked.yaml: cannot read: not a regular file',
      'tty.yaml: cannot read: not a regular file',
    ]);
  });
});
