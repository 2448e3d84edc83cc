// SIGTERM while the daemon pulls: the pull is parked, not failed. The daemon leaves at once with 0,
// the bytes fetched so far stay in ingest/ as a parked partial, no failure (and so no back-off) is
// recorded and no PullFailed event; the next daemon resumes the download where it stopped.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runBerth, testEnv, withTestConfig } from '../helpers/cli.js';
import {
  type HostileRegistry,
  putSimpleImage,
  rangeStart,
  sha256,
  stallBody,
  startHostileRegistry,
} from '../helpers/hostile-registry.js';
import { startNotifyListener } from '../helpers/notify-listener.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['tar', 'python3', 'systemd-notify', 'ss'], { root: true });

describe.skipIf(skip)('daemon stop during a pull', () => {
  let work: string;
  let reg: HostileRegistry;
  let daemon: ChildProcess | undefined;
  let listener: Awaited<ReturnType<typeof startNotifyListener>> | undefined;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-daemon-stop-'));
    reg = await startHostileRegistry();
  });
  afterAll(async () => {
    if (daemon?.exitCode === null) {
      const exited = new Promise((r) => daemon?.once('exit', r));
      daemon.kill('SIGKILL');
      await exited;
    }
    listener?.close(); // a failed test's too: its process kept the test run from ending
    await reg?.close();
    await removeTempRoot(work);
  });
  const until = async (what: string, probe: () => boolean | Promise<boolean>, ms = 30_000) => {
    for (const end = Date.now() + ms; Date.now() < end; ) {
      if (await probe()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`never: ${what}`);
  };

  it('parks the download, records no failure, and the next daemon resumes it', async () => {
    const src = join(work, 'src');
    await mkdir(src);
    await writeFile(join(src, 'data.bin'), randomBytes(2 * 2 ** 20)); // incompressible: 2 MiB on the wire
    const gz = execFileSync('tar', ['-cz', '-C', src, 'data.bin'], { maxBuffer: 64 * 2 ** 20 });
    const image = putSimpleImage(reg, 'edge/app', '1', gz, sha256(gunzipSync(gz)));
    const sent = 1.5 * 2 ** 20; // past the writer's 1 MiB flush, so its first bytes are on disk
    reg.on(`/blobs/${image.layer.digest}`, stallBody(gz, sent, 1));
    const [root, state, manifests] = ['root', 'state', 'manifests'].map((d) => join(work, d)) as [
      string,
      string,
      string,
    ];
    await mkdir(manifests);
    const ref = `${reg.host}/edge/app:1`;
    await writeFile(
      join(manifests, 'app.yaml'),
      `apiVersion: berth.dev/v1alpha1\nkind: Image\nmetadata: {name: app}\nspec: {ref: "${ref}"}\n`,
    );
    const notify = await startNotifyListener({ dir: work });
    listener = notify;
    const start = () => {
      daemon = spawn(
        process.execPath,
        [CLI, ...withTestConfig(['--root', root, '--state', state, 'daemon', '--manifests', manifests])],
        {
          env: testEnv({ NOTIFY_SOCKET: notify.socket, WATCHDOG_USEC: '200000' }),
          stdio: 'ignore',
        },
      );
      return daemon;
    };
    const partial = join(root, 'ingest', `sha256-${image.layer.digest.slice(7)}.partial`);
    const ingestBytes = () =>
      existsSync(join(root, 'ingest'))
        ? readdirSync(join(root, 'ingest'))
            .filter((f) => f.startsWith(`sha256-${image.layer.digest.slice(7)}`))
            .reduce((n, f) => n + statSync(join(root, 'ingest', f)).size, 0)
        : 0;
    const first = start();
    await until('the stalled download has its first bytes', () => ingestBytes() >= 2 ** 20).catch((e) => {
      throw new Error(
        `${e.message}: ${JSON.stringify(reg.requests.map((r) => r.path))} ${existsSync(join(root, 'ingest')) ? readdirSync(join(root, 'ingest')).map((f) => `${f}=${statSync(join(root, 'ingest', f)).size}`) : 'no ingest'}`,
      );
    });
    // Converging (the pull is under way): not ready, and each ping extends the start timeout.
    const extend = await notify.waitFor((m) => m.fields.EXTEND_TIMEOUT_USEC !== undefined);
    expect(extend).toEqual({
      pid: first.pid,
      fields: { MAINPID: String(first.pid), WATCHDOG: '1', EXTEND_TIMEOUT_USEC: '90000000' },
    });
    expect(notify.messages.filter((m) => m.fields.READY !== undefined)).toEqual([]);
    // Every byte sent read by the daemon: nothing left in either socket's queue (`ss`), so what it
    // parks is what it was given.
    const port = reg.host.split(':')[1] as string;
    await until('the sent bytes are read by the daemon', () => {
      const filter = ['sport', '=', `:${port}`, 'or', 'dport', '=', `:${port}`];
      const rows = execFileSync('ss', ['-Htn', ...filter])
        .toString()
        .split('\n')
        .filter(Boolean)
        .map((l) => l.trim().split(/\s+/));
      return rows.length > 0 && rows.every((r) => r[1] === '0' && r[2] === '0');
    });
    const exit = new Promise<[number | null, string | null]>((r) => first.once('exit', (c, s) => r([c, s])));
    first.kill('SIGTERM');
    expect(await exit).toEqual([0, null]);
    expect(statSync(partial).size).toBe(sent); // parked under its digest, every byte fetched kept
    const status = JSON.parse(readFileSync(join(state, 'reconcile.json'), 'utf8'));
    expect(status.failures).toEqual({});
    const events = await runBerth([
      '--root',
      root,
      '--state',
      state,
      'events',
      '--until',
      '0s',
      '--filter',
      'type=image',
    ]);
    expect(events.stdout).toBe('');

    start();
    await until('pulled by the next daemon', async () => {
      const e = await runBerth([
        '--root',
        root,
        '--state',
        state,
        'events',
        '--until',
        '0s',
        '--filter',
        'type=image',
      ]);
      return e.stdout.includes(' Pulled ');
    });
    const blobRequests = reg.requestsTo(`/blobs/${image.layer.digest}`).filter((r) => r.method === 'GET');
    expect(blobRequests.map((r) => rangeStart({ headers: r.headers } as never))).toEqual([0, sent]);
    await notify.waitFor((m) => m.fields.READY === '1');
    notify.close();
    const second = daemon as ChildProcess;
    const exit2 = new Promise((r) => second.once('exit', r));
    second.kill('SIGTERM');
    await exit2;
  }, 90_000);
});
