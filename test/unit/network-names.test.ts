// The pure parts of pod networking: hosts and resolv.conf text, published ports and their
// conflicts, network settings, and which pod waits for a host port in the plan.
import { describe, expect, it } from 'vitest';
import type { PodManifest } from '../../src/manifest/kinds.js';
import { portmapChainOf } from '../../src/network/conflist.js';
import { hostsFileText, resolvConfText } from '../../src/network/names.js';
import { podNetworkOf } from '../../src/network/pod-network.js';
import {
  findDuplicatePort,
  findPortConflict,
  type PortMapping,
  parsePublish,
  publishedPorts,
} from '../../src/network/ports.js';
import { checkNetworkSettings, gatewayOf } from '../../src/network/settings.js';
import type { DesiredPod } from '../../src/reconcile/desired.js';
import { planPortWaits } from '../../src/reconcile/plan-ports.js';
import { checkSandbox, type ObservedSandbox } from '../../src/reconcile/sandbox.js';

const tcp = (hostPort: number, hostIP = ''): PortMapping => ({
  hostPort,
  containerPort: 80,
  protocol: 'tcp',
  hostIP,
});

describe('hosts file', () => {
  it('own name first, then the other pods by name, then hostAliases; a peer never shadows its own name', () => {
    expect(
      hostsFileText(
        { ip: '10.0.0.2', names: ['web', 'www'] },
        [
          { ip: '10.0.0.4', names: ['zed'] },
          { ip: '10.0.0.3', names: ['api', 'web'] },
        ],
        [{ ip: '10.1.2.3', names: ['db'] }],
      ),
    ).toBe(
      '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n10.0.0.2\tweb www\n' +
        '# pods on this network\n10.0.0.3\tapi\n10.0.0.4\tzed\n# hostAliases\n10.1.2.3\tdb\n',
    );
  });
});

