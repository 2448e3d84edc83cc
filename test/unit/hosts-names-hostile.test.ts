// Names a pod's author chooses (its name, namespace, hostname) that would put the pod's address
// into another pod's hosts file under a name that file already gives elsewhere: glibc's and musl's
// getaddrinfo return every line naming the host, so a second line adds the pod's address to the
// answer (getent ahosts localhost gave ::1, 127.0.0.1 and the peer's address; a client whose
// sidecar on localhost was not up yet connected to the peer). Each file lists a peer under a name
// only where the file gives that name to no one else: not localhost and its IPv6 names, not the
// reader's hostAliases (the reader's own choice, as /etc/hosts is read before DNS in a cluster),
// and NAME.NAMESPACE only for that pod (a pod named `web.default` in another namespace does not
// take pod web's qualified name). Pure: both hostsFileText and the all-files texter.
import { describe, expect, it } from 'vitest';
import { type HostsFileOwner, hostsFileTexter } from '../../src/network/hosts-texts.js';
import { hostsFileText, LOCALHOST_LINES } from '../../src/network/names.js';

const pod = (ip: string, name: string, namespace: string, hostname?: string) => ({
  ip,
  names: [name, `${name}.${namespace}`, ...(hostname ? [hostname] : [])],
});
const owner = (key: string, own: HostsFileOwner['own'], aliases: HostsFileOwner['aliases'] = []) => ({
  key,
  own,
  aliases,
});

/** Each owner's text from the all-files texter, checked equal to hostsFileText's. */
function texts(owners: HostsFileOwner[]): Map<string, string> {
  const textOf = hostsFileTexter(owners);
  return new Map(
    owners.map((o) => {
      const peers = owners.filter((p) => p.own.ip !== o.own.ip).map((p) => p.own);
      const text = textOf(o);
      expect(text).toBe(hostsFileText(o.own, peers, o.aliases));
      return [o.key, text];
    }),
  );
}

/** The addresses a file gives `name`, in order, as getaddrinfo collects them from /etc/hosts. */
const addressesOf = (text: string, name: string) =>
  text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(/\s+/))
    .filter(([, ...names]) => names.includes(name))
    .map(([ip]) => ip);

describe("a peer's names in another pod's hosts file", () => {
  it('a pod named localhost, ip6-localhost or with hostname ip6-loopback is not localhost to its peers', () => {
    const all = texts([
      owner('app', pod('10.0.0.2', 'app', 'default')),
      owner('localhost', pod('10.0.0.9', 'localhost', 'evil')),
      owner('ip6-localhost', pod('10.0.0.8', 'ip6-localhost', 'evil', 'ip6-loopback')),
    ]);
    const app = all.get('app') as string;
    expect(app.startsWith(LOCALHOST_LINES)).toBe(true);
    expect(addressesOf(app, 'localhost')).toEqual(['127.0.0.1', '::1']);
    expect(addressesOf(app, 'ip6-localhost')).toEqual(['::1']);
    expect(addressesOf(app, 'ip6-loopback')).toEqual(['::1']);
    // Still found by NAME.NAMESPACE.
    expect(addressesOf(app, 'localhost.evil')).toEqual(['10.0.0.9']);
    expect(addressesOf(app, 'ip6-localhost.evil')).toEqual(['10.0.0.8']);
    // In its own file its name is its own, as the kubelet writes a pod's hostname.
    expect(addressesOf(all.get('localhost') as string, 'localhost')).toEqual([
      '127.0.0.1',
      '::1',
      '10.0.0.9',
    ]);
  });

  it("a peer named as one of the reader's hostAliases does not add its address to the alias", () => {
    const all = texts([
      owner('client', pod('10.0.0.2', 'client', 'team-a'), [{ ip: '192.0.2.5', names: ['db', 'db.lan'] }]),
      owner('db', pod('10.0.0.7', 'db', 'team-b')),
      owner('other', pod('10.0.0.4', 'other', 'team-a')),
    ]);
    const client = all.get('client') as string;
    expect(addressesOf(client, 'db')).toEqual(['192.0.2.5']);
    expect(addressesOf(client, 'db.team-b')).toEqual(['10.0.0.7']);
    // A pod without that alias finds the peer by its name.
    expect(addressesOf(all.get('other') as string, 'db')).toEqual(['10.0.0.7']);
  });

  it("a pod named web.default in another namespace does not take pod web's NAME.NAMESPACE", () => {
    const all = texts([
      owner('web', pod('10.0.0.3', 'web', 'default')),
      owner('evil.web.default', pod('10.0.0.9', 'web.default', 'evil')),
      owner('client', pod('10.0.0.2', 'client', 'default')),
      owner('evil.client', pod('10.0.0.5', 'client', 'evil')),
    ]);
    for (const reader of ['client', 'evil.client']) {
      const text = all.get(reader) as string;
      expect(addressesOf(text, 'web.default')).toEqual(['10.0.0.3']);
      expect(addressesOf(text, 'web.default.evil')).toEqual(['10.0.0.9']);
    }
  });
});
