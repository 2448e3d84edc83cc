// Pod networking as root with the real CNI plugins, runc, conmon and overlayfs: a bridge and a
// subnet of this test's own (random, so parallel runs never meet), pods reaching the host's bridge
// address, the host reaching pods by address and by published port (127.0.0.1 and the host's own
// address, TCP and UDP), pods finding each other by name as they come and go, a port conflict
// refused on the second pod only, a reboot and a kill -9 mid-setup repaired by the next pass, and
// nothing of the network left on the host afterwards (links, iptables rules, IPAM files). All
// traffic stays on this host: loopback, the host's own address and the test's namespaces.
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rootTagOf, taggedCniId } from '../../src/network/attachments.js';
import { portmapChainOf } from '../../src/network/conflist.js';
import type { PodView } from '../../src/reconcile/pod-views.js';
import { runBerth, spawnBerth } from '../helpers/cli.js';
import { runKilled } from '../helpers/fault-kill.js';
import { freePort } from '../helpers/free-port.js';
import { cleanUpHost } from '../helpers/host-cleanup.js';
import { buildImage, createLayout, type Layout, populateBusybox, pushImage } from '../helpers/images.js';
import {
  bridgeAllocations,
  forgetRulesSwept,
  keptNetworkRules,
  removeBridgeLockFile,
} from '../helpers/network-kept.js';
import { BRIDGE_POD_PREREQS, missingPrereqs } from '../helpers/prereqs.js';
import { simulateReboot } from '../helpers/reboot.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(BRIDGE_POD_PREREQS, { root: true });

const NET = `nt-${randomBytes(3).toString('hex')}`;
const BRIDGE = `bt${randomBytes(3).toString('hex')}`;
const SUBNET = `10.${randomInt(100, 250)}.${randomInt(0, 256)}.0/24`;
const GATEWAY = SUBNET.replace(/0\/24$/, '1');
/** The test root's --state, and its pods' CNI container ids (tagged with that root: attachments.ts). */
let state: string;
const idOf = (pod: string) => taggedCniId(rootTagOf(state, NET), `pod-${pod}`);

/** The host's own address on its default route (never sent beyond the host). */
function hostAddress(): string {
  const m = /\bsrc (\S+)/.exec(execFileSync('ip', ['-4', 'route', 'get', '1.1.1.1']).toString());
  if (m?.[1]) return m[1];
  const any = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal);
  return any?.address as string;
}

/**
 * What the host has of this test's network: its bridge and veths on it, iptables lines naming its
 * bridge, subnet or network (and the per-pod DNAT chains they jump to), and CNI-DN chains in all.
 */
