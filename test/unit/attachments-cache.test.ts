// Attachment records listed through the daemon's file cache (the adapter lists them on every join
// and leave): a record replaced, rewritten in place within one clock tick, removed or broken is
// seen at once; one that is unchanged is served from the cache.
import { mkdtemp, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileCache, RACY_MS } from '../../src/lib/file-cache.js';
import {
  type Attachment,
  listAttachments,
  removeAttachment,
  writeAttachment,
} from '../../src/network/attachments.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-attachments-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const record = (name: string, ip: string): Attachment => ({
  key: `pod-${name}`,
  owner: { kind: 'pod', name },
  state: 'ready',
  netns: `/run/netns/pod-${name}`,
  ports: [],
  ip,
  names: [name],
});
const summary = (list: Attachment[]) => list.map((a) => `${a.key} ${a.ip}`);

describe('attachments listed through the file cache', () => {
  it('sees each replace and removal at once', async () => {
    const cache = createFileCache();
    await writeAttachment(dir, record('web', '10.88.0.2'));
    await writeAttachment(dir, record('api', '10.88.0.3'));
    expect(summary(await listAttachments(dir, cache))).toEqual(['pod-api 10.88.0.3', 'pod-web 10.88.0.2']);
    await writeAttachment(dir, record('web', '10.88.0.9')); // written aside, renamed over
    expect(summary(await listAttachments(dir, cache))).toEqual(['pod-api 10.88.0.3', 'pod-web 10.88.0.9']);
    await removeAttachment(dir, 'pod-api');
    expect(summary(await listAttachments(dir, cache))).toEqual(['pod-web 10.88.0.9']);
    await writeFile(join(dir, 'pod-web.json'), '{"key": "pod-web", "st'); // half written
    expect(summary(await listAttachments(dir, cache))).toEqual([]);
  });

  it('a same-size rewrite in place with its times put back is read again while racy', async () => {
    const cache = createFileCache();
    const file = join(dir, 'pod-web.json');
    await writeAttachment(dir, record('web', '10.88.0.2'));
    const before = await stat(file);
    expect(summary(await listAttachments(dir, cache))).toEqual(['pod-web 10.88.0.2']);
    await writeFile(file, `${JSON.stringify(record('web', '10.88.0.7'))}\n`);
    await utimes(file, before.atime, before.mtime);
    expect(summary(await listAttachments(dir, cache))).toEqual(['pod-web 10.88.0.7']);
  });

  it('an unchanged record that has aged is served from the cache', async () => {
    let now = Date.now();
    const cache = createFileCache({ now: () => now });
    const file = join(dir, 'pod-web.json');
    await writeAttachment(dir, record('web', '10.88.0.2'));
    now += RACY_MS + 1000; // the record has aged: the next read vouches for what it parses
    expect(summary(await listAttachments(dir, cache))).toEqual(['pod-web 10.88.0.2']);
    const first = (await listAttachments(dir, cache))[0];
    expect((await listAttachments(dir, cache))[0]).toBe(first); // the same parsed value
    await writeAttachment(dir, record('web', '10.88.0.5'));
    expect(summary(await listAttachments(dir, cache))).toEqual(['pod-web 10.88.0.5']);
    expect((await stat(file)).isFile()).toBe(true);
  });
});
