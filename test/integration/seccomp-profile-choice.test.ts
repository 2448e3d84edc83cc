// Which seccomp profile a container gets (README, host config: `containers.seccompProfile`, a path or
// `builtin`, builtin being the default when containers-common's file is missing), against files in a
// temp dir standing in for /usr/share/containers/seccomp.json.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSeccompProfile } from '../../src/runtime/host.js';

describe('the seccomp profile a container gets', () => {
  let dir: string;
  const profile = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }],
  };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-seccomp-'));
    await writeFile(join(dir, 'seccomp.json'), JSON.stringify(profile));
    await writeFile(join(dir, 'broken.json'), '{ not json');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("unset: containers-common's file when it is there, berth's built-in filter when it is missing", async () => {
    expect(await loadSeccompProfile(undefined, join(dir, 'seccomp.json'))).toEqual(profile);
    expect(await loadSeccompProfile(undefined, join(dir, 'missing.json'))).toBeUndefined();
  });

  it('builtin: the built-in filter even when the file is there; a named file must exist and be JSON', async () => {
    expect(await loadSeccompProfile('builtin', join(dir, 'seccomp.json'))).toBeUndefined();
    expect(await loadSeccompProfile(join(dir, 'seccomp.json'), join(dir, 'missing.json'))).toEqual(profile);
    await expect(loadSeccompProfile(join(dir, 'missing.json'))).rejects.toMatchObject({
      code: 'ERR_SECCOMP_PROFILE',
      kind: 'invalid',
      message: `cannot read seccomp profile ${join(dir, 'missing.json')}: ENOENT`,
    });
    await expect(loadSeccompProfile(undefined, join(dir, 'broken.json'))).rejects.toMatchObject({
      code: 'ERR_SECCOMP_PROFILE',
      message: `seccomp profile ${join(dir, 'broken.json')} is not JSON`,
    });
  });
});
