// The daemon's spare places (network/spare-pool.ts), as root with a real daemon, runc, conmon and
// the CNI plugins: a daemon keeps none until a `--network bridge` container is asked of it; the
// next such container takes the spare made after the first (its address's CNI id is the spare's),
// with its published port answering from the container and only containers listed by `network ls`
// and `inspect`; the daemon's stop takes its spares away; a spare a daemon killed with SIGKILL left
// is swept by the next daemon's rule check; a create failing after its claim leaves nothing of the
// spare; `network.spares: 0` keeps none. The host is left as
// found (veths, addresses, rules, records).
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Attachment, readAttachmentSync } from '../../src/network/attachments.js';
import { runBerth } from '../helpers/cli.js';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { freePort } from '../helpers/free-port.js';
import { cleanUpHost } from '../helpers/host-cleanup.js';
import { buildImage, createLayout, type Layout, populateBusybox, pushImage } from '../helpers/images.js';
import { bridgeAllocations, removeBridgeLockFile } from '../helpers/network-kept.js';
import { BRIDGE_POD_PREREQS, missingPrereqs } from '../helpers/prereqs.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(BRIDGE_POD_PREREQS, { root: true });

const NET = `nd-${randomBytes(3).toString('hex')}`;
const BRIDGE = `bd${randomBytes(3).toString('hex')}`;
const SUBNET = `10.${randomInt(100, 250)}.${randomInt(0, 256)}.0/24`;

