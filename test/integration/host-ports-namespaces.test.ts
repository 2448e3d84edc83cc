// Host-wide port claims (network/host-ports.ts) between two roots that do not see each other's
// --state: root a claims from a mount namespace of its own (`unshare -m`, its --state on a tmpfs
// mounted only there, as a berth in a service with a private /tmp has it), root b from this one.
// b cannot see a's record, yet a's claim holds while a's namespace lives and its record is there;
// once the record is gone there, or the namespace is gone with its last process, the claim is dead.
// Root a's side runs berth's own code (the claim and record writers, bundled with esbuild).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readlinkSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mountNamespaceViews } from '../../src/lib/mount-namespaces.js';
import { networkDirs, writeAttachment } from '../../src/network/attachments.js';
import { claimPorts, hostPortsDirOf, otherRootsPorts, type PortClaim } from '../../src/network/host-ports.js';
import type { PortMapping } from '../../src/network/ports.js';
import { createLocalUser } from '../helpers/local-user.js';
import { until } from '../helpers/poll.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['unshare', 'mount'], { root: true });
const repo = fileURLToPath(new URL('../..', import.meta.url));
/** The shell and whatever it runs meanwhile, all of them (its own process group): the namespace's last processes. */
const killGroup = (p: ReturnType<typeof spawn>) => {
  try {
    process.kill(-(p.pid as number), 'SIGKILL');
  } catch {
    // gone already
  }
};
const tcp = (hostPort: number): PortMapping => ({ hostPort, containerPort: 80, protocol: 'tcp', hostIP: '' });

