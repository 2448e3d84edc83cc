// One host port asked for by two berth roots (two --root/--state pairs, each on a bridge of its
// own), as root with runc, conmon, overlayfs and the real CNI plugins: the second root's pod waits
// with the error a same-root clash gives (`plan`, `ps`), naming the port and the other root's pod,
// while the first keeps serving on 127.0.0.1; once the first is removed the second's next pass takes
// the port; a daemon killed -9 while holding a port, its --state then wiped (its containers killed
// as a power cut would, its port rules left in the host's nat table), holds nothing: the other
// root's next pass takes the port and is reached on it. Nothing is left under /run/berth-networks.
import { type ChildProcess, execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NETWORK_LOCK_DIR } from '../../src/network/adapter.js';
import { rootTagOf, taggedCniId } from '../../src/network/attachments.js';
import { portmapChainOf } from '../../src/network/conflist.js';
import { hostPortsDirOf, readClaims } from '../../src/network/host-ports.js';
import type { PodView } from '../../src/reconcile/pod-views.js';
import { endChild, runBerth, spawnBerth } from '../helpers/cli.js';
import { freePort } from '../helpers/free-port.js';
import { cleanUpHost } from '../helpers/host-cleanup.js';
import { buildImage, createLayout, type Layout, populateBusybox, pushImage } from '../helpers/images.js';
import { bridgeAllocations, removeBridgeLockFile } from '../helpers/network-kept.js';
import { BRIDGE_POD_PREREQS, missingPrereqs } from '../helpers/prereqs.js';
import { simulateReboot } from '../helpers/reboot.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(BRIDGE_POD_PREREQS, { root: true });

const ID = randomBytes(3).toString('hex');
const subnet = () => `10.${randomInt(100, 250)}.${randomInt(0, 256)}.0/24`;
const ROOTS = {
  a: { net: `ha-${ID}`, bridge: `ha${ID}`, subnet: subnet() },
  b: { net: `hb-${ID}`, bridge: `hb${ID}`, subnet: subnet() },
};
type Name = keyof typeof ROOTS;

/** Every path under /run/berth-networks that names this test's bridges, or a claim of its roots. */
function leftOnHost(work: string): string[] {
  const walk = (dir: string): string[] =>
    existsSync(dir)
      ? readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
          e.isDirectory() ? [join(dir, e.name), ...walk(join(dir, e.name))] : [join(dir, e.name)],
        )
      : [];
  const hex = (b: string) => Buffer.from(b).toString('hex');
  const ours = Object.values(ROOTS).flatMap((r) => [r.bridge, hex(r.bridge)]);
  const claims = readClaims(hostPortsDirOf(NETWORK_LOCK_DIR)).filter((c) => c.state.startsWith(work));
  return [
    ...walk(NETWORK_LOCK_DIR).filter((p) => ours.some((o) => p.includes(o))),
    ...claims.map((c) => c.file),
  ];
}