describe.skipIf(skip)('the daemon keeps a spare place on the network', () => {
  let work: string;
  let root: string;
  let state: string;
  let manifests: string;
  let config: string;
  let registry: TestRegistry;
  let layout: Layout;
  let image: string;
  let daemon: TestDaemon | undefined;
  let before: string;
  const flags = () => ['--config', config, '--root', root, '--state', state];
  const berth = (...args: string[]) => runBerth([...flags(), ...args]);
  const attachments = () => join(state, 'network', NET, 'attachments');
  /** The records as berth reads them (the file's name is the key). */
  const records = (): Attachment[] =>
    existsSync(attachments())
      ? readdirSync(attachments()).flatMap(
          (f) => readAttachmentSync(attachments(), f.replace(/\.json$/, '')) ?? [],
        )
      : [];
  const spareKeys = () =>
    records()
      .map((a) => a.key)
      .filter((k) => k.startsWith('spare-'));
  /** The spares made whole (a record is written before its plugins run). */
  const readySpares = () =>
    records()
      .filter((a) => a.key.startsWith('spare-') && a.state === 'ready')
      .map((a) => a.key);
  const veths = () =>
    existsSync(`/sys/class/net/${BRIDGE}/brif`) ? readdirSync(`/sys/class/net/${BRIDGE}/brif`) : [];
  const until = async (what: string, probe: () => boolean) => {
    for (let i = 0; i < 200; i++) {
      if (probe()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`never: ${what}`);
  };
  const start = async () => {
    await daemon?.stop(); // a test before that failed
    return startDaemon({ root, state, manifests, config, args: ['--resync', '1'] });
  };
  const footprint = () =>
    execFileSync('iptables-save')
      .toString()
      .split('\n')
      .filter((l) => l.includes(BRIDGE) || l.includes(SUBNET) || l.includes(`"${NET}"`))
      .join('\n');

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-spares-daemon-'));
    root = join(work, 'root');
    state = join(work, 'state');
    manifests = join(work, 'manifests');
    config = join(work, 'config.yaml');
    await mkdir(manifests);
    await writeFile(config, `network: {name: ${NET}, bridge: ${BRIDGE}, subnet: ${SUBNET}}\n`);
    registry = await startRegistry();
    layout = await createLayout();
    await buildImage(layout, 'busybox', [populateBusybox], { cmd: '/bin/sh' });
    image = `${registry.host}/demo/busybox:1`;
    await pushImage(layout, 'busybox', image);
    expect((await berth('image', 'pull', image)).code).toBe(0);
    before = footprint();
  }, 180_000);

  afterAll(async () => {
    await daemon?.stop();
    const { left, leaked } = await cleanUpHost({ berth, work, folders: [manifests], forceFirst: true });
    const removed = await berth('network', 'rm', NET);
    const after = [veths(), bridgeAllocations(BRIDGE), records(), footprint() === before];
    await registry?.stop();
    await layout?.cleanup();
    await removeTempRoot(work);
    await removeBridgeLockFile(BRIDGE);
    expect([left, leaked, removed.code]).toEqual([[], [], 0]);
    expect(after).toEqual([[], [], [], true]);
  });

  it('the second --network bridge container takes the spare made after the first; its port answers; the stop takes the spare away', async () => {
    daemon = await start();
    expect(spareKeys()).toEqual([]); // none until asked for
    const first = await berth(
      'container',
      'run',
      image,
      'one',
      '--rm',
      '--network',
      'bridge',
      '--',
      'echo',
      'one',
    );
    expect([first.code, first.stdout]).toEqual([0, 'one\n']);
    await until('a spare made', () => readySpares().length === 1);
    const [spare] = readySpares();
    const spareRecord = records().find((a) => a.key === spare) as Attachment;
    const port = await freePort();
    const made = await berth(
      ...['container', 'run', image, 'web', '-d', '--network', 'bridge', '-p', `127.0.0.1:${port}:8080`],
      ...['--', 'sh', '-c', 'mkdir -p /w && echo from-web > /w/index.html && exec httpd -f -p 8080 -h /w'],
    );
    expect(made.code).toBe(0);
    const web = records().find((a) => a.owner.kind === 'container') as Attachment;
    expect([web.cniId, web.ip]).toEqual([spareRecord.cniId, spareRecord.ip]);
    let answer = '';
    for (let i = 0; i < 50 && answer !== 'from-web\n'; i++) {
      answer = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) })
        .then((r) => r.text())
        .catch(() => '');
      if (answer !== 'from-web\n') await new Promise((r) => setTimeout(r, 100));
    }
    expect(answer).toBe('from-web\n');
    await until('the next spare', () => readySpares().length === 1 && readySpares()[0] !== spare);
    const ls = JSON.parse((await berth('network', 'inspect', NET, '-o', 'json')).stdout);
    expect(JSON.stringify(ls)).not.toContain('spare');
    expect(veths()).toHaveLength(2);
    await daemon.stop();
    daemon = undefined;
    expect([spareKeys(), veths().length, bridgeAllocations(BRIDGE).length]).toEqual([[], 1, 1]);
    expect(
      existsSync(join(state, 'network-spares')) ? readdirSync(join(state, 'network-spares')) : [],
    ).toEqual([]);
  }, 120_000);

  it("a spare left by a daemon killed with SIGKILL is swept by the next daemon's rule check", async () => {
    daemon = await start();
    const run = await berth('container', 'run', image, 'brief', '--rm', '--network', 'bridge', '--', 'true');
    expect(run.code).toBe(0);
    await until('a spare made', () => readySpares().length === 1);
    process.kill(daemon.pid, 'SIGKILL');
    await daemon.stop(); // reaped
    daemon = undefined;
    expect(spareKeys()).toHaveLength(1);
    daemon = await start();
    await until('the spare swept', () => spareKeys().length === 0);
    expect([veths().length, bridgeAllocations(BRIDGE).length]).toEqual([1, 1]); // web's
    await daemon.stop();
    daemon = undefined;
  }, 120_000);

  it('a create that fails after taking a spare leaves nothing of it: its address, veth and record go', async () => {
    daemon = await start();
    await berth('container', 'run', image, 'warm', '--rm', '--network', 'bridge', '--', 'true');
    await until('a spare made', () => readySpares().length === 1);
    const [spare] = readySpares();
    const failed = await berth(
      'container',
      'run',
      image,
      'bad',
      '--rm',
      '--network',
      'bridge',
      '--',
      '/no/such',
    );
    expect(failed.code).not.toBe(0);
    await until('the next spare', () => readySpares().length === 1 && readySpares()[0] !== spare);
    // web's place and the new spare's, nothing of the failed container's.
    expect(
      records()
        .map((a) => a.owner.kind)
        .sort(),
    ).toEqual(['container', 'spare']);
    expect([veths().length, bridgeAllocations(BRIDGE).length]).toEqual([2, 2]);
    await daemon.stop();
    daemon = undefined;
  }, 120_000);

  it('network.spares: 0 keeps none', async () => {
    await writeFile(config, `network: {name: ${NET}, bridge: ${BRIDGE}, subnet: ${SUBNET}, spares: 0}\n`);
    daemon = await start();
    const run = await berth('container', 'run', image, 'brief', '--rm', '--network', 'bridge', '--', 'true');
    expect(run.code).toBe(0);
    await new Promise((r) => setTimeout(r, 1000));
    expect(spareKeys()).toEqual([]);
    await daemon.stop();
    daemon = undefined;
  }, 120_000);
});
