// withFormerNetworks over adapters that keep their members in memory (the real adapter's plugins
// and iptables are e2e/network-config-change's): which former networks are taken away when, which
// records are kept, and that a sweep's failure never fails a join or a removal.
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BerthError } from '../../src/lib/errors.js';
import type { AttachRequest, NetworkAdapter } from '../../src/network/adapter.js';
import type { Attachment } from '../../src/network/attachments.js';
import { recordedNetworks, settingsDir, withFormerNetworks } from '../../src/network/former-networks.js';
import type { NetworkSettings } from '../../src/network/settings.js';

/** The host as the fakes see it: members by network name (a name's records are shared), bridges made. */
interface FakeHost {
  members: Map<string, string[]>;
  bridges: Set<string>;
  /** Bridges whose removal fails (an iptables call refused). */
  failing: Set<string>;
}

function fakeAdapter(host: FakeHost, settings: NetworkSettings): NetworkAdapter {
  const of = () => host.members.get(settings.name) ?? [];
  const attachment = (key: string): Attachment => ({
    key,
    owner: { kind: 'container', name: key },
    state: 'ready',
    netns: '',
    ports: [],
    names: [key],
  });
  return {
    settings,
    attachmentsDir: '',
    async attach(req: AttachRequest) {
      host.bridges.add(settings.bridge);
      host.members.set(settings.name, [...of().filter((k) => k !== req.key), req.key]);
      return attachment(req.key);
    },
    async detach(key: string) {
      host.members.set(
        settings.name,
        of().filter((k) => k !== key),
      );
    },
    async list() {
      return of().map(attachment);
    },
    async remove() {
      if (of().length > 0)
        throw new BerthError('ERR_NETWORK_IN_USE', 'conflict', `${settings.name} is in use`);
      if (host.failing.has(settings.bridge))
        throw new BerthError('ERR_NETWORK', 'internal', 'iptables refused');
      host.bridges.delete(settings.bridge);
    },
    async settled() {},
    spares: {
      async make() {
        return `spare-on-${settings.bridge}`;
      },
      async claim() {
        return undefined;
      },
      async drop() {},
      async dropHeld() {},
    },
    async repairRules() {
      return of().length > 0
        ? [{ network: settings.bridge, families: [], holders: [], failed: [], strays: [] }]
        : [];
    },
  };
}

const A: NetworkSettings = { name: 'a', bridge: 'bra', subnet: '10.1.0.0/24' };
const B: NetworkSettings = { name: 'b', bridge: 'brb', subnet: '10.1.0.0/24' };
const A2: NetworkSettings = { name: 'a', bridge: 'bra2', subnet: '10.2.0.0/24' };
const req = (key: string): AttachRequest => ({
  key,
  owner: { kind: 'container', name: key },
  netns: '',
  ports: [],
  names: [key],
});

