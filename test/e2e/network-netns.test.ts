// Pod networking seen from outside the host, as root: berth (apply and daemon, with its own --root,
// --state and --config) runs inside a network namespace this test makes (the "host", where
// net.ipv4.ip_forward is set to 0, with no iptables rules and no bridge), joined by a veth to a
// second namespace standing in for the outside world. So the test can show, without touching the
// real host's network: ip_forward turned on, outbound NAT (a listener outside sees the pod's
// traffic from the host's address), a hostPort reached from outside, a containerPort without a
// hostPort not published, SCTP ports published, a fresh host's port clash decided by name order,
// host services on all addresses reached on the bridge address, and network probes going to a
// bridge pod's address (and failing with a reason for a pod that has none), resolv.conf when
// the host has only loopback resolvers (helpers/netns.ts: berth's /sys/class/net and /etc/resolv.conf
// are the namespace's and the test's), and another root run with the real host's /sys refusing to
// remove the network (berth asks netlink for the bridge's ports). The image is pulled
// in the real host's namespace (the loopback registry is there); both namespaces go in afterAll.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PodView } from '../../src/reconcile/pod-views.js';
import { CLI, type CliResult, runCollected, testEnv, withTestConfig } from '../helpers/cli.js';
import { type E2eHost, setUpE2eHost, tearDownE2eHost } from '../helpers/e2e-host.js';
import { cleanUpHost } from '../helpers/host-cleanup.js';
import { getFrom, inNs, nsPath, serveIn, startHolder } from '../helpers/netns.js';
import { keptNetworkRules, removeBridgeLockFile } from '../helpers/network-kept.js';
import { BRIDGE_POD_PREREQS, missingPrereqs } from '../helpers/prereqs.js';

const skip = missingPrereqs([...BRIDGE_POD_PREREQS, 'nsenter'], { root: true });

const tag = randomBytes(3).toString('hex');
const HOST_NS = `bnh-${tag}`; // the namespace berth runs in: "the host"
const OUT_NS = `bno-${tag}`; // "the outside"
const NET = `nn-${tag}`;
const BRIDGE = `bn${tag}`;
const SUBNET = `10.${randomInt(100, 250)}.${randomInt(0, 256)}.0/24`;
const GATEWAY = SUBNET.replace(/0\/24$/, '1');
const LINK = `172.31.${randomInt(0, 256)}`;
const HOST_ADDR = `${LINK}.1`; // the host's address on the link to the outside
const OUT_ADDR = `${LINK}.2`;

/** The host's resolv.conf in the holder's namespace (printf's escapes): loopback resolvers only, as on a
 * systemd-resolved host; no pod can reach them. */
const LOOPBACK_RESOLV = 'nameserver 127.0.0.53\\nnameserver ::1\\nsearch lan\\n';

/** The real host's view of this test: its namespaces, links and iptables lines naming them. */
function hostFootprint() {
  const names = [HOST_NS, OUT_NS, BRIDGE, NET, SUBNET, LINK];
  const has = (text: string) => text.split('\n').filter((l) => names.some((n) => l.includes(n)));
  return {
    netns: has(execFileSync('ip', ['netns', 'list']).toString()),
    links: has(execFileSync('ip', ['-o', 'link']).toString()),
    rules: has(execFileSync('iptables-save').toString()),
  };
}

