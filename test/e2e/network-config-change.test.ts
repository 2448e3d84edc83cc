// The host config's network changed under pods, as root: berth runs in a network namespace this
// test makes (its own bridges and iptables, nothing of the real host's), the config is rewritten
// between commands as a GitOps checkout would. A network renamed with the same subnet: the old,
// idle bridge goes when the first container joins the new one, so the host reaches it (before,
// two bridges held the subnet's route and the new container could not be reached). A network
// changed while a container is still on it: both are listed (the old one `configured: false`),
// `network rm` refuses the old one while it has a member, and the member's removal takes the old
// bridge and rules with it. A pod from a manifest moves: the next apply sets its sandbox up on the
// new network (before, its namespace kept the old interface and every setup failed: the pod stopped
// for good). Then nothing of any is left in the namespace.
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, type CliResult, runCollected, testEnv, withTestConfig } from '../helpers/cli.js';
import { type E2eHost, setUpE2eHost, tearDownE2eHost } from '../helpers/e2e-host.js';
import { getFrom, inNs, nsPath } from '../helpers/netns.js';
import { removeBridgeLockFile } from '../helpers/network-kept.js';
import { BRIDGE_POD_PREREQS, missingPrereqs } from '../helpers/prereqs.js';

const skip = missingPrereqs([...BRIDGE_POD_PREREQS, 'nsenter'], { root: true });

const tag = randomBytes(3).toString('hex');
const NS = `bcc-${tag}`;
const subnet = () => `10.${randomInt(100, 250)}.${randomInt(0, 256)}.0/24`;
const SUBNET = subnet();
const OTHER = SUBNET.replace(/^10\.(\d+)\./, (_, n) => `10.${Number(n) + 1}.`);

const nets = {
  a: { name: `cca-${tag}`, bridge: `ca${tag}` },
  b: { name: `ccb-${tag}`, bridge: `cb${tag}` },
  c: { name: `ccc-${tag}`, bridge: `cc${tag}` },
  d: { name: `ccd-${tag}`, bridge: `cd${tag}` },
  e: { name: `cce-${tag}`, bridge: `ce${tag}` },
};
const THIRD = SUBNET.replace(/^10\.(\d+)\./, (_, n) => `10.${Number(n) + 2}.`);

interface NetworkRow {
  name: string;
  bridge: string;
  subnet: string;
  configured: boolean;
  members: Array<{ name: string; ip: string }>;
}

