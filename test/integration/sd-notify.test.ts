// The notifier's order under a slow helper (a loaded host): plain updates coalesce, milestones
// (READY, STOPPING) go out with their own STATUS. Real datagrams to a listening socket, through the
// real systemd-notify, slowed by a wrapper that waits before it sends.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createNotifier } from '../../src/daemon/sd-notify.js';
import { type NotifyListener, startNotifyListener } from '../helpers/notify-listener.js';
import { missingPrereqs } from '../helpers/prereqs.js';

const skip = missingPrereqs(['systemd-notify', 'python3'], { root: true });

describe.skipIf(skip)('sd-notify under a slow helper', () => {
  let dir: string;
  let listener: NotifyListener | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-notify-'));
  });
  afterEach(async () => {
    listener?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('sends STOPPING=1 with its own STATUS, coalesces plain updates queued behind a send', async () => {
    listener = await startNotifyListener({ dir });
    const slow = join(dir, 'slow-notify');
    await writeFile(slow, '#!/bin/sh\nsleep 0.3\nexec systemd-notify "$@"\n');
    await chmod(slow, 0o755);
    const env: Record<string, string | undefined> = {
      NOTIFY_SOCKET: listener.socket,
      PATH: process.env.PATH,
    };
    const n = createNotifier({ env, pid: process.pid, command: slow });
    n?.notify({ STATUS: '1 pod running' }); // being sent while the rest are asked for
    n?.notify({ WATCHDOG: '1' });
    n?.notify({ STATUS: '2 pods running' });
    n?.notify({ STOPPING: '1', STATUS: 'stopping: finishing the steps under way' });
    n?.notify({ STATUS: 'stopped; containers keep running' });
    await n?.flush();
    await listener.waitFor((m) => m.fields.STATUS === 'stopped; containers keep running');
    expect(listener.messages.map((m) => m.fields)).toEqual([
      { MAINPID: String(process.pid), STATUS: '1 pod running' },
      { MAINPID: String(process.pid), WATCHDOG: '1', STATUS: '2 pods running' },
      { MAINPID: String(process.pid), STOPPING: '1', STATUS: 'stopping: finishing the steps under way' },
      { MAINPID: String(process.pid), STATUS: 'stopped; containers keep running' },
    ]);
  });
});