describe('withFormerNetworks', () => {
  let state: string;
  let host: FakeHost;
  const open = (s: NetworkSettings) => fakeAdapter(host, s);
  const configured = (s: NetworkSettings) => withFormerNetworks(open(s), { state, open });
  const names = () => recordedNetworks(state).map((s) => `${s.name}:${s.bridge}`);

  beforeEach(async () => {
    state = await mkdtemp(join(tmpdir(), 'berth-former-'));
    host = { members: new Map(), bridges: new Set(), failing: new Set() };
  });
  afterEach(() => rm(state, { recursive: true, force: true }));

  it('records the configured network at its first join, and forgets it when it is removed', async () => {
    const net = configured(A);
    expect(names()).toEqual([]);
    await net.attach(req('x'));
    expect(names()).toEqual(['a:bra']);
    await net.detach('x');
    await net.remove();
    expect(names()).toEqual([]);
  });

  it('a removal where nothing joined records nothing (no former network that never had a bridge)', async () => {
    await configured(A).detach('x');
    expect(names()).toEqual([]);
    expect(configured(B).former?.()).toEqual([]);
  });

  it('a renamed network: the idle old one goes at the first join of the new one', async () => {
    await configured(A).attach(req('x'));
    await configured(A).detach('x');
    expect(host.bridges).toEqual(new Set(['bra']));
    const net = configured(B);
    expect(net.former?.().map((f) => f.settings.name)).toEqual(['a']);
    await net.attach(req('y'));
    expect(host.bridges).toEqual(new Set(['brb']));
    expect(names()).toEqual(['b:brb']);
  });

  it('an old network with a member stays until that member leaves, and network rm refuses it meanwhile', async () => {
    await configured(A).attach(req('x'));
    const net = configured(B);
    await net.attach(req('y'));
    expect(host.bridges).toEqual(new Set(['bra', 'brb']));
    await expect(net.removeFormer?.('a')).rejects.toThrow(/in use/);
    await expect(net.removeFormer?.('b')).rejects.toThrow(/no network named "b"/);
    await net.detach('x'); // a removal in any process: the configured adapter finds it on the old one
    expect(host.bridges).toEqual(new Set(['brb']));
    expect(names()).toEqual(['b:brb']);
    expect(host.members.get('b')).toEqual(['y']);
  });

  it('a holder on a former network that joins the configured one leaves the former first (a pod set up again)', async () => {
    await configured(A).attach(req('pod-web'));
    await configured(A).attach(req('other'));
    const net = configured(B);
    await net.attach(req('pod-web'));
    expect(host.members.get('a')).toEqual(['other']);
    expect(host.members.get('b')).toEqual(['pod-web']);
    await net.detach('other');
    expect(host.bridges).toEqual(new Set(['brb']));
  });

  it('network rm of an idle former network by name', async () => {
    await configured(A).attach(req('x'));
    await configured(A).detach('x');
    const net = configured(B);
    await net.removeFormer?.('a');
    expect(host.bridges).toEqual(new Set());
    expect(names()).toEqual([]);
  });

  it('the same name with another bridge: the old bridge goes once nothing is on the network', async () => {
    await configured(A).attach(req('x'));
    const net = configured(A2);
    await net.attach(req('y')); // x is still on it: both settings share the name's records
    expect(host.bridges).toEqual(new Set(['bra', 'bra2']));
    expect(names()).toEqual(['a:bra']);
    await net.detach('x');
    expect(host.bridges).toEqual(new Set(['bra', 'bra2'])); // y is on the network
    await net.detach('y');
    expect(host.bridges).toEqual(new Set(['bra2']));
    expect(names()).toEqual(['a:bra2']);
  });

  it('no spare place is made while a same-name network keeps members on its former bridge', async () => {
    await configured(A).attach(req('x'));
    const net = configured(A2);
    await expect(net.spares?.make()).rejects.toMatchObject({ code: 'ERR_NETWORK' });
    await net.detach('x');
    expect(await net.spares?.make()).toBe('spare-on-bra2');
    expect(names()).toEqual(['a:bra2']);
  });

  it('rules are repaired on every network with members: the configured one, a former one, or the bridge a same-name network still has', async () => {
    const repaired = async (n: NetworkAdapter) => (await n.repairRules()).map((r) => r.network);
    expect(await repaired(configured(A))).toEqual([]); // nothing on it: nothing asked of the host
    await configured(A).attach(req('x'));
    expect(await repaired(configured(A))).toEqual(['bra']);
    expect(await repaired(configured(A2))).toEqual(['bra']); // x is still on the old bridge
    await configured(B).attach(req('y'));
    expect(await repaired(configured(B))).toEqual(['brb', 'bra']);
  });

  it('a sweep that fails fails no join or removal; the old network stays recorded and is tried again', async () => {
    await configured(A).attach(req('x'));
    await configured(A).detach('x');
    host.failing.add('bra');
    const net = configured(B);
    await net.attach(req('y'));
    expect(names()).toEqual(['a:bra', 'b:brb']);
    await net.detach('y');
    host.failing.clear();
    await configured(B).attach(req('z'));
    expect(names()).toEqual(['b:brb']);
    expect(host.bridges).toEqual(new Set(['brb']));
  });

  it('a record that is not berth’s, or names another file, is ignored', async () => {
    await configured(A).attach(req('x'));
    await writeFile(
      join(settingsDir(state), 'junk.json'),
      '{"name": "../../etc", "bridge": "x", "subnet": "1"}',
    );
    await writeFile(join(settingsDir(state), 'c.json'), JSON.stringify({ ...B, name: 'd' }));
    await writeFile(join(settingsDir(state), 'e.json'), '{"name": "e", "bri');
    expect(names()).toEqual(['a:bra']);
    expect((await readdir(settingsDir(state))).sort()).toEqual(['a.json', 'c.json', 'e.json', 'junk.json']);
  });
});
