// What a reboot or a power cut leaves on disk, read back on a real file system in a temp dir:
// container state from conmon's exit files (the one under --state gone, the copy under --root
// kept, either one truncated) and pods' sandboxes (a netns file that is not a namespace, a record
// that cannot be read). A damaged file is never taken for a clean exit, nor for a pod's owner.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { observeSandboxes } from '../../src/reconcile/pods.js';
import { containerStatus, type RuntimeDeps } from '../../src/runtime/containers.js';
import { containerPaths, runtimePaths } from '../../src/runtime/paths.js';
import type { ContainerRecord } from '../../src/runtime/record.js';
import { removeTempRoot } from '../helpers/temp-root.js';

describe('state after a reboot, read from files', () => {
  let work: string;
  let deps: RuntimeDeps;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-recovery-state-'));
    const paths = runtimePaths(join(work, 'root'), join(work, 'state'));
    // containerStatus reads files only: runc's state.json under its root, conmon's files.
    deps = { paths, runc: { root: paths.runcRoot } } as unknown as RuntimeDeps;
  });
  afterAll(async () => {
    await removeTempRoot(work);
  });

  const record = (id: string): ContainerRecord =>
    ({
      id,
      name: `c-${id.slice(0, 4)}`,
      image: 'img',
      createdAt: '2026-11-30T00:00:00Z',
      startedAt: '2026-11-30T00:00:01Z',
    }) as ContainerRecord;

  it('an exit under --root survives the loss of --state; a missing, empty or garbled one is no exit at all', async () => {
    const cases: Array<[string, string | undefined, string | undefined, unknown]> = [
      // [what, exit under --state, persist/exit under --root, expected]
      ['kept under --root', undefined, '3', { state: 'exited', exitCode: 3, reason: null }],
      ['both there', '0', '0', { state: 'exited', exitCode: 0, reason: null }],
      [
        'never written (it ran when the host went down)',
        undefined,
        undefined,
        { state: 'exited', exitCode: null, reason: 'lost' },
      ],
      [
        'truncated to nothing by the power cut',
        undefined,
        '',
        { state: 'exited', exitCode: null, reason: 'lost' },
      ],
      [
        'an empty file under --state, the copy under --root whole',
        '',
        '137',
        { state: 'exited', exitCode: 137, reason: null },
      ],
      ['garbage', undefined, 'x1\n', { state: 'exited', exitCode: null, reason: 'lost' }],
    ];
    for (const [n, [what, stateExit, persistExit, want]] of cases.entries()) {
      const id = n.toString(16).padStart(32, 'a');
      const p = containerPaths(deps.paths, id);
      await mkdir(p.persist, { recursive: true });
      await mkdir(deps.paths.exits, { recursive: true });
      if (stateExit !== undefined) await writeFile(p.exitFile, stateExit);
      if (persistExit !== undefined) await writeFile(join(p.persist, 'exit'), persistExit);
      await writeFile(p.conmonPidFile, String(process.pid)); // a reused pid, not a conmon
      const s = await containerStatus(deps, record(id));
      expect([what, { state: s.state, exitCode: s.exitCode, reason: s.reason }]).toEqual([what, want]);
      expect(s.pid).toBe(null);
    }
  });

  it('sandboxes: a netns file is not a namespace, tmpfs dirs not mounted; an unreadable record has no owner', async () => {
    const host = { pods: join(work, 'root', 'pods'), netns: join(work, 'state', 'netns'), volumes: '' };
    await mkdir(host.netns, { recursive: true });
    await writeFile(join(host.netns, 'pod-web'), ''); // left behind: the namespace went with the reboot
    await mkdir(join(host.pods, 'web', 'volumes', 'mem'), { recursive: true });
    await writeFile(join(host.pods, 'web', 'pod.json'), '{"source":"/m/web.yaml"}\n');
    await mkdir(join(host.pods, 'torn'), { recursive: true });
    await writeFile(join(host.pods, 'torn', 'pod.json'), '{"sour');
    await mkdir(join(host.pods, 'odd'), { recursive: true });
    await writeFile(join(host.pods, 'odd', 'pod.json'), '{"source": ["/etc"]}');
    expect(Object.fromEntries(await observeSandboxes(host))).toEqual({
      web: {
        netns: false,
        volumes: { [join(host.pods, 'web', 'volumes', 'mem')]: false },
        source: '/m/web.yaml',
      },
      torn: { netns: false, volumes: {} },
      odd: { netns: false, volumes: {} },
    });
  });
});