function networkFootprint() {
  const save = execFileSync('iptables-save').toString().split('\n');
  const ours = save.filter((l) => l.includes(BRIDGE) || l.includes(SUBNET) || l.includes(`"${NET}"`));
  const chains = new Set(ours.flatMap((l) => /-j (CNI-DN-\w+)/.exec(l)?.[1] ?? []));
  const chainLines = save.filter((l) =>
    [...chains].some((c) => l.startsWith(`:${c} `) || l.startsWith(`-A ${c} `)),
  );
  let links: string[] = [];
  try {
    links = execFileSync('ip', ['-o', 'link', 'show', 'master', BRIDGE], {
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .split('\n')
      .filter(Boolean);
  } catch {
    links = []; // no such bridge
  }
  return {
    bridge: existsSync(`/sys/class/net/${BRIDGE}`),
    links,
    rules: [...ours, ...chainLines],
    // Chains of this test's pods even with no jump left to them (other tests' are not counted).
    dnatChains: ['web', 'client', 'clash', 'late', 'old', 'heir']
      .map((n) => `:${portmapChainOf(NET, idOf(n))} `)
      .filter((c) => save.some((l) => l.startsWith(c))),
  };
}

/**
 * Deletes every rule and chain of this test's network from the host, as a firewall reload would,
 * leaving every other rule and chain of the host (CNI-HOSTPORT-DNAT is shared); returns the rules
 * it deleted.
 */
function flushOwnRules(): string[] {
  const deleted: string[] = [];
  const tables = new Map<string, string[]>();
  let table = '';
  const save = execFileSync('iptables-save').toString().split('\n');
  const chains = new Set(
    save.flatMap((l) =>
      l.includes(BRIDGE) || l.includes(NET) ? (/-j (CNI-DN-\w+)/.exec(l)?.[1] ?? []) : [],
    ),
  );
  for (const line of save) {
    if (line.startsWith('*')) table = line.slice(1);
    const chain = line.split(' ')[1] ?? '';
    const ours = line.includes(BRIDGE) || line.includes(SUBNET) || line.includes(NET) || chains.has(chain);
    if (!line.startsWith('-A ') || !ours) continue;
    deleted.push(line);
    tables.set(table, [...(tables.get(table) ?? []), `-D${line.slice(2)}`]);
  }
  // Its own chains go too, as a reload that restores a saved ruleset without them leaves the host.
  const own = [...chains, `BERTH-MARK-${BRIDGE}`].filter((c) => save.some((l) => l.startsWith(`:${c} `)));
  tables.set('nat', [...(tables.get('nat') ?? []), ...own.map((c) => `-X ${c}`)]);
  const text = [...tables].map(([t, lines]) => [`*${t}`, ...lines, 'COMMIT'].join('\n')).join('\n');
  execFileSync('iptables-restore', ['--noflush', '-w', '5'], { input: `${text}\n` });
  return deleted;
}

describe.skipIf(skip)('pod networking', () => {
  let registry: TestRegistry;
  let layout: Layout;
  let work: string;
  let dir: string;
  let root: string;
  let config: string;
  let image: string;
  let webPort: number;
  let before: ReturnType<typeof networkFootprint>;
  const servers: Server[] = [];
  const flags = () => ['--root', root, '--state', state, '--config', config];
  const berth = (...args: string[]) => runBerth([...flags(), ...args]);
  const ps = async () => JSON.parse((await berth('ps', '-o', 'json')).stdout) as PodView[];
  const pod = async (name: string) => (await ps()).find((p) => p.name === name) as PodView;
  const exec = (container: string, ...cmd: string[]) => berth('container', 'exec', container, '--', ...cmd);
  /** What `url` answers inside `container` (busybox wget, 5 s at most). */
  const wget = (container: string, url: string) =>
    exec(container, 'timeout', '5', 'wget', '-q', '-O', '-', url);
  const until = async (what: string, probe: () => Promise<boolean>) => {
    for (let i = 0; i < 150; i++) {
      if (await probe()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`never: ${what}`);
  };
  const get = async (url: string) => {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    return `${res.status} ${await res.text()}`;
  };
  /** The bridge's allocations (host-wide; the bridge is this test's own). */
  const ipamFiles = () => bridgeAllocations(BRIDGE);
  const writePod = (name: string, text: string) => writeFile(join(dir, `${name}.yaml`), text);
  const podYaml = (name: string, command: string, extra = '', spec = '') => `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  terminationGracePeriodSeconds: 0
${spec}  containers:
    - name: main
      image: ${image}
      command: ["/bin/sh", "-c", ${JSON.stringify(command)}]
${extra}`;
  const web = () =>
    podYaml(
      'web',
      'mkdir -p /www && echo hello-from-web > /www/index.html && exec httpd -f -p 8080 -h /www',
      `      ports: [{containerPort: 8080, hostPort: ${webPort}}]\n`,
      '  hostAliases: [{ip: 10.1.2.3, hostnames: [db.internal, db]}]\n' +
        '  dnsConfig: {nameservers: [192.0.2.53], searches: [example.test], options: [{name: ndots, value: "2"}]}\n',
    );
  const idle = (name: string) => podYaml(name, 'exec sleep 100000');

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-network-'));
    root = join(work, 'root');
    state = join(work, 'state');
    dir = join(work, 'manifests');
    config = join(work, 'config.yaml');
    await writeFile(config, `network: {name: ${NET}, bridge: ${BRIDGE}, subnet: ${SUBNET}}\n`);
    webPort = await freePort();
    registry = await startRegistry();
    layout = await createLayout();
    await buildImage(layout, 'busybox', [populateBusybox], { cmd: '/bin/sh' });
    image = `${registry.host}/demo/busybox:1`;
    await pushImage(layout, 'busybox', image);
    await mkdir(dir);
    before = networkFootprint();
  }, 180_000);

  afterAll(async () => {
    for (const s of servers) s.close();
    const { left, leaked } = await cleanUpHost({ berth, work, folders: [dir], forceFirst: true });
    // Every pod gone: nothing of any (veth, DNAT chain, IPAM file), the network kept; rm takes it away.
    const kept = networkFootprint();
    const removed = await berth('network', 'rm', NET);
    const after = networkFootprint();
    const ipam = existsSync(join(state, 'network', NET)) ? readdirSync(join(state, 'network', NET)) : [];
    const allocations = bridgeAllocations(BRIDGE);
    await registry?.stop();
    await layout?.cleanup();
    await removeTempRoot(work);
    // The bridge's host-wide lock file (empty; see network/adapter.ts) goes with this test's bridge.
    await removeBridgeLockFile(BRIDGE);
    expect(left).toEqual([]);
    expect(leaked).toEqual([]);
    expect(kept).toEqual({
      bridge: true,
      links: [],
      rules: keptNetworkRules(NET, BRIDGE, SUBNET),
      dnatChains: [],
    });
    expect([removed.code, removed.stdout, removed.stderr]).toEqual([0, `${NET}\n`, '']);
    expect(after).toEqual(before);
    expect(ipam).toEqual([]);
    expect(allocations).toEqual([]);
  });

  it('a pod gets an address on the bridge, reaches the host, and the host reaches it by address and published port', async () => {
    expect(before).toEqual({ bridge: false, links: [], rules: [], dnatChains: [] });
    await writePod('web', web());
    await writePod('client', idle('client'));
    expect((await berth('apply', dir)).code).toBe(0);
    await until('both run', async () => (await ps()).every((p) => p.phase === 'Running'));
    const w = await pod('web');
    expect(w.ports).toEqual([{ hostPort: webPort, containerPort: 8080, protocol: 'tcp', hostIP: '' }]);
    expect(w.ip).toMatch(new RegExp(`^${SUBNET.replace(/\.0\/24$/, '').replace(/\./g, '\\.')}\\.\\d+$`));
    // Pod → the host, on the bridge's address.
    const host = createServer((_, res) => res.end('hello-from-host'));
    servers.push(host);
    await new Promise<void>((r) => host.listen(0, GATEWAY, r));
    const hostPort = (host.address() as { port: number }).port;
    const fromPod = await wget('client_main', `http://${GATEWAY}:${hostPort}/`);
    expect([fromPod.code, fromPod.stdout]).toEqual([0, 'hello-from-host']);
    // Host → pod by address, and by the published port on loopback and on the host's address.
    expect(await get(`http://${w.ip}:8080/`)).toBe('200 hello-from-web\n');
    expect(await get(`http://127.0.0.1:${webPort}/`)).toBe('200 hello-from-web\n');
    expect(await get(`http://${hostAddress()}:${webPort}/`)).toBe('200 hello-from-web\n');
    // Forwarding is on, for the outbound NAT (the host may have had it on already).
    expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8')).toBe('1\n');
    // ps shows them.
    const table = (await berth('ps')).stdout;

    const row = table.split('\n').find((l) => l.startsWith('web '));
    expect(row?.split(/\s+/).slice(8, 10)).toEqual([w.ip, `0.0.0.0:${webPort}/tcp->8080`]);
  }, 120_000);

  it('pods find each other by name; /etc/hosts and resolv.conf are as the manifest says', async () => {
    const c = await pod('client');
    const w = await pod('web');
    const byName = await wget('client_main', 'http://web:8080/');
    expect([byName.code, byName.stdout]).toEqual([0, 'hello-from-web\n']);
    expect((await exec('web_main', 'cat', '/etc/hosts')).stdout).toBe(
      '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' +
        `${w.ip}\tweb web.default\n# pods on this network\n${c.ip}\tclient client.default\n` +
        '# hostAliases\n10.1.2.3\tdb.internal db\n',
    );
    // The host's resolvers without loopback ones, then dnsConfig.
    const hostServers = readFileSync('/etc/resolv.conf', 'utf8')
      .split('\n')
      .map((l) => /^nameserver\s+(\S+)/.exec(l)?.[1])
      .filter((s): s is string => s !== undefined && !s.startsWith('127.') && s !== '::1');
    const servers = [
      ...new Set([...(hostServers.length ? hostServers : ['8.8.8.8', '8.8.4.4']), '192.0.2.53']),
    ];
    const resolv = (await exec('web_main', 'cat', '/etc/resolv.conf')).stdout;
    expect(resolv.split('\n').filter((l) => l.startsWith('nameserver'))).toEqual(
      servers.slice(0, 3).map((s) => `nameserver ${s}`),
    );
    expect(resolv).toMatch(/^search (.* )?example\.test$/m);
    expect(resolv).toMatch(/^options (.* )?ndots:2( |$)/m);
  }, 60_000);

  it('names follow pods as they come and go, without restarting anyone', async () => {
    const pidBefore = (await pod('client')).containers[0]?.pid;
    await writePod('late', idle('late'));
    expect((await berth('apply', dir)).code).toBe(0);
    const late = await pod('late');
    const [c, w] = [await pod('client'), await pod('web')];
    expect((await exec('client_main', 'cat', '/etc/hosts')).stdout).toBe(
      '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' +
        `${c.ip}\tclient client.default\n# pods on this network\n${late.ip}\tlate late.default\n${w.ip}\tweb web.default\n`,
    );
    // By NAME.NAMESPACE too, as a cluster's DNS names it.
    const ping = await wget('late_main', 'http://web.default:8080/');
    expect([ping.code, ping.stdout]).toEqual([0, 'hello-from-web\n']);
    await rm(join(dir, 'late.yaml'));
    const removed = await berth('apply', dir);
    expect([removed.code, removed.stderr]).toEqual([0, '']);
    expect((await exec('client_main', 'grep', '-c', 'late', '/etc/hosts')).stdout).toBe('0\n');
    expect((await pod('client')).containers[0]?.pid).toBe(pidBefore);
  }, 60_000);

  it('a recreated container keeps its pod address and published port; no address is allocated twice', async () => {
    const before = await pod('web');
    expect(before.ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const changed = web().replace('      ports:', '      env: [{name: REV, value: "2"}]\n      ports:');
    expect(changed).not.toBe(web());
    await writePod('web', changed);
    const plan = await berth('plan', dir);
    expect([plan.code, plan.stdout]).toEqual([
      2,
      'remove       web/main: env REV added\nrun          web/main: env REV added\n',
    ]);
    expect((await berth('apply', dir)).code).toBe(0);
    await until('web runs again', async () => {
      const w = await pod('web');
      return w.phase === 'Running' && w.containers[0]?.pid !== before.containers[0]?.pid;
    });
    const after = await pod('web');
    expect([after.ip, after.ports]).toEqual([before.ip, before.ports]);
    expect(await get(`http://127.0.0.1:${webPort}/`)).toBe('200 hello-from-web\n');
    expect(await get(`http://${hostAddress()}:${webPort}/`)).toBe('200 hello-from-web\n');
    const ips = (await ps()).map((p) => p.ip as string).sort();
    expect(ipamFiles()).toEqual(ips);
  }, 60_000);

  it('two pods on one host port: the second is refused with a clear error, the first keeps serving', async () => {
    await writePod(
      'clash',
      podYaml('clash', 'exec sleep 100000', `      ports: [{containerPort: 9090, hostPort: ${webPort}}]\n`),
    );
    const applied = await berth('apply', dir);
    const clash = await pod('clash');
    const why = `clash: ERR_PORT_CONFLICT: host port 0.0.0.0:${webPort}/tcp is already published by pod web`;
    expect([applied.code, clash.phase, clash.ip, clash.lastError, clash.waiting]).toEqual([
      0,
      'Pending',
      null,
      null,
      why,
    ]);
    expect(await get(`http://127.0.0.1:${webPort}/`)).toBe('200 hello-from-web\n');
    const plan = await berth('plan', dir);
    expect([plan.code, plan.stdout]).toEqual([0, `wait         ${why}\n`]);
    await rm(join(dir, 'clash.yaml'));
    expect((await berth('apply', dir)).code).toBe(0);
    expect((await ps()).map((p) => p.name)).toEqual(['client', 'web']);
  }, 60_000);

  it('a host port a host service listens on is refused with a clear error, the service keeps its traffic', async () => {
    const port = await freePort();
    const service = createServer((_, res) => res.end('hello-from-host-service'));
    servers.push(service);
    await new Promise<void>((resolve, reject) => {
      service.once('error', reject);
      service.listen(port, '0.0.0.0', resolve);
    });
    await writePod(
      'shadow',
      podYaml('shadow', 'exec sleep 100000', `      ports: [{containerPort: 8080, hostPort: ${port}}]\n`),
    );
    const applied = await berth('apply', dir);
    const why = `host port 0.0.0.0:${port}/tcp is in use on the host: a process listens on 0.0.0.0:${port}/tcp, and publishing the port would take its traffic`;
    const hint = "give the pod another hostPort or hostIP, or stop the host's service on it";
    expect([applied.code, applied.stderr]).toEqual([
      1,
      `failed setup-pod    shadow: new pod (network namespace, volumes): ERR_PORT_CONFLICT: pod shadow: ${why} (${hint})\n`,
    ]);
    const shadow = await pod('shadow');
    expect([shadow.phase, shadow.ip]).toEqual(['Pending', null]);
    expect(shadow.lastError).toContain(why);
    expect(await get(`http://127.0.0.1:${port}/`)).toBe('200 hello-from-host-service');
    expect(await get(`http://${hostAddress()}:${port}/`)).toBe('200 hello-from-host-service');
    expect(execFileSync('iptables-save').toString()).not.toContain(idOf('shadow'));
    await rm(join(dir, 'shadow.yaml'));
    expect((await berth('apply', dir)).code).toBe(0);
    expect((await ps()).map((p) => p.name)).toEqual(['client', 'web']);
  }, 60_000);

  it('after a reboot one apply brings every pod back with working ports, and no address of the old boot is held', async () => {
    await simulateReboot(root, state);
    const applied = await berth('apply', dir);
    expect([applied.code, applied.stderr]).toEqual([0, '']);
    await until('all run', async () => (await ps()).every((p) => p.phase === 'Running'));
    expect(await get(`http://127.0.0.1:${webPort}/`)).toBe('200 hello-from-web\n');
    const byName = await wget('client_main', 'http://web:8080/');
    expect([byName.code, byName.stdout]).toEqual([0, 'hello-from-web\n']);
    const ips = (await ps()).map((p) => p.ip as string).sort();
    expect(ipamFiles()).toEqual(ips);
  }, 120_000);

  it('a veth or the bridge deleted under running pods: the next pass puts them back, addresses, ports, names and containers kept', async () => {
    const before = await ps();
    const pids = () => ps().then((all) => all.map((p) => [p.name, p.ip, p.containers[0]?.pid]));
    const was = await pids();
    const record = JSON.parse(
      readFileSync(join(state, 'network', NET, 'attachments', 'pod-web.json'), 'utf8'),
    );
    const veth = record.result.interfaces.find(
      (i: { name: string; sandbox?: string }) => !i.sandbox && i.name !== BRIDGE,
    );
    execFileSync('ip', ['link', 'del', veth.name]);
    const relink = (name: string) =>
      `setup-pod    ${name}: its bridge or veth was deleted: put back on the network, its address and containers kept\n`;
    const onlyWeb = await berth('plan', dir);
    expect([onlyWeb.code, onlyWeb.stdout]).toEqual([2, relink('web')]);
    expect((await berth('apply', dir)).stderr).toBe('');
    expect(await get(`http://127.0.0.1:${webPort}/`)).toBe('200 hello-from-web\n');
    execFileSync('ip', ['link', 'del', BRIDGE]);
    const both = await berth('plan', dir);
    expect([both.code, both.stdout]).toEqual([2, before.map((p) => relink(p.name)).join('')]);
    const applied = await berth('apply', dir);
    expect([applied.code, applied.stderr]).toEqual([0, '']);
    expect(await pids()).toEqual(was);
    expect(await get(`http://127.0.0.1:${webPort}/`)).toBe('200 hello-from-web\n');
    expect(await get(`http://${hostAddress()}:${webPort}/`)).toBe('200 hello-from-web\n');
    const byName = await wget('client_main', 'http://web:8080/');
    expect([byName.code, byName.stdout]).toEqual([0, 'hello-from-web\n']);
    expect(ipamFiles()).toEqual(before.map((p) => p.ip as string).sort());
    expect((await berth('plan', dir)).code).toBe(0);
  }, 120_000);

  it('a firewall reload flushing the network and port rules: the daemon makes them again at its next resync, pods untouched', async () => {
    const was = await ps().then((all) => all.map((p) => [p.name, p.ip, p.containers[0]?.pid]));
    const whole = networkFootprint().rules.sort();
    // What a firewall reload leaves of this test's network (and only of it: the host's other rules
    // stay): nothing, its rules and chains deleted.
    const flushed = flushOwnRules();
    expect(flushed.filter((l) => l.includes(BRIDGE)).length).toBeGreaterThan(3);
    expect(flushed.filter((l) => l.includes(portmapChainOf(NET, idOf('web')))).length).toBe(4);
    const url = `http://127.0.0.1:${webPort}/`;
    expect(await get(url).catch(() => 'refused')).toBe('refused');
    // README: `berth apply` alone does not check the rules of running pods (the daemon does).
    expect((await berth('apply', dir)).code).toBe(0);
    expect(await get(url).catch(() => 'refused')).toBe('refused');
    const daemon = spawnBerth([...flags(), 'daemon', '--manifests', dir, '--resync', '1']);
    const exited = new Promise((r) => daemon.once('exit', (code) => r(code)));
    try {
      await until('the published port answers again', () =>
        get(url).then(
          (text) => text === '200 hello-from-web\n',
          () => false,
        ),
      );
    } finally {
      daemon.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(networkFootprint().rules.sort()).toEqual(whole); // each rule once, as an attach made it
    expect(await get(`http://${hostAddress()}:${webPort}/`)).toBe('200 hello-from-web\n');
    const out = await wget('client_main', 'http://web:8080/');
    expect([out.code, out.stdout]).toEqual([0, 'hello-from-web\n']);
    expect(await ps().then((all) => all.map((p) => [p.name, p.ip, p.containers[0]?.pid]))).toEqual(was);
    const events = await berth('events', '--until', '0s');
    const reasons = events.stdout.split('\n').filter((l) => /RulesRestored/.test(l));
    expect(reasons.map((l) => /(\w+RulesRestored)/.exec(l)?.[1])).toEqual([
      'NetworkRulesRestored',
      'PortRulesRestored',
    ]);
    expect(reasons[1]).toContain(`web`);
  }, 120_000);

  it("a saved ruleset restored with a removed pod's port rules (iptables-persistent at boot): its DNAT is taken away, the port's new holder gets the traffic", async () => {
    const port = await freePort();
    const chain = portmapChainOf(NET, idOf('old'));
    const ownLines = () =>
      execFileSync('iptables-save', ['-t', 'nat'])
        .toString()
        .split('\n')
        .filter(
          (l) => l.startsWith(`:${chain} `) || l.startsWith(`-A ${chain} `) || l.endsWith(` -j ${chain}`),
        );
    const restoreSaved = (lines: string[]) =>
      execFileSync('iptables-restore', ['--noflush', '-w', '5'], {
        input: `*nat\n${lines.map((l) => l.replace(/\[\d+:\d+\]$/, '[0:0]')).join('\n')}\nCOMMIT\n`,
      });
    await writePod(
      'old',
      podYaml('old', 'exec sleep 100000', `      ports: [{containerPort: 7070, hostPort: ${port}}]\n`),
    );
    expect((await berth('apply', dir)).code).toBe(0);
    const saved = ownLines(); // `iptables-save > /etc/iptables/rules.v4` while old runs
    expect(saved.filter((l) => l.includes(' -j DNAT '))).toHaveLength(1);
    await rm(join(dir, 'old.yaml'));
    expect((await berth('apply', dir)).code).toBe(0);
    expect(ownLines()).toEqual([]);
    restoreSaved(saved); // the saved ruleset back: a jump for the port to old's address
    // ... at boot: the root's sweep was on another boot, so the next attach reads the rules and
    // sweeps (an attach on the boot it swept reads none: rules-swept.ts).
    forgetRulesSwept(state);
    await writePod(
      'heir',
      podYaml(
        'heir',
        'mkdir -p /www && echo hello-from-heir > /www/index.html && exec httpd -f -p 8080 -h /www',
        `      ports: [{containerPort: 8080, hostPort: ${port}}]\n`,
      ),
    );
    const applied = await berth('apply', dir);
    expect([applied.code, applied.stderr]).toEqual([0, '']);
    await until('heir runs', async () => (await pod('heir'))?.phase === 'Running');
    expect(ownLines()).toEqual([]);
    expect(await get(`http://127.0.0.1:${port}/`)).toBe('200 hello-from-heir\n');
    // Restored again under running pods (`netfilter-persistent reload`): the daemon's resync takes it away.
    restoreSaved(saved);
    const daemon = spawnBerth([...flags(), 'daemon', '--manifests', dir, '--resync', '1']);
    const exited = new Promise((r) => daemon.once('exit', (code) => r(code)));
    try {
      await until('the stray rules are gone', async () => ownLines().length === 0);
    } finally {
      daemon.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(await get(`http://${hostAddress()}:${port}/`)).toBe('200 hello-from-heir\n');
    const events = (await berth('events', '--until', '0s')).stdout.split('\n');
    expect(events.filter((l) => l.includes('PortRulesRemoved')).join('\n')).toContain(
      `network ${NET}: published-port rules of pods no longer here (${idOf('old')}) were on the host`,
    );
    await rm(join(dir, 'heir.yaml'));
    expect((await berth('apply', dir)).code).toBe(0);
    expect((await ps()).map((p) => p.name)).toEqual(['client', 'web']);
  }, 120_000);

  it('berth killed mid-setup: the next pass repairs the pod, and removing it leaves nothing of it', async () => {
    const record = join(state, 'network', NET, 'attachments', 'pod-late.json');
    const port = await freePort();
    await writePod(
      'late',
      podYaml('late', 'exec sleep 100000', `      ports: [{containerPort: 81, hostPort: ${port}}]\n`),
    );
    const killed = await runKilled([...flags(), 'apply', dir], {
      kind: 'when',
      what: 'late is being attached',
      holds: () => existsSync(record),
      extraMs: randomInt(0, 40),
    });
    expect(killed.killed).toBe(true);
    const applied = await berth('apply', dir);
    expect([applied.code, applied.stderr]).toEqual([0, '']);
    await until('late runs', async () => (await pod('late')).phase === 'Running');
    const ips = (await ps()).map((p) => p.ip as string).sort();
    expect(ipamFiles()).toEqual(ips);
    await rm(join(dir, 'late.yaml'));
    const removed = await berth('apply', dir);
    expect([removed.code, removed.stderr]).toEqual([0, '']);
    expect(execFileSync('iptables-save').toString()).not.toContain(idOf('late'));
    expect(existsSync(record)).toBe(false);
    expect(ipamFiles()).toEqual((await ps()).map((p) => p.ip as string).sort());
  }, 120_000);

  it('network ls and inspect show who is on the network; a container made with --network bridge joins it and leaves with its address', async () => {
    const soloPort = await freePort();
    const created = await berth(
      ...['container', 'create', image, 'solo', '--network', 'bridge', '-p', `127.0.0.1:${soloPort}:8081`],
      ...[
        '--',
        '/bin/sh',
        '-c',
        'mkdir /www && echo solo > /www/index.html && exec httpd -f -p 8081 -h /www',
      ],
    );
    expect([created.code, created.stderr]).toEqual([0, '']);
    expect((await berth('container', 'start', 'solo')).code).toBe(0);
    const [c, w] = [await pod('client'), await pod('web')];
    const inspected = JSON.parse((await berth('network', 'inspect', NET, '-o', 'json')).stdout) as {
      members: Array<{ name: string; ip: string }>;
    };
    const solo = inspected.members.find((m) => m.name === 'solo')?.ip as string;
    expect(inspected).toEqual({
      name: NET,
      bridge: BRIDGE,
      subnet: SUBNET,
      gateway: GATEWAY,
      configured: true,
      members: [
        {
          kind: 'container',
          name: 'solo',
          state: 'ready',
          ip: solo,
          ips: [solo],
          ports: [{ hostPort: soloPort, containerPort: 8081, protocol: 'tcp', hostIP: '127.0.0.1' }],
        },
        { kind: 'pod', name: 'client', state: 'ready', ip: c.ip, ips: [c.ip], ports: [] },
        { kind: 'pod', name: 'web', state: 'ready', ip: w.ip, ips: [w.ip], ports: w.ports },
      ],
    });
    // Its address is set up beside `runc create`: the hosts file the attach wrote is the one mounted.
    const ownLine = (await exec('solo', 'grep', '-c', `^${solo.replaceAll('.', '\\.')}\tsolo`, '/etc/hosts'))
      .stdout;
    expect(ownLine).toBe('1\n');
    // Its loopback up beside eth0.
    const lo = await exec('solo', 'ip', '-o', 'link', 'show', 'lo');
    expect(lo.stdout).toContain('lo: <LOOPBACK,UP,LOWER_UP>');
    const byName = await wget('solo', 'http://web:8080/');
    expect([byName.code, byName.stdout]).toEqual([0, 'hello-from-web\n']);
    expect(await get(`http://127.0.0.1:${soloPort}/`)).toBe('200 solo\n');
    // Published on 127.0.0.1 only: the host's own address does not lead to it.
    const elsewhere = await get(`http://${hostAddress()}:${soloPort}/`).catch(
      (e: Error) => (e.cause as { code?: string } | undefined)?.code,
    );
    expect(elsewhere).toBe('ECONNREFUSED');
    const ls = await berth('network', 'ls');
    expect(ls.stdout.split('\n')[1]?.split(/\s+/)).toEqual([NET, BRIDGE, SUBNET, GATEWAY, '3', 'yes']);
    // The bridge is not removed from under its pods.
    const busy = await berth('network', 'rm', NET);
    expect([busy.code, busy.stdout, busy.stderr]).toEqual([
      4,
      '',
      `berth: ERR_NETWORK_IN_USE: network ${NET} is in use: 3 on it: container solo, pod client, pod web (remove the pods and containers on it first)\n`,
    ]);
    expect((await berth('container', 'rm', '--force', 'solo')).code).toBe(0);
    const after = JSON.parse((await berth('network', 'inspect', NET, '-o', 'json')).stdout) as {
      members: Array<{ name: string }>;
    };
    expect(after.members.map((m) => m.name)).toEqual(['client', 'web']);
    expect(ipamFiles()).toEqual([c.ip, w.ip].sort());
  }, 60_000);

  it("a container made with --network container:POD_CONTAINER joins that pod's namespace (its loopback, its address)", async () => {
    const created = await berth(
      'container',
      'create',
      image,
      'side',
      '--network',
      'container:web_main',
      '--',
      'sleep',
      '100',
    );
    expect([created.code, created.stderr]).toEqual([0, '']);
    try {
      expect((await berth('container', 'start', 'side')).code).toBe(0);
      const viaLoopback = await wget('side', 'http://127.0.0.1:8080/');
      expect([viaLoopback.code, viaLoopback.stdout]).toEqual([0, 'hello-from-web\n']);
      const addr = await exec('side', 'ip', '-4', '-o', 'addr', 'show', 'eth0');
      expect(addr.stdout).toContain(` ${(await pod('web')).ip}/`);
    } finally {
      await berth('container', 'rm', '--force', 'side');
    }
  }, 60_000);

  it('a pod cannot reach a service the host keeps on loopback, nor the API socket', async () => {
    const secret = createServer((_, res) => res.end('secret'));
    servers.push(secret);
    await new Promise<void>((r) => secret.listen(0, '127.0.0.1', r));
    const port = (secret.address() as { port: number }).port;
    const viaGateway = await exec(
      'client_main',
      'timeout',
      '3',
      'wget',
      '-q',
      '-O',
      '-',
      `http://${GATEWAY}:${port}/`,
    );
    expect(viaGateway.code).not.toBe(0);
    expect(viaGateway.stdout).toBe('');
    const sock = await exec('client_main', 'ls', join(state, 'berth.sock'));
    expect(sock.code).not.toBe(0);
    // The guard against route_localnet (CVE-2020-8558) is in place while the bridge is.
    expect(execFileSync('iptables', ['-S', 'INPUT']).toString()).toContain(
      `-A INPUT -d 127.0.0.0/8 -i ${BRIDGE} -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -m comment --comment "berth network ${NET}" -j DROP`,
    );
  }, 60_000);

  it('network rm leaves a bridge berth did not make (as docker0 or virbr0 would be): only its rules go', async () => {
    const own = `bp${randomBytes(3).toString('hex')}`;
    const name = `np-${randomBytes(3).toString('hex')}`;
    const subnet = `10.${randomInt(100, 250)}.${randomInt(0, 256)}.0/24`;
    const w = await mkdtemp(join(tmpdir(), 'berth-prebridge-'));
    const cfg = join(w, 'config.yaml');
    await writeFile(cfg, `network: {name: ${name}, bridge: ${own}, subnet: ${subnet}}\n`);
    const b = (...args: string[]) =>
      runBerth(['--root', join(w, 'root'), '--state', join(w, 'state'), '--config', cfg, ...args]);
    execFileSync('ip', ['link', 'add', own, 'type', 'bridge']);
    try {
      await mkdir(join(w, 'm'));
      await writeFile(join(w, 'm', 'p.yaml'), idle('pre'));
      expect((await b('apply', join(w, 'm'))).code).toBe(0);
      await rm(join(w, 'm', 'p.yaml'));
      expect((await b('apply', join(w, 'm'))).code).toBe(0);
      const removed = await b('network', 'rm', name);
      expect([removed.code, removed.stderr]).toEqual([0, '']);
      expect(execFileSync('ip', ['-br', 'link', 'show', own]).toString()).toContain(own);
      expect(execFileSync('iptables-save').toString()).not.toContain(`"berth network ${name}"`);
    } finally {
      execFileSync('ip', ['link', 'del', own]);
      await removeBridgeLockFile(own);
      await rm(w, { recursive: true, force: true });
    }
  }, 120_000);

  it('a subnet the host already routes elsewhere (a LAN on a veth) is refused before any bridge is made', async () => {
    const lan = `dl${randomBytes(3).toString('hex')}`;
    const octets = `10.${randomInt(100, 250)}.${randomInt(0, 256)}`;
    const w = await mkdtemp(join(tmpdir(), 'berth-overlap-'));
    const cfg = join(w, 'config.yaml');
    const own = `bo${randomBytes(3).toString('hex')}`;
    await writeFile(cfg, `network: {name: no-${own}, bridge: ${own}, subnet: ${octets}.0/25}\n`);
    const b = (...args: string[]) =>
      runBerth(['--root', join(w, 'root'), '--state', join(w, 'state'), '--config', cfg, ...args]);
    execFileSync('ip', ['link', 'add', lan, 'type', 'veth', 'peer', 'name', `${lan}p`]);
    execFileSync('ip', ['addr', 'add', `${octets}.2/24`, 'dev', lan]);
    for (const l of [lan, `${lan}p`]) execFileSync('ip', ['link', 'set', l, 'up']);
    try {
      await mkdir(join(w, 'm'));
      await writeFile(join(w, 'm', 'p.yaml'), idle('lan'));
      expect((await b('apply', join(w, 'm'))).code).toBe(1);
      const view = (JSON.parse((await b('ps', '-o', 'json')).stdout) as PodView[])[0];
      expect(view?.lastError ?? view?.containers[0]?.lastError).toBe(
        `ERR_NETWORK_CONFIG: network no-${own}: subnet ${octets}.0/25 overlaps ${octets}.0/24, which the host routes through ${lan} (give network.subnet in the host config a range the host does not use)`,
      );
      expect(existsSync(`/sys/class/net/${own}`)).toBe(false);
      expect(execFileSync('ip', ['-4', 'route', 'show', 'dev', lan]).toString()).toContain(`${octets}.0/24`);
      await rm(join(w, 'm', 'p.yaml'));
      expect((await b('apply', join(w, 'm'))).code).toBe(0);
    } finally {
      execFileSync('ip', ['link', 'del', lan]);
      await removeBridgeLockFile(own);
      await rm(w, { recursive: true, force: true });
    }
  }, 120_000);
});