describe.skipIf(skip)('the host config network changed under pods (berth in a network namespace)', () => {
  let h: E2eHost;
  let config: string;
  const berth = (...args: string[]): Promise<CliResult> =>
    runCollected(
      'nsenter',
      [
        `--net=${nsPath(NS)}`,
        process.execPath,
        CLI,
        ...withTestConfig(['--root', h.root, '--state', h.state, '--config', config, ...args]),
      ],
      testEnv(),
    );
  const useNetwork = (n: { name: string; bridge: string }, sub: string) =>
    writeFile(config, `network: {name: ${n.name}, bridge: ${n.bridge}, subnet: ${sub}}\n`);
  /** A started container serving its own name on port 80, on the configured network; its address. */
  const serve = async (name: string) => {
    const made = await berth(
      ...['container', 'create', h.image, name, '--network', 'bridge', '--'],
      ...['/bin/sh', '-c', `mkdir /w && echo ${name} > /w/index.html && exec httpd -f -p 80 -h /w`],
    );
    expect([made.code, made.stderr]).toEqual([0, '']);
    expect((await berth('container', 'start', name)).code).toBe(0);
  };
  const networks = async () =>
    JSON.parse((await berth('network', 'ls', '-o', 'json')).stdout) as NetworkRow[];
  const addressOf = async (name: string) =>
    (await networks()).flatMap((n) => n.members).find((m) => m.name === name)?.ip as string;
  const links = () => inNs(NS, 'ip', '-o', 'link', 'show', 'type', 'bridge');
  const rulesNaming = (...words: string[]) =>
    inNs(NS, 'iptables-save')
      .split('\n')
      .filter((l) => words.some((w) => l.includes(w)));
  /** GET from the namespace (the host berth runs on), retried while the container's httpd starts. */
  const get = async (ip: string) => {
    let got = '';
    for (let i = 0; i < 25 && !got.endsWith('\n'); i++) {
      got = await getFrom(NS, `http://${ip}/`);
      if (!got.endsWith('\n')) await new Promise((r) => setTimeout(r, 200));
    }
    return got;
  };

  beforeAll(async () => {
    h = await setUpE2eHost('netchange');
    config = join(h.work, 'config.yaml');
    // The image comes from the loopback registry, which only the real host's namespace reaches.
    expect((await h.berth('image', 'pull', h.image)).code).toBe(0);
    execFileSync('ip', ['netns', 'add', NS]);
    inNs(NS, 'ip', 'link', 'set', 'lo', 'up');
  }, 180_000);

  afterAll(async () => {
    for (const c of ['one', 'two', 'three', 'four'])
      await berth('container', 'rm', '--force', c).catch(() => undefined);
    const found = await tearDownE2eHost(h);
    execFileSync('ip', ['netns', 'del', NS]);
    for (const n of Object.values(nets)) await removeBridgeLockFile(n.bridge);
    expect(found).toEqual({ left: [], leaked: [] });
  });

  it('a network renamed with the same subnet: the old idle bridge goes at the first join, and the host reaches the new container', async () => {
    await useNetwork(nets.a, SUBNET);
    await serve('one');
    expect(await get(await addressOf('one'))).toBe('one\n');
    expect((await berth('container', 'rm', '--force', 'one')).code).toBe(0);
    expect(links()).toContain(nets.a.bridge); // kept after its last container, as any network's
    await useNetwork(nets.b, SUBNET);
    await serve('two');
    expect(links()).not.toContain(nets.a.bridge);
    expect(rulesNaming(nets.a.bridge, nets.a.name)).toEqual([]);
    expect(await get(await addressOf('two'))).toBe('two\n');
    expect((await networks()).map((n) => [n.name, n.configured, n.members.length])).toEqual([
      [nets.b.name, true, 1],
    ]);
  }, 120_000);

  it('a network changed while a container is on it: listed as former, not removed under it, gone with its last member', async () => {
    await useNetwork(nets.c, OTHER);
    await serve('three');
    expect((await networks()).map((n) => [n.name, n.configured, n.members.map((m) => m.name)])).toEqual([
      [nets.c.name, true, ['three']],
      [nets.b.name, false, ['two']],
    ]);
    const table = (await berth('network', 'ls')).stdout.split('\n');
    expect(table[0]?.split(/\s+/)).toEqual(['NAME', 'BRIDGE', 'SUBNET', 'GATEWAY', 'MEMBERS', 'CONFIGURED']);
    expect(
      table
        .find((l) => l.startsWith(`${nets.b.name} `))
        ?.split(/\s+/)
        .at(-1),
    ).toBe('no');
    expect((await berth('network', 'inspect', nets.b.name)).stdout.split('\n')[0]).toBe(
      `${nets.b.name}: bridge ${nets.b.bridge}, subnet ${SUBNET}, gateway ${SUBNET.replace(/0\/24$/, '1')} (not in the host config: removed with its last member)`,
    );
    // Both answer: the old container keeps its network until it goes.
    expect(await get(await addressOf('two'))).toBe('two\n');
    expect(await get(await addressOf('three'))).toBe('three\n');
    const refused = await berth('network', 'rm', nets.b.name);
    expect([refused.code, refused.stderr]).toEqual([
      4,
      `berth: ERR_NETWORK_IN_USE: network ${nets.b.name} is in use: 1 on it: container two (remove the pods and containers on it first)\n`,
    ]);
    expect((await berth('container', 'rm', '--force', 'two')).code).toBe(0);
    expect(links()).not.toContain(nets.b.bridge);
    expect(rulesNaming(nets.b.bridge, nets.b.name, SUBNET)).toEqual([]);
    expect((await networks()).map((n) => n.name)).toEqual([nets.c.name]);
    const gone = await berth('network', 'inspect', nets.b.name);
    expect([gone.code, gone.stderr]).toEqual([
      3,
      `berth: ERR_NETWORK_NOT_FOUND: no network named "${nets.b.name}" (this host has one: ${nets.c.name})\n`,
    ]);
    expect((await berth('container', 'rm', '--force', 'three')).code).toBe(0);
    expect((await berth('network', 'rm', nets.c.name)).code).toBe(0);
    expect(links()).toBe('');
    expect(rulesNaming(...Object.values(nets).flatMap((n) => [n.name, n.bridge]), SUBNET, OTHER)).toEqual([]);
  }, 120_000);

  it('a pod from a manifest moves to the changed network at the next apply, and the old network goes with it', async () => {
    const podOn = async () =>
      (
        JSON.parse((await berth('ps', '-o', 'json')).stdout) as Array<{
          name: string;
          ip?: string;
          phase: string;
        }>
      ).find((p) => p.name === 'moved');
    await writeFile(
      join(h.dir, 'moved.yaml'),
      'apiVersion: v1\nkind: Pod\nmetadata: {name: moved}\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n  - name: main\n' +
        `    image: ${h.image}\n` +
        '    command: ["/bin/sh", "-c", "mkdir /w && echo moved > /w/index.html && exec httpd -f -p 80 -h /w"]\n',
    );
    await useNetwork(nets.d, THIRD);
    expect((await berth('apply', h.dir)).code).toBe(0);
    const before = (await podOn())?.ip as string;
    expect(before.startsWith(THIRD.slice(0, -5))).toBe(true);
    await useNetwork(nets.e, OTHER);
    const applied = await berth('apply', h.dir);
    expect([applied.code, applied.stderr]).toEqual([0, '']);
    expect(applied.stdout).toContain(
      "setup-pod    moved: not on the network as it asks (its ports or names, or the host config's network, changed)",
    );
    const after = await podOn();
    expect([after?.phase, after?.ip?.startsWith(OTHER.slice(0, -5))]).toEqual(['Running', true]);
    expect(await get(after?.ip as string)).toBe('moved\n');
    expect(links()).not.toContain(nets.d.bridge);
    expect(rulesNaming(nets.d.bridge, nets.d.name, THIRD)).toEqual([]);
    await rm(join(h.dir, 'moved.yaml'));
    expect((await berth('apply', h.dir)).code).toBe(0);
    expect((await berth('network', 'rm', nets.e.name)).code).toBe(0);
    expect(links()).toBe('');
  }, 120_000);
});
