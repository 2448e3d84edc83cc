// A bridge berth did not make (docker0, virbr0, an administrator's) named in the host config, as
// root with the real CNI plugins, namespaces only: a pod's published port sets route_localnet on it
// (berth's port rules and portmap both do, so 127.0.0.1:hostPort works), which lets packets from
// the bridge reach the host's 127.0.0.0/8, and berth's guard against that goes with its rules at
// `network rm`, which leaves such a bridge in place. It was left at 1, so the bridge's other users
// (Docker's containers, libvirt's guests) reached the host's loopback-only services (CVE-2020-8558);
// `network rm` now puts back the value the bridge had before berth's first attach on it.
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createNetworkAdapter } from '../../src/network/adapter.js';
import { createNetns, removeNetns } from '../../src/runtime/netns.js';
import { freePort } from '../helpers/free-port.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(
  [
    'iptables',
    'iptables-save',
    'iptables-restore',
    'ip',
    'unshare',
    '/usr/lib/cni/bridge',
    '/usr/lib/cni/portmap',
  ],
  { root: true },
);

describe.skipIf(skip)('a bridge berth did not make', () => {
  it("gets back its route_localnet at network rm, after a pod's published port set it", async () => {
    const bridge = `bf${randomBytes(3).toString('hex')}`;
    const name = `nf-${randomBytes(3).toString('hex')}`;
    const subnet = `10.${randomInt(100, 250)}.${randomInt(0, 256)}.0/24`;
    const work = await mkdtemp(join(tmpdir(), 'berth-foreign-bridge-'));
    const localnet = () => readFileSync(`/proc/sys/net/ipv4/conf/${bridge}/route_localnet`, 'utf8').trim();
    execFileSync('ip', ['link', 'add', bridge, 'type', 'bridge']);
    const netns = join(work, 'state', 'netns', 'pod-a');
    const net = createNetworkAdapter({
      settings: { name, bridge, subnet },
      state: join(work, 'state'),
      lockDir: join(work, 'locks'),
    });
    try {
      expect(localnet()).toBe('0');
      await createNetns(netns);
      const hostPort = await freePort();
      await net.attach({
        key: 'pod-a',
        owner: { kind: 'pod', name: 'a' },
        netns,
        ports: [{ hostPort, containerPort: 80, protocol: 'tcp', hostIP: '' }],
        names: ['a'],
      });
      expect(localnet()).toBe('1');
      await net.detach('pod-a', () => removeNetns(netns));
      await net.remove();
      expect(execFileSync('ip', ['-br', 'link', 'show', bridge]).toString()).toContain(bridge);
      expect(execFileSync('iptables-save').toString()).not.toContain(`"berth network ${name}"`);
      expect(localnet()).toBe('0');
    } finally {
      await net.detach('pod-a').catch(() => undefined);
      await removeNetns(netns).catch(() => undefined);
      await net.remove().catch(() => undefined);
      execFileSync('ip', ['link', 'del', bridge]);
      await removeTempRoot(work);
    }
  }, 60_000);
});