describe.skipIf(skip)('a host port two berth roots ask for', () => {
  let registry: TestRegistry;
  let layout: Layout;
  let work: string;
  let image: string;
  const daemons: ChildProcess[] = [];
  const paths = (r: Name) => ({
    root: join(work, r, 'root'),
    state: join(work, r, 'state'),
    dir: join(work, r, 'manifests'),
    config: join(work, r, 'config.yaml'),
  });
  const flags = (r: Name) => [
    '--root',
    paths(r).root,
    '--state',
    paths(r).state,
    '--config',
    paths(r).config,
  ];
  const berth = (r: Name, ...args: string[]) => runBerth([...flags(r), ...args]);
  const ps = async (r: Name) => JSON.parse((await berth(r, 'ps', '-o', 'json')).stdout || '[]') as PodView[];
  const pod = async (r: Name, name: string) => (await ps(r)).find((p) => p.name === name);
  const until = async (what: string, probe: () => Promise<boolean>) => {
    for (let i = 0; i < 200; i++) {
      if (await probe()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`never: ${what}`);
  };
  const get = async (url: string) => {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
      return `${res.status} ${await res.text()}`;
    } catch (err) {
      return `failed: ${(err as Error).message}`;
    }
  };
  /** A pod serving `text` on 8080, published on `port`. */
  const serving = (r: Name, name: string, port: number, text: string) =>
    writeFile(
      join(paths(r).dir, `${name}.yaml`),
      `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  terminationGracePeriodSeconds: 0
  containers:
    - name: main
      image: ${image}
      command: ["/bin/sh", "-c", "mkdir -p /www && echo ${text} > /www/index.html && exec httpd -f -p 8080 -h /www"]
      ports: [{containerPort: 8080, hostPort: ${port}}]
`,
    );
  const running = (r: Name, name: string) =>
    until(`${r}'s ${name} runs`, async () => (await pod(r, name))?.phase === 'Running');

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-host-ports-'));
    for (const r of ['a', 'b'] as const) {
      const { net, bridge, subnet } = ROOTS[r];
      await mkdir(paths(r).dir, { recursive: true });
      await writeFile(paths(r).config, `network: {name: ${net}, bridge: ${bridge}, subnet: ${subnet}}\n`);
    }
    registry = await startRegistry();
    layout = await createLayout();
    await buildImage(layout, 'busybox', [populateBusybox], { cmd: '/bin/sh' });
    image = `${registry.host}/ports/busybox:1`;
    await pushImage(layout, 'busybox', image);
  }, 180_000);

  afterAll(async () => {
    for (const d of daemons) await endChild(d, 'SIGKILL');
    const outcomes = [];
    for (const r of ['a', 'b'] as const) {
      const cleaned = await cleanUpHost({
        berth: (...args) => berth(r, ...args),
        work: join(work, r), // the other root's pods are not this one's leaks
        folders: [paths(r).dir],
      });
      const removed = await berth(r, 'network', 'rm', ROOTS[r].net);
      outcomes.push({ ...cleaned, removed: removed.code, allocations: bridgeAllocations(ROOTS[r].bridge) });
    }
    await registry?.stop();
    await layout?.cleanup();
    await removeTempRoot(work);
    for (const r of Object.values(ROOTS)) await removeBridgeLockFile(r.bridge);
    const left = leftOnHost(work);
    for (const o of outcomes) expect(o).toEqual({ left: [], leaked: [], removed: 0, allocations: [] });
    expect(left).toEqual([]);
  }, 120_000);

  it("the second root's pod waits with a clear error, the first keeps the port and serves on 127.0.0.1", async () => {
    const port = await freePort();
    await serving('a', 'web', port, 'from-a');
    expect((await berth('a', 'apply', paths('a').dir)).code).toBe(0);
    await running('a', 'web');
    expect(await get(`http://127.0.0.1:${port}/`)).toBe('200 from-a\n');
    // A pod of the same name in b, on its own bridge.
    await serving('b', 'web', port, 'from-b');
    const applied = await berth('b', 'apply', paths('b').dir);
    const why = `web: ERR_PORT_CONFLICT: host port 0.0.0.0:${port}/tcp is already published by pod web of the berth root with --state ${paths('a').state}`;
    const web = await pod('b', 'web');
    expect([applied.code, applied.stderr, web?.phase, web?.ip, web?.waiting]).toEqual([
      0,
      '',
      'Pending',
      null,
      why,
    ]);
    const plan = await berth('b', 'plan', paths('b').dir);
    expect([plan.code, plan.stdout]).toEqual([0, `wait         ${why}\n`]);
    expect(await get(`http://127.0.0.1:${port}/`)).toBe('200 from-a\n');
    expect((await pod('a', 'web'))?.phase).toBe('Running');

    // a's pod goes: b's next pass takes the port.
    await rm(join(paths('a').dir, 'web.yaml'));
    expect((await berth('a', 'apply', paths('a').dir)).code).toBe(0);
    const taken = await berth('b', 'apply', paths('b').dir);
    expect([taken.code, taken.stderr]).toEqual([0, '']);
    await running('b', 'web');
    expect(await get(`http://127.0.0.1:${port}/`)).toBe('200 from-b\n');
    // And now a asks again: its pod waits, naming b's.
    await serving('a', 'web', port, 'from-a');
    expect((await berth('a', 'apply', paths('a').dir)).code).toBe(0);
    expect((await pod('a', 'web'))?.waiting).toBe(
      `web: ERR_PORT_CONFLICT: host port 0.0.0.0:${port}/tcp is already published by pod web of the berth root with --state ${paths('b').state}`,
    );
    for (const r of ['a', 'b'] as const) {
      await rm(join(paths(r).dir, 'web.yaml'));
      expect((await berth(r, 'apply', paths(r).dir)).code).toBe(0);
    }
  }, 180_000);

  it("a daemon killed -9 holding a port, its --state wiped: the other root's next pass takes the port", async () => {
    const port = await freePort();
    await serving('a', 'held', port, 'from-a-held');
    const daemon = spawnBerth([...flags('a'), 'daemon', '--manifests', paths('a').dir, '--resync', '2']);
    daemons.push(daemon);
    await running('a', 'held');
    await until('a serves', async () => (await get(`http://127.0.0.1:${port}/`)) === '200 from-a-held\n');
    await endChild(daemon, 'SIGKILL');
    // Its containers die, its --state goes; its DNAT rules for the port stay in the nat table.
    await simulateReboot(paths('a').root, paths('a').state);
    await serving('b', 'next', port, 'from-b-next');
    const plan = await berth('b', 'plan', paths('b').dir);
    expect(plan.stdout).not.toContain('ERR_PORT_CONFLICT');
    const applied = await berth('b', 'apply', paths('b').dir);
    expect([applied.code, applied.stderr]).toEqual([0, '']);
    await running('b', 'next');
    expect(await get(`http://127.0.0.1:${port}/`)).toBe('200 from-b-next\n');
    expect(
      readClaims(hostPortsDirOf(NETWORK_LOCK_DIR))
        .filter((c) => c.state.startsWith(work))
        .map((c) => c.state),
    ).toEqual([paths('b').state]);
    // a's jump and chain for the port are gone, not merely behind b's.
    const held = portmapChainOf(
      ROOTS.a.net,
      taggedCniId(rootTagOf(paths('a').state, ROOTS.a.net), 'pod-held'),
    );
    expect(execFileSync('iptables-save', ['-t', 'nat']).toString()).not.toContain(held);
  }, 180_000);
});
