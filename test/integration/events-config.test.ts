// The host config's `events.maxBytes` reaches the event ring every command opens (cli/context.ts):
// events-ring.test.ts bounds the ring given the option itself; here the ring a command's context
// opens from a config file keeps at most that many bytes of events, where the default (4 MiB) would
// have kept them all.
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openContext } from '../../src/cli/context.js';
import { eventRingDir } from '../../src/events/ring.js';
import { missingPrereqs } from '../helpers/prereqs.js';

const skip = missingPrereqs([], { root: true }); // --root is made root's, as by every command

describe.skipIf(skip)('events.maxBytes from the host config', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-events-config-'));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it("bounds the ring a command's context opens", async () => {
    const config = join(work, 'config.yaml');
    await writeFile(config, 'events: {maxBytes: 65536}\n');
    const root = join(work, 'root');
    const opened = openContext(
      {
        stdout: process.stdout,
        stderr: process.stderr,
        env: {},
        now: () => new Date('2026-12-01T00:00:00Z'),
      },
      { root, state: join(work, 'state'), config, output: 'table', help: false, version: false },
      new AbortController().signal,
    );
    try {
      const ring = await opened.ctx.events();
      const message = 'x'.repeat(200);
      for (let i = 0; i < 1000; i++)
        ring.emit({ type: 'daemon', object: 'berth', reason: 'Tested', message });
      expect([ring.emitted(), ring.dropped()]).toEqual([1000, 0]);
    } finally {
      await opened.close();
    }
    const size = async (name: string) =>
      (await stat(join(eventRingDir(root), name)).catch(() => ({ size: 0 }))).size; // previous: once it turned
    const kept = (await size('current.ndjson')) + (await size('previous.ndjson'));
    // 1000 lines of some 300 bytes: all of them under the default bound, at most 64 KiB under this one.
    expect(kept).toBeGreaterThan(32_768);
    expect(kept).toBeLessThanOrEqual(65_536);
  });
});
