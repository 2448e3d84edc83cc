// A container's own network namespace (runtime/netns.ts), made either way berth makes it: forked
// (`unshare --net=PATH ip link set lo up`) or by the spawn helper itself, with no process. Both give
// the same: a file bind-mounted onto a namespace that is not berth's, holding only lo, up; the
// helper's threads all back in its own namespace after; removal leaves neither mount nor file; a
// failure leaves neither either.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createNetns, moveNetns, removeNetns } from '../../src/runtime/netns.js';
import { isMountPoint } from '../../src/runtime/rootfs.js';
import { SpawnHelper } from '../../src/runtime/spawn-helper.js';
import { runTool, useSpawnHelper } from '../../src/runtime/tool.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { helperWithoutTools, spawnMode } from '../helpers/spawn-helper-mode.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['unshare', 'ip', 'nsenter', 'python3', 'umount'], { root: true });
const ownNetns = () => readlinkSync('/proc/self/ns/net');

/** The links of the namespace at `path`, as `ip -o link` names them with their flags. */
const linksIn = (path: string) =>
  execFileSync('nsenter', [`--net=${path}`, 'ip', '-o', 'link', 'show'], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => l.split(' ').slice(1, 3).join(' '));

describe.skipIf(skip)('a network namespace of its own', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-netns-'));
  let n = 0;
  const fresh = () => join(dir, 'netns', `c${++n}-${process.pid}`);
  afterAll(() => removeTempRoot(dir));

  for (const viaHelper of [false, true]) {
    describe(viaHelper ? 'by the spawn helper' : 'forked', () => {
      const mode = spawnMode(viaHelper);
      afterAll(() => mode.stop());

      it('is a bind-mounted namespace with only lo, up; removed, neither mount nor file is left', async () => {
        const helperPid = mode.use();
        const path = fresh();
        await createNetns(path);
        expect(await isMountPoint(path)).toBe(true);
        expect(linksIn(path)).toEqual(['lo: <LOOPBACK,UP,LOWER_UP>']);
        const made = execFileSync('nsenter', [`--net=${path}`, 'readlink', '/proc/self/ns/net'], {
          encoding: 'utf8',
        }).trim();
        expect(made).not.toBe(ownNetns());
        expect(statSync(path).ino).toBe(Number(/\[(\d+)\]/.exec(made)?.[1]));
        if (viaHelper) {
          // Every thread of the helper is home again, and what it starts next runs in berth's namespace.
          const threads = readdirSync(`/proc/${helperPid}/task`);
          for (const t of threads)
            expect(readlinkSync(`/proc/${helperPid}/task/${t}/ns/net`)).toBe(ownNetns());
          expect((await runTool('readlink', ['/proc/self/ns/net'], 'its namespace')).stdout.trim()).toBe(
            ownNetns(),
          );
        }
        await removeNetns(path);
        expect(await isMountPoint(path)).toBe(false);
        expect(() => statSync(path)).toThrow();
      });

      it('moved to another path (a spare given to its holder): the same namespace there, nothing left at the first', async () => {
        mode.use();
        const [from, to] = [fresh(), fresh()];
        await createNetns(from);
        const ino = statSync(from).ino;
        await moveNetns(from, to);
        expect([await isMountPoint(to), statSync(to).ino]).toEqual([true, ino]);
        expect(linksIn(to)).toEqual(['lo: <LOOPBACK,UP,LOWER_UP>']);
        expect(() => statSync(from)).toThrow();
        // Moved again onto a path that exists: refused, the namespace still where it was.
        const taken = fresh();
        await createNetns(taken);
        await expect(moveNetns(to, taken)).rejects.toMatchObject({
          code: 'ERR_NETNS',
          message: expect.stringContaining(`moving netns ${to} to ${taken}: EEXIST`),
        });
        expect([statSync(to).ino, await isMountPoint(taken)]).toEqual([ino, true]);
        // From a path with no namespace: refused, nothing made at the target.
        const nowhere = fresh();
        await expect(moveNetns(join(dir, 'none'), nowhere)).rejects.toMatchObject({ code: 'ERR_NETNS' });
        expect(() => statSync(nowhere)).toThrow();
        await removeNetns(to);
        await removeNetns(taken);
      });
    });
  }

  describe('by the spawn helper', () => {
    const helpers: SpawnHelper[] = [];
    afterEach(async () => {
      useSpawnHelper(undefined);
      for (const h of helpers.splice(0)) await h.stop();
    });

    it('starts no process: a helper whose PATH has no unshare or ip makes it', async () => {
      const h = helperWithoutTools(dir);
      helpers.push(h);
      useSpawnHelper(h);
      const path = fresh();
      await createNetns(path);
      expect(linksIn(path)).toEqual(['lo: <LOOPBACK,UP,LOWER_UP>']);
      useSpawnHelper(undefined);
      await removeNetns(path);
    });

    it('names the step and errno the kernel refused', async () => {
      const h = new SpawnHelper();
      helpers.push(h);
      const path = join(dir, 'no-such-dir', 'x');
      await expect(h.makeNetns(path)).rejects.toMatchObject({
        errno: 2,
        message: 'bind mount: No such file or directory', // the caller's message names the path
      });
      // Still serving, from its own namespace.
      const r = await h.run({ argv: ['readlink', '/proc/self/ns/net'], timeoutMs: 5000 });
      expect(r.stdout.trim()).toBe(ownNetns());
    });

    it('a failed create is an ERR_NETNS naming the file, leaving neither file nor mount', async () => {
      // A helper that cannot run (its "python" exits at once): the request fails.
      const h = new SpawnHelper('/bin/false');
      helpers.push(h);
      useSpawnHelper(h);
      const path = fresh();
      await expect(createNetns(path)).rejects.toMatchObject({
        code: 'ERR_NETNS',
        message: expect.stringContaining(`creating netns ${path}`),
      });
      expect(await isMountPoint(path)).toBe(false);
      expect(() => statSync(path)).toThrow();
    });

    it('removed while the helper is gone (killed mid-request), umount is forked from here: nothing is left', async () => {
      useSpawnHelper(undefined);
      const path = fresh();
      await createNetns(path);
      const h = new SpawnHelper();
      helpers.push(h);
      await h.stop(); // every request now fails with ERR_SPAWN_HELPER, as after a SIGKILL
      useSpawnHelper(h);
      await removeNetns(path);
      useSpawnHelper(undefined);
      expect(await isMountPoint(path)).toBe(false);
      expect(() => statSync(path)).toThrow();
    });
  });
});
