// A daemon parses the seccomp profile once per change of the file (a cache keyed on its identity)
// instead of on every create: what a container gets is the same as a fresh read gives, to the byte
// of its config.json's linux.seccomp; a replaced file is read again; errors are the uncached ones.
import { existsSync } from 'node:fs';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileCache } from '../../src/lib/file-cache.js';
import { loadSeccompProfile, SECCOMP_PROFILE_PATH } from '../../src/runtime/host.js';
import { toOciSeccomp } from '../../src/runtime/seccomp.js';

// Past the cache's racy window: a file written by the test is served from the cache at once.
const later = () => Date.now() + 10_000;

describe('the seccomp profile, cached by the daemon', () => {
  let dir: string;
  const profile = {
    defaultAction: 'SCMP_ACT_ERRNO',
    archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86'] }],
    syscalls: [
      { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
      { names: ['bpf'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
    ],
  };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-seccomp-cache-'));
    await writeFile(join(dir, 'seccomp.json'), JSON.stringify(profile));
    await writeFile(join(dir, 'broken.json'), '{ not json');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is parsed once while the file stays the same, and equals a fresh read', async () => {
    const cache = createFileCache({ now: later });
    const path = join(dir, 'seccomp.json');
    const first = await loadSeccompProfile(path, undefined, cache);
    const second = await loadSeccompProfile(path, undefined, cache);
    expect(second).toBe(first); // not parsed again
    expect(first).toEqual(await loadSeccompProfile(path));
  });

  it("gives containers the same filter, to the byte, as a fresh read of the host's profile", async () => {
    const cache = createFileCache({ now: later });
    const usual = existsSync(SECCOMP_PROFILE_PATH) ? SECCOMP_PROFILE_PATH : join(dir, 'seccomp.json');
    await loadSeccompProfile(undefined, usual, cache); // warm
    for (const caps of [
      ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      ['CAP_SYS_ADMIN', 'CAP_SYS_PTRACE'],
      [],
    ]) {
      const cached = await loadSeccompProfile(undefined, usual, cache);
      const fresh = await loadSeccompProfile(undefined, usual);
      expect(cached).toBeDefined();
      expect(JSON.stringify(toOciSeccomp(cached!, process.arch, caps), null, 2)).toBe(
        JSON.stringify(toOciSeccomp(fresh!, process.arch, caps), null, 2),
      );
    }
  });

  it('is read again once the file is replaced', async () => {
    const cache = createFileCache({ now: later });
    const path = join(dir, 'replaced.json');
    await writeFile(path, JSON.stringify(profile));
    expect(await loadSeccompProfile(path, undefined, cache)).toEqual(profile);
    const changed = { ...profile, defaultAction: 'SCMP_ACT_KILL_PROCESS' };
    await writeFile(join(dir, 'next.json'), JSON.stringify(changed));
    await rename(join(dir, 'next.json'), path);
    expect(await loadSeccompProfile(path, undefined, cache)).toEqual(changed);
  });

  it('fails as an uncached read does: missing, not JSON; missing default means the built-in filter', async () => {
    const cache = createFileCache({ now: later });
    expect(await loadSeccompProfile(undefined, join(dir, 'missing.json'), cache)).toBeUndefined();
    await expect(loadSeccompProfile(join(dir, 'missing.json'), undefined, cache)).rejects.toMatchObject({
      code: 'ERR_SECCOMP_PROFILE',
      kind: 'invalid',
      message: `cannot read seccomp profile ${join(dir, 'missing.json')}: ENOENT`,
    });
    await expect(loadSeccompProfile(undefined, join(dir, 'broken.json'), cache)).rejects.toMatchObject({
      code: 'ERR_SECCOMP_PROFILE',
      message: `seccomp profile ${join(dir, 'broken.json')} is not JSON`,
    });
  });
});