describe.skipIf(skip)('pod networking seen from outside the host (berth in a network namespace)', () => {
  let h: E2eHost;
  let config: string;
  let before: ReturnType<typeof hostFootprint>;
  let daemon: ChildProcess | undefined;
  let holder: ChildProcess | undefined;
  const servers: ChildProcess[] = [];
  const webPort = randomInt(20_000, 30_000);
  const clashPort = webPort + 1;
  const sctpPort = webPort + 2;
  const anyAddrPort = webPort + 3;
  const outPort = webPort + 4;

  /**
   * The berth CLI run in the host namespace: its network and the holder's mounts (the holder's
   * /sys/class/net shows the namespace's links, as berth reads them there), with this test's root,
   * state and network.
   */
  const berthArgv = (...args: string[]) => [
    '-t',
    String(holder?.pid),
    '-m',
    '-n',
    process.execPath,
    CLI,
    ...withTestConfig(['--root', h.root, '--state', h.state, '--config', config, ...args]),
  ];
  const berth = (...args: string[]): Promise<CliResult> =>
    runCollected('nsenter', berthArgv(...args), testEnv());
  /** Mounts under the test's directory in the holder's mount namespace (its sysfs aside). */
  const holderMounts = () =>
    execFileSync('nsenter', ['-t', String(holder?.pid), '-m', 'findmnt', '-rn', '-o', 'TARGET'])
      .toString()
      .split('\n')
      .filter((m) => m.startsWith(h.work) && m !== join(h.work, 'sys'));
  /** A GET from the web pod's container (busybox wget, 5 s bound). */
  const wgetFromWeb = (url: string) =>
    berth('container', 'exec', 'web_main', '--', 'timeout', '5', 'wget', '-q', '-O', '-', url);
  const ps = async () => JSON.parse((await berth('ps', '-o', 'json')).stdout) as PodView[];
  const pod = async (name: string) => (await ps()).find((p) => p.name === name);
  const until = async <T>(what: string, probe: () => Promise<T | undefined | false>, ms = 30_000) => {
    const end = Date.now() + ms;
    for (;;) {
      const got = await probe();
      if (got) return got;
      if (Date.now() > end) throw new Error(`never: ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const writePod = (name: string, text: string) => writeFile(join(h.dir, `${name}.yaml`), text);
  const podYaml = (name: string, command: string, container = '', spec = '', meta = '') => `apiVersion: v1
kind: Pod
metadata: {name: ${name}${meta}}
spec:
  terminationGracePeriodSeconds: 0
${spec}  containers:
    - name: main
      image: ${h.image}
      command: ["/bin/sh", "-c", ${JSON.stringify(command)}]
${container}`;
  const forward = () => inNs(HOST_NS, 'cat', '/proc/sys/net/ipv4/ip_forward').trim();
  const natRules = () => inNs(HOST_NS, 'iptables-save', '-t', 'nat').split('\n');

  beforeAll(async () => {
    h = await setUpE2eHost('netns');
    config = join(h.work, 'config.yaml');
    await writeFile(config, `network: {name: ${NET}, bridge: ${BRIDGE}, subnet: ${SUBNET}}\n`);
    before = hostFootprint();
    // The image comes from the loopback registry, which only the real host's namespace reaches.
    expect((await h.berth('image', 'pull', h.image)).code).toBe(0);
    execFileSync('ip', ['netns', 'add', HOST_NS]);
    execFileSync('ip', ['netns', 'add', OUT_NS]);
    execFileSync('ip', [
      'link',
      'add',
      `vh${tag}`,
      'netns',
      HOST_NS,
      'type',
      'veth',
      'peer',
      'name',
      `vo${tag}`,
      'netns',
      OUT_NS,
    ]);
    for (const [ns, dev, addr] of [
      [HOST_NS, `vh${tag}`, HOST_ADDR],
      [OUT_NS, `vo${tag}`, OUT_ADDR],
    ] as const) {
      inNs(ns, 'ip', 'link', 'set', 'lo', 'up');
      inNs(ns, 'ip', 'addr', 'add', `${addr}/24`, 'dev', dev);
      inNs(ns, 'ip', 'link', 'set', dev, 'up');
    }
    // A new namespace copies the real host's forwarding (on here, as on most hosts with containers):
    // off in this one, so only berth can turn it on.
    inNs(HOST_NS, 'sysctl', '-qw', 'net.ipv4.ip_forward=0');
    holder = await startHolder(HOST_NS, h.work, LOOPBACK_RESOLV);
  }, 180_000);

  afterAll(async () => {
    if (daemon && daemon.exitCode === null) {
      const exited = new Promise((r) => daemon?.once('exit', r));
      daemon.kill('SIGTERM');
      await exited;
    }
    for (const s of servers) if (s.exitCode === null) s.kill('SIGTERM');
    const inside = holder
      ? await cleanUpHost({ berth, work: h.work, folders: [h.dir], forceFirst: true })
      : undefined;
    const mountsLeft = holder ? holderMounts() : [];
    // Every pod gone: the network's own rules are kept (berth keeps a bridge between pods); rm takes them.
    const ours = () => natRules().filter((l) => l.includes(`berth network ${NET}`));
    const kept = holder ? ours() : [];
    const removed = holder ? await berth('network', 'rm', NET) : undefined;
    const rulesLeft = holder ? ours() : [];
    if (holder && holder.exitCode === null) {
      const gone = new Promise((r) => holder?.once('exit', r));
      holder.kill('SIGKILL');
      await gone;
    }
    for (const ns of [HOST_NS, OUT_NS])
      if (existsSync(nsPath(ns))) execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' }); // a setup that failed early made fewer
    await removeBridgeLockFile(BRIDGE);
    const { left, leaked } = await tearDownE2eHost(h);
    expect(inside).toEqual({ left: [], leaked: [] });
    if (holder) {
      expect(kept).toEqual(
        keptNetworkRules(NET, BRIDGE, SUBNET).filter(
          (l) => l.includes('POSTROUTING') || l.includes('-A BERTH-MARK'),
        ),
      );
      expect([removed?.code, removed?.stdout, removed?.stderr]).toEqual([0, `${NET}\n`, '']);
    }
    expect([left, leaked, mountsLeft, rulesLeft]).toEqual([[], [], [], []]);
    expect(hostFootprint()).toEqual(before);
  });

  it('turns ip_forward on, NATs pods to the outside, publishes only hostPorts (SCTP too), reachable from outside', async () => {
    expect(forward()).toBe('0');
    const outside = await serveIn(OUT_NS, OUT_ADDR, outPort);
    servers.push(outside);
    await writePod(
      'web',
      podYaml(
        'web',
        'mkdir -p /www && echo hello-from-web > /www/index.html && httpd -p 9090 -h /www && exec httpd -f -p 8080 -h /www',
        `      ports: [{containerPort: 8080, hostPort: ${webPort}}, {containerPort: 9090}, ` +
          `{containerPort: 7000, hostPort: ${sctpPort}, protocol: SCTP}]\n`,
      ),
    );
    expect((await berth('apply', h.dir)).code).toBe(0);
    const web = await until('web runs', async () => {
      const p = await pod('web');
      return p?.phase === 'Running' && p;
    });
    expect(web.ports).toEqual([
      { hostPort: webPort, containerPort: 8080, protocol: 'tcp', hostIP: '' },
      { hostPort: sctpPort, containerPort: 7000, protocol: 'sctp', hostIP: '' },
    ]);
    // N2f: the host namespace forwarded nothing before berth's first pod.
    expect(forward()).toBe('1');
    // N2n: the outside sees the pod's traffic from the host's address (MASQUERADE): the outside
    // has no route to the pod subnet, so without NAT nothing would come back.
    const out = await wgetFromWeb(`http://${OUT_ADDR}:${outPort}/`);
    expect([out.code, out.stdout]).toEqual([0, `from ${HOST_ADDR}`]);
    // N5o: the hostPort from outside, on the host's address.
    expect(await getFrom(OUT_NS, `http://${HOST_ADDR}:${webPort}/`)).toBe('hello-from-web\n');
    // N6: 9090 is served in the pod (reached on its own address) but has no hostPort: not published.
    expect(await getFrom(HOST_NS, `http://${web.ip}:9090/`)).toBe('hello-from-web\n');
    expect(await getFrom(OUT_NS, `http://${HOST_ADDR}:9090/`)).toBe('ERR ECONNREFUSED');
    // N5p: this kernel has no SCTP sockets (CONFIG_IP_SCTP unset), so no SCTP traffic can be made;
    // the published SCTP port is the DNAT rule portmap made for it (netfilter matches SCTP).
    const dnat = natRules().filter((l) => /^-A CNI-DN-\S+ .*-j DNAT/.test(l));
    expect(
      dnat
        .map(
          (l) =>
            `${/-p (\w+)/.exec(l)?.[1]} ${/--dport (\d+)/.exec(l)?.[1]} ${/--to-destination (\S+)/.exec(l)?.[1]}`,
        )
        .sort(),
    ).toEqual([`sctp ${sctpPort} ${web.ip}:7000`, `tcp ${webPort} ${web.ip}:8080`].sort());
  }, 90_000);

  it("another berth root in the namespace, seeing the real host's /sys: network rm is refused while a pod is on the bridge", async () => {
    // No holder: the host namespace's network with the real host's mounts, so /sys/class/net shows
    // the real host's links (no bridge there). The other root has no record on the network, so only
    // the bridge's ports can refuse; read from sysfs they were "no bridge", and the network's rules
    // went from under the running web pod.
    const other = join(h.work, 'other-root');
    const rulesBefore = natRules().filter((l) => l.includes(`berth network ${NET}`));
    const r = await runCollected(
      'nsenter',
      [
        `--net=${nsPath(HOST_NS)}`,
        process.execPath,
        CLI,
        ...withTestConfig([
          '--root',
          join(other, 'root'),
          '--state',
          join(other, 'state'),
          '--config',
          config,
        ]),
        ...['network', 'rm', NET],
      ],
      testEnv(),
    );
    expect([r.code, r.stdout, r.stderr]).toEqual([
      4,
      '',
      `berth: ERR_NETWORK_IN_USE: network ${NET} is in use: bridge ${BRIDGE} still has veths of another berth root or tool (remove the pods and containers on it first)\n`,
    ]);
    expect(rulesBefore).toEqual(
      keptNetworkRules(NET, BRIDGE, SUBNET).filter(
        (l) => l.includes('POSTROUTING') || l.includes('-A BERTH-MARK'),
      ),
    );
    expect(natRules().filter((l) => l.includes(`berth network ${NET}`))).toEqual(rulesBefore);
    expect(await getFrom(OUT_NS, `http://${HOST_ADDR}:${webPort}/`)).toBe('hello-from-web\n');
  }, 30_000);

  it('on a fresh host two pods asking for one port: name order decides', async () => {
    // Written in reverse name order, so neither the files' order nor the writes' decides.
    for (const name of ['clash-b', 'clash-a'])
      await writePod(
        name,
        podYaml(name, 'exec sleep 100000', `      ports: [{containerPort: 80, hostPort: ${clashPort}}]\n`),
      );
    expect((await berth('apply', h.dir)).code).toBe(0);
    const [a, b] = [await pod('clash-a'), await pod('clash-b')];
    expect([a?.phase, a?.waiting, b?.phase, b?.waiting]).toEqual([
      'Running',
      null,
      'Pending',
      `clash-b: ERR_PORT_CONFLICT: host port 0.0.0.0:${clashPort}/tcp is already published by pod clash-a`,
    ]);
    for (const name of ['clash-a', 'clash-b']) await rm(join(h.dir, `${name}.yaml`));
    expect((await berth('apply', h.dir)).code).toBe(0);
  }, 60_000);

  it('a host service bound to all addresses is reached from a pod on the bridge address', async () => {
    servers.push(await serveIn(HOST_NS, '0.0.0.0', anyAddrPort));
    const got = await wgetFromWeb(`http://${GATEWAY}:${anyAddrPort}/`);
    const web = await pod('web');
    expect([got.code, got.stdout]).toEqual([0, `from ${web?.ip}`]);
  }, 30_000);

  it('resolv.conf: the public fallback when the host has only loopback resolvers; dnsPolicy None takes dnsConfig alone', async () => {
    await writePod(
      'dns-none',
      podYaml(
        'dns-none',
        'exec sleep 100000',
        '',
        '  dnsPolicy: None\n  dnsConfig: {nameservers: [192.0.2.53], searches: [example.test], options: [{name: ndots, value: "2"}]}\n',
      ),
    );
    expect((await berth('apply', h.dir)).code).toBe(0);
    const resolv = async (container: string) => {
      const r = await berth('container', 'exec', container, '--', 'cat', '/etc/resolv.conf');
      return [r.code, r.stdout];
    };
    expect(await resolv('web_main')).toEqual([0, 'nameserver 8.8.8.8\nnameserver 8.8.4.4\nsearch lan\n']);
    expect(await resolv('dns-none_main')).toEqual([
      0,
      'nameserver 192.0.2.53\nsearch example.test\noptions ndots:2\n',
    ]);
    await rm(join(h.dir, 'dns-none.yaml'));
    expect((await berth('apply', h.dir)).code).toBe(0);
  }, 60_000);

  it('under the daemon network probes go to a bridge pod address; a pod with none says so', async () => {
    await writePod(
      'probed',
      podYaml(
        'probed',
        'mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www',
        '      readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1, failureThreshold: 1}\n',
      ),
    );
    await writePod(
      'lonely',
      podYaml(
        'lonely',
        'exec sleep 100000',
        '      readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1, failureThreshold: 1}\n',
        '',
        ', annotations: {berth.dev/network: none}',
      ),
    );
    daemon = spawn('nsenter', berthArgv('daemon', '--manifests', h.dir, '--resync', '1'), {
      env: testEnv(),
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const probed = await until('probed is ready', async () => {
      const p = await pod('probed');
      return p?.ready === '1/1' && p;
    });
    expect(probed.containers[0]?.lastProbe).toMatchObject({
      probe: 'readiness',
      ok: true,
      message: 'HTTP 200',
    });
    const lonely = await until('lonely probed', async () => {
      const p = await pod('lonely');
      return p?.containers[0]?.lastProbe && p;
    });
    expect([lonely.ip, lonely.ready, lonely.containers[0]?.lastProbe]).toMatchObject([
      null,
      '0/1',
      { probe: 'readiness', ok: false, message: 'the pod has no address to probe' },
    ]);
  }, 60_000);
});