describe('resolv.conf', () => {
  const host =
    'nameserver 127.0.0.53\nnameserver ::1\nnameserver 192.0.2.1 # lan\nsearch lan\noptions edns0 ndots:1\n';
  it.each([
    [
      'Default: the host minus loopback resolvers',
      {},
      'nameserver 192.0.2.1\nsearch lan\noptions edns0 ndots:1\n',
    ],
    [
      'dnsConfig adds nameservers and searches and overrides options',
      {
        nameservers: ['192.0.2.9'],
        searches: ['example.test'],
        options: [{ name: 'ndots', value: '5' }, { name: 'rotate' }],
      },
      'nameserver 192.0.2.1\nnameserver 192.0.2.9\nsearch lan example.test\noptions edns0 ndots:5 rotate\n',
    ],
    [
      'None: only dnsConfig',
      { policy: 'None' as const, nameservers: ['192.0.2.9'] },
      'nameserver 192.0.2.9\n',
    ],
  ])('%s', (_, dns, text) => {
    expect(resolvConfText(host, dns)).toBe(text);
  });
  it('a host with only loopback resolvers gets the public fallback, as Docker does', () => {
    expect(resolvConfText('nameserver 127.0.0.53\n', {})).toBe('nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  });
  it("a hostNetwork pod keeps the host's loopback resolver (it is reachable there), with its dnsConfig", () => {
    expect(resolvConfText('nameserver 127.0.0.53\nsearch lan\n', { searches: ['pods.lan'] }, true)).toBe(
      'nameserver 127.0.0.53\nsearch lan pods.lan\n',
    );
  });
});

describe('published ports', () => {
  it('only ports with a hostPort are published; protocol lower-cased, TCP by default', () => {
    expect(
      publishedPorts([
        { containerPort: 80 },
        { containerPort: 53, hostPort: 5353, protocol: 'UDP', hostIP: '127.0.0.1' },
        { containerPort: 8080, hostPort: 8080 },
      ]),
    ).toEqual([
      { hostPort: 5353, containerPort: 53, protocol: 'udp', hostIP: '127.0.0.1' },
      { hostPort: 8080, containerPort: 8080, protocol: 'tcp', hostIP: '' },
    ]);
  });
  it.each([
    ['same port, both on every address', [tcp(80)], [tcp(80)], 'a'],
    ['every address against one', [tcp(80)], [tcp(80, '127.0.0.1')], 'a'],
    ['two different addresses', [tcp(80, '127.0.0.2')], [tcp(80, '127.0.0.1')], undefined],
    ['another protocol', [{ ...tcp(80), protocol: 'udp' as const }], [tcp(80)], undefined],
    ['another port', [tcp(81)], [tcp(80)], undefined],
    // 0.0.0.0 is every IPv4 address (portmap adds no -d for it), not one address to compare as text.
    ['0.0.0.0 against one address', [tcp(80, '0.0.0.0')], [tcp(80, '10.0.0.5')], 'a'],
    ['one address against 0.0.0.0', [tcp(80, '127.0.0.1')], [tcp(80, '0.0.0.0')], 'a'],
  ])('%s', (_, mine, theirs, owner) => {
    expect(findPortConflict(mine, [{ owner: 'a', ports: theirs }])?.owner).toBe(owner);
  });
  it('a pod asking twice for one port', () => {
    expect(findDuplicatePort([tcp(80), tcp(81), tcp(80, '127.0.0.1')])).toEqual(tcp(80));
    expect(findDuplicatePort([tcp(80, '127.0.0.1'), tcp(80, '0.0.0.0')])).toEqual(tcp(80, '127.0.0.1'));
  });
  it('one container with 40k hostPorts: the one asked twice found in linear time', () => {
    // Each port was compared with a copy of all after it: 25 s here, on the daemon's only thread.
    const ports = Array.from({ length: 40_000 }, (_, i) => tcp(1 + i, '127.0.0.1'));
    expect(findDuplicatePort(ports)).toBeUndefined();
    expect(findDuplicatePort([...ports, tcp(39_999)])).toEqual(tcp(39_999, '127.0.0.1'));
  }, 10_000);
});

describe('--publish', () => {
  it.each([
    ['8080:80', { hostPort: 8080, containerPort: 80, protocol: 'tcp', hostIP: '' }],
    ['127.0.0.1:5353:53/udp', { hostPort: 5353, containerPort: 53, protocol: 'udp', hostIP: '127.0.0.1' }],
    ['70000:80', undefined],
    ['0:80', undefined],
    ['80', undefined],
    ['a:80:80', undefined],
    ['80:80/icmp', undefined],
  ])('%s', (text, want) => {
    expect(parsePublish(text)).toEqual(want);
  });
});

describe('network settings', () => {
  it.each([
    [{ name: 'berth', bridge: 'berth0', subnet: '10.89.0.1/16' }, 'ERR_NETWORK_CONFIG'],
    [{ name: 'berth', bridge: 'a-bridge-name-too-long', subnet: '10.89.0.0/16' }, 'ERR_NETWORK_CONFIG'],
    [{ name: 'berth', bridge: '../x', subnet: '10.89.0.0/16' }, 'ERR_NETWORK_CONFIG'],
    [{ name: 'berth', bridge: 'berth0', subnet: '10.89.0.0/31' }, 'ERR_NETWORK_CONFIG'],
    [{ name: 'berth', bridge: 'berth0', subnet: '300.1.0.0/16' }, 'ERR_NETWORK_CONFIG'],
  ])('%j is refused', (s, code) => {
    expect(() => checkNetworkSettings(s)).toThrow(expect.objectContaining({ code }));
  });
  it('the gateway is the first address', () => {
    expect(gatewayOf('10.89.0.0/16')).toBe('10.89.0.1');
  });
});

describe('plan: who waits for a host port', () => {
  const pod = (name: string, ports: PortMapping[]) =>
    ({
      name,
      network: { ports, names: [name], aliases: [], hostsFile: '', dns: {} },
    }) as unknown as DesiredPod;
  it('400 pods of 250 host ports each (100k): planned in linear time, a clash still naming its holder', () => {
    // Each pod's ports were compared with every port claimed before it: 5e9 comparisons.
    const pods = Array.from({ length: 400 }, (_, i) =>
      pod(
        `p${String(i).padStart(3, '0')}`,
        Array.from({ length: 250 }, (_, j) => tcp(1000 + j, `10.0.${i >> 8}.${i & 255}`)),
      ),
    );
    const waits = planPortWaits([...pods, pod('zz', [tcp(50_000), tcp(1000)])], new Map());
    expect([...waits]).toEqual([
      ['zz', 'zz: ERR_PORT_CONFLICT: host port 0.0.0.0:1000/tcp is already published by pod p000'],
    ]);
  }, 10_000);
  it('the pod already on the network keeps its port; a newcomer waits, naming it', () => {
    const waits = planPortWaits(
      [pod('a', [tcp(80)]), pod('z', [tcp(80)])],
      new Map([['z', { netns: true, volumes: {}, network: { state: 'ready' as const, ports: [tcp(80)] } }]]),
    );
    expect([...waits]).toEqual([
      ['a', 'a: ERR_PORT_CONFLICT: host port 0.0.0.0:80/tcp is already published by pod z'],
    ]);
  });
  it("a port another berth root's pod holds: the pod waits, naming that pod and its root; one that holds its port keeps it", () => {
    const other = [{ owner: 'pod web of the berth root with --state /run/b', ports: [tcp(80)] }];
    const waits = planPortWaits(
      [pod('a', [tcp(80)]), pod('kept', [tcp(80)]), pod('m', [tcp(81)])],
      new Map([
        ['kept', { netns: true, volumes: {}, network: { state: 'ready' as const, ports: [tcp(80)] } }],
      ]),
      other,
    );
    expect([...waits]).toEqual([
      [
        'a',
        'a: ERR_PORT_CONFLICT: host port 0.0.0.0:80/tcp is already published by pod web of the berth root with --state /run/b',
      ],
    ]);
  });
  it('with nobody on the network (after a reboot), name order decides, every time', () => {
    const waits = planPortWaits([pod('z', [tcp(80)]), pod('a', [tcp(80)]), pod('m', [tcp(81)])], new Map());
    expect([...waits]).toEqual([
      ['z', 'z: ERR_PORT_CONFLICT: host port 0.0.0.0:80/tcp is already published by pod a'],
    ]);
  });
});

describe('portmap chain name', () => {
  it('is the one the plugin makes (seen on a host: network tryn, container berth-pod-a)', () => {
    expect(portmapChainOf('tryn', 'berth-pod-a')).toBe('CNI-DN-fae8764aec211a7aca4f5');
  });
});

describe("a pod's network from its manifest", () => {
  const manifest = (spec: object, annotations?: Record<string, string>) =>
    ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', ...(annotations ? { annotations } : {}) },
      spec: {
        containers: [{ name: 'main', image: 'busybox', ports: [{ containerPort: 80, hostPort: 8080 }] }],
        ...spec,
      },
    }) as PodManifest;
  it('bridge by default: ports, names, aliases, hosts file, DNS', () => {
    expect(
      podNetworkOf(
        manifest({
          hostname: 'www',
          hostAliases: [{ ip: '10.1.2.3', hostnames: ['db'] }, { ip: '10.9.9.9' }],
          dnsPolicy: 'None',
        }),
        '/r/pods/web',
      ),
    ).toEqual({
      ports: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp', hostIP: '' }],
      names: ['web', 'web.default', 'www'],
      aliases: [{ ip: '10.1.2.3', names: ['db'] }],
      hostsFile: '/r/pods/web/hosts',
      dns: { policy: 'None' },
    });
  });
  it.each([
    [
      'a hostPort on a loopback-only pod',
      manifest({}, { 'berth.dev/network': 'none' }),
      'needs the bridge network',
    ],
    [
      'a hostPort other than the containerPort on the host network',
      manifest({ hostNetwork: true }),
      'must equal containerPort 80',
    ],
    [
      'an unknown network annotation',
      manifest({}, { 'berth.dev/network': 'macvlan' }),
      'must be bridge or none',
    ],
  ])('%s is an error', (_, pod, message) => {
    expect(() => podNetworkOf(pod, '/r/pods/web')).toThrow(message);
  });
  it("a network annotation left blank (a chart's unset value) is the bridge network, as none given", () => {
    expect(podNetworkOf(manifest({}, { 'berth.dev/network': '' }), '/r/pods/web')?.hostsFile).toBe(
      '/r/pods/web/hosts',
    );
  });
});

describe('a sandbox on the network is whole only as the pod asks', () => {
  const want = {
    ports: [tcp(80)],
    names: ['web'],
    aliases: [{ ip: '10.1.2.3', names: ['db'] }],
    hostsFile: '',
    dns: {},
  };
  const pod = {
    name: 'web',
    netnsPath: '/s/netns/pod-web',
    podDirs: [],
    hostPaths: [],
    network: want,
  } as unknown as DesiredPod;
  const seen = (network: object) => ({
    netns: true,
    volumes: {},
    network: { state: 'ready' as const, ...network },
  });
  it.each([
    ['as asked', { ports: [tcp(80)], names: ['web'], aliases: want.aliases }, 'whole'],
    ['a record from before names were kept', { ports: [tcp(80)] }, 'whole'],
    ['another port', { ports: [tcp(81)], names: ['web'], aliases: want.aliases }, 'broken'],
    [
      'other hostAliases (a new pod, as in Kubernetes)',
      { ports: [tcp(80)], names: ['web'], aliases: [] },
      'broken',
    ],
    ['setup killed mid-way', { state: 'adding', ports: [tcp(80)] }, 'broken'],
  ])('%s', (_, network, check) => {
    expect(checkSandbox(pod, seen(network) as ObservedSandbox)).toBe(check);
  });
});
