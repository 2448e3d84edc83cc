// Every pod's hosts file at once (hosts-texts.ts) is exactly what hostsFileText gives each pod alone:
// hosts of many pods with shared names, dual-stack addresses, aliases, pods without names and a
// pod whose names all collide, from a fixed seed.
import { describe, expect, it } from 'vitest';
import { type HostsFileOwner, hostsFileTexter } from '../../src/network/hosts-texts.js';
import { hostsFileText } from '../../src/network/names.js';

/** A small deterministic generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function host(seed: number, pods: number): HostsFileOwner[] {
  const r = random(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)] as T;
  const names = ['web', 'api', 'db', 'cache', 'Zed', 'a', 'b-1', 'queue'];
  return Array.from({ length: pods }, (_, i) => {
    const own = {
      ip: `10.88.${Math.floor(i / 250)}.${(i % 250) + 2}`,
      names:
        r() < 0.1 ? [] : [`p${i}`, ...(r() < 0.3 ? [pick(names)] : []), ...(r() < 0.1 ? [pick(names)] : [])],
      ...(r() < 0.3 ? { ips: [`fd00::${i + 2}`] } : {}),
    };
    const aliases = r() < 0.2 ? [{ ip: `192.0.2.${i % 200}`, names: [pick(names)] }] : [];
    return { key: `pod-p${i}`, own, aliases };
  });
}

describe('every hosts file at once', () => {
  it.each([
    [1, 0],
    [2, 1],
    [3, 2],
    [4, 30],
    [5, 300],
  ])('seed %i, %i pods: each text as hostsFileText makes it', (seed, pods) => {
    const owners = host(seed, pods);
    const textOf = hostsFileTexter(owners);
    for (const o of owners) {
      const peers = owners.filter((p) => p.own.ip !== o.own.ip).map((p) => p.own);
      expect(textOf(o)).toBe(hostsFileText(o.own, peers, o.aliases));
    }
  });

  it('a peer claiming a pod name loses it in that pod file, and any name two peers claim goes to one', () => {
    const owners: HostsFileOwner[] = [
      { key: 'a', own: { ip: '10.0.0.2', names: ['web'] }, aliases: [] },
      { key: 'b', own: { ip: '10.0.0.3', names: ['aaa-first', 'web'] }, aliases: [] },
      { key: 'c', own: { ip: '10.0.0.4', names: ['web', 'zzz'] }, aliases: [] },
      { key: 'd', own: { ip: '10.0.0.5', names: ['mid'] }, aliases: [] },
    ];
    const textOf = hostsFileTexter(owners);
    const texts = new Map(owners.map((o) => [o.key, textOf(o)]));
    const head = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n';
    expect(texts.get('a')).toBe(
      `${head}10.0.0.2\tweb\n# pods on this network\n10.0.0.3\taaa-first\n10.0.0.5\tmid\n10.0.0.4\tzzz\n`,
    );
    // A name several peers claim is listed once: for the one whose own (first) name it is.
    expect(texts.get('d')).toBe(
      `${head}10.0.0.5\tmid\n# pods on this network\n10.0.0.3\taaa-first\n10.0.0.2\tweb\n10.0.0.4\tzzz\n`,
    );
  });

  it("no pod takes another's name with its hostname; a bare name resolves in the asker's namespace", () => {
    const owners: HostsFileOwner[] = [
      { key: 'web', own: { ip: '10.0.0.3', names: ['web', 'web.default'] }, aliases: [] },
      // Pod a of namespace x says `hostname: web`, and sorts before web.
      { key: 'a', own: { ip: '10.0.0.5', names: ['a', 'a.x', 'web'] }, aliases: [] },
      { key: 'client.aaa', own: { ip: '10.0.0.4', names: ['client', 'client.aaa'] }, aliases: [] },
      { key: 'client', own: { ip: '10.0.0.6', names: ['client', 'client.default'] }, aliases: [] },
      { key: 'other', own: { ip: '10.0.0.7', names: ['other', 'other.aaa'] }, aliases: [] },
    ];
    const textOf = hostsFileTexter(owners);
    const peersOf = (key: string) =>
      textOf(owners.find((o) => o.key === key) as HostsFileOwner).split('# pods on this network\n')[1];
    expect(peersOf('web')).toBe(
      '10.0.0.5\ta a.x\n10.0.0.6\tclient client.default\n10.0.0.4\tclient.aaa\n10.0.0.7\tother other.aaa\n',
    );
    expect(peersOf('other')).toBe(
      '10.0.0.5\ta a.x\n10.0.0.4\tclient client.aaa\n10.0.0.6\tclient.default\n10.0.0.3\tweb web.default\n',
    );
    // In its own file a pod's hostname is its own.
    expect(textOf(owners[1] as HostsFileOwner)).toContain('10.0.0.5\ta a.x web\n# pods');
  });
});