describe.skipIf(skip)('host-wide port claims across mount namespaces', () => {
  let work: string;
  let lockDir: string;
  const started: Array<ReturnType<typeof spawn>> = [];
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-host-ports-ns-'));
    lockDir = join(work, 'run');
  });
  afterEach(async () => {
    for (const p of started.splice(0)) killGroup(p);
    await removeTempRoot(work);
  });

  const claimOf = (root: string, pod: string, ports: PortMapping[]): PortClaim => {
    const key = `pod-${pod}`;
    return {
      state: join(work, root),
      network: 'net',
      key,
      cniId: `berth-x-${key}`,
      owner: { kind: 'pod', name: pod },
      ports,
    };
  };
  const recordIn = async (c: PortClaim) =>
    writeAttachment(networkDirs(c.state, c.network).attachments, {
      key: c.key,
      owner: c.owner,
      state: 'adding',
      netns: '',
      ports: c.ports,
      names: [c.owner.name],
    });

  /**
   * Root a in a mount namespace of its own: its --state a tmpfs only there, its holder's record
   * written and its ports claimed by berth's code run there; the namespace lives on (a shell that
   * removes the record when `drop` appears, and waits) until the test kills it.
   */
  const claimInOwnNamespace = async (c: PortClaim) => {
    const script = join(work, 'claim.mjs');
    const entry = join(work, 'claim-entry.ts');
    await writeFile(
      entry,
      `import { networkDirs, writeAttachment } from '${repo}/src/network/attachments.ts';\n` +
        `import { claimPorts } from '${repo}/src/network/host-ports.ts';\n` +
        'const { lockDir, claim } = JSON.parse(process.env.CLAIM);\n' +
        'await writeAttachment(networkDirs(claim.state, claim.network).attachments, { key: claim.key, owner: claim.owner,\n' +
        "  state: 'adding', netns: '', ports: claim.ports, names: [claim.owner.name] });\n" +
        'const out = await claimPorts(lockDir, claim);\n' +
        'if (out.conflict) process.exit(3);\n',
    );
    execFileSync(join(repo, 'node_modules/.bin/esbuild'), [
      entry,
      '--bundle',
      '--platform=node',
      '--format=esm',
      `--outfile=${script}`,
      '--log-level=error',
    ]);
    await mkdir(c.state, { recursive: true });
    const record = join(networkDirs(c.state, c.network).attachments, `${c.key}.json`);
    const [ready, drop] = [join(work, 'ready'), join(work, 'drop')];
    const ns = spawn(
      'unshare',
      [
        '-m',
        '--propagation',
        'private',
        'sh',
        '-c',
        `mount -t tmpfs tmpfs ${c.state} && ${process.execPath} ${script} && touch ${ready} && ` +
          `while [ ! -e ${drop} ]; do sleep 0.1; done; rm ${record}; exec sleep 600`,
      ],
      {
        stdio: 'ignore',
        detached: true,
        env: { ...process.env, CLAIM: JSON.stringify({ lockDir, claim: c }) },
      },
    );
    started.push(ns);
    await until('root a claimed in its own namespace', () => existsSync(ready));
    return { ns, dropRecord: () => writeFile(drop, '') };
  };

  it("a claim whose record only its own mount namespace sees holds there; it goes with the record, or with the namespace's last process", async () => {
    const a = claimOf('a', 'web', [tcp(8080)]);
    const { ns } = await claimInOwnNamespace(a);
    expect(existsSync(networkDirs(a.state, a.network).attachments)).toBe(false); // not seen from here
    const b = claimOf('b', 'web', [tcp(8080)]);
    await recordIn(b);
    expect(otherRootsPorts(hostPortsDirOf(lockDir), b.state)).toEqual([
      { owner: `pod web of the berth root with --state ${a.state}`, ports: [tcp(8080)] },
    ]);
    const refused = await claimPorts(lockDir, b);
    expect([refused.conflict?.port, refused.conflict?.claim.state, refused.reaped]).toEqual([
      tcp(8080),
      a.state,
      [],
    ]);
    // Its namespace gone with its last process: nothing of root a is left to serve the port.
    killGroup(ns);
    await until('the namespace is gone', () => !existsSync(`/proc/${ns.pid}`));
    const taken = await claimPorts(lockDir, b);
    expect([taken.conflict, taken.reaped.map((c) => c.state)]).toEqual([undefined, [a.state]]);
  });

  it('a claim whose record its own namespace no longer has is dead, though the namespace lives', async () => {
    const a = claimOf('a', 'web', [tcp(8080)]);
    const { dropRecord } = await claimInOwnNamespace(a);
    await dropRecord();
    const b = claimOf('b', 'web', [tcp(8080)]);
    await recordIn(b);
    await until(
      'root a removed its record',
      () => otherRootsPorts(hostPortsDirOf(lockDir), b.state).length === 0,
    );
    const taken = await claimPorts(lockDir, b);
    expect([taken.conflict, taken.reaped.map((c) => c.state)]).toEqual([undefined, [a.state]]);
  });
  it("a mount namespace is looked through only by root processes of this user namespace: a local user's unshare -Urm is not", async () => {
    const user = createLocalUser();
    const own = readlinkSync('/proc/self/ns/mnt');
    const inNs = async (p: ReturnType<typeof spawn>) => {
      started.push(p);
      let ns = own;
      await until('its own mount namespace', async () => {
        ns = readlinkSync(`/proc/${p.pid}/ns/mnt`);
        return ns !== own;
      });
      return ns;
    };
    try {
      const mine = await inNs(spawn('unshare', ['-m', 'sleep', '60'], { detached: true, stdio: 'ignore' }));
      const theirs = await inNs(
        spawn(
          'setpriv',
          [
            '--reuid',
            String(user.uid),
            '--regid',
            String(user.gid),
            '--clear-groups',
            'unshare',
            '-Urm',
            'sleep',
            '60',
          ],
          {
            detached: true,
            stdio: 'ignore',
          },
        ),
      );
      const views = mountNamespaceViews();
      expect([views.pathsIn(mine, '/x').length, views.pathsIn(theirs, '/x')]).toEqual([1, []]);
    } finally {
      user.remove();
    }
  });
});
