// Pods named as long as Kubernetes allows, end to end as root with real runc, conmon and overlayfs:
// a 63-character namespace, pod and container name (a runtime name `<namespace>.<pod>_<container>`
// of 191 characters) is created and runs, shows in ps and its JSON, is kept as it runs when its
// record is unreadable (its name read back from conmon's --name), comes back when it dies, is
// recreated when its manifest changes and removed when its file goes; on a bridge network of its
// own it gets an address and its hostPort answers (CNI's container id and portmap's chain and comment
// are made from the 127-character identity), and leaves nothing on the bridge when it goes.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PodView } from '../../src/reconcile/pod-views.js';
import { type E2eHost, setUpE2eHost, tearDownE2eHost } from '../helpers/e2e-host.js';
import { freePort } from '../helpers/free-port.js';
import { removeBridgeLockFile } from '../helpers/network-kept.js';
import { BRIDGE_POD_PREREQS, missingPrereqs } from '../helpers/prereqs.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'unshare', 'findmnt'], {
  root: true,
});

/** A DNS label of exactly 63 characters, unique to this run. */
const label = (head: string) => `${head}-${randomBytes(3).toString('hex')}-`.padEnd(62, 'x') + 'z';
const NS = label('ns');
const POD = label('pod');
const CONTAINER = label('ctr');
const IDENTITY = `${NS}.${POD}`;
const RUNTIME = `${IDENTITY}_${CONTAINER}`;

describe.skipIf(skip)('pod and container names as long as Kubernetes allows', () => {
  let e2e: E2eHost | undefined;
  let file: string;
  const berth = (...args: string[]) => (e2e as E2eHost).berth(...args);
  const ps = async () => JSON.parse((await berth('ps', '-o', 'json')).stdout) as PodView[];
  const containers = async () =>
    JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout) as Array<{
      name: string;
      id: string;
      state: string;
      finishedAt: string | null;
    }>;
  const until = async (what: string, probe: () => Promise<boolean>, polls = 150) => {
    for (let i = 0; i < polls; i++) {
      if (await probe()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`never: ${what}`);
  };
  const podText = (mode: string) =>
    `apiVersion: v1\nkind: Pod\nmetadata: {name: ${POD}, namespace: ${NS}}\nspec:\n` +
    `  terminationGracePeriodSeconds: 1\n  containers:\n` +
    `    - name: ${CONTAINER}\n      image: ${(e2e as E2eHost).image}\n` +
    `      env: [{name: MODE, value: ${mode}}]\n` +
    `      command: [/bin/sh, -c, 'echo mode $MODE; exec sleep 1000']\n`;

  beforeAll(async () => {
    e2e = await setUpE2eHost('long-names');
    file = join(e2e.dir, 'long.yaml');
  }, 180_000);
  afterAll(async () => {
    const { leaked } = await tearDownE2eHost(e2e);
    expect(leaked).toEqual([]);
  });

  it('runs, shows, survives an unreadable record, restarts, updates and goes with its file', async () => {
    const dir = (e2e as E2eHost).dir;
    expect(RUNTIME.length).toBe(191);
    await writeFile(file, podText('one'));
    const validate = await berth('validate', dir);
    expect([validate.code, validate.stderr]).toEqual([0, '']);
    const apply = await berth('apply', dir);
    expect([apply.code, apply.stderr]).toEqual([0, '']);
    const [pod] = await ps();
    expect(pod).toMatchObject({ name: IDENTITY, namespace: NS, phase: 'Running' });
    expect(pod?.containers.map((c) => [c.name, c.state])).toEqual([[CONTAINER, 'running']]);
    expect((await berth('ps')).stdout).toContain(IDENTITY);
    const [first] = await containers();
    expect([first?.name, first?.state]).toEqual([RUNTIME, 'running']);
    await until(
      'its log',
      async () => (await berth('logs', `${IDENTITY}/${CONTAINER}`)).stdout === 'mode one\n',
    );

    // An unreadable record: the container is known by conmon's --name, kept as it runs.
    const record = join((e2e as E2eHost).root, 'containers', first?.id as string, 'container.json');
    const saved = await readFile(record);
    await writeFile(record, '');
    const kept = await berth('plan', dir);
    expect([kept.code, kept.stdout]).toEqual([0, 'nothing to do: the host matches the manifests\n']);
    await writeFile(record, saved);

    // Killed: back after its back-off, the same name.
    expect((await berth('container', 'kill', RUNTIME)).code).toBe(0);
    await until('it exited', async () => (await containers())[0]?.state === 'exited');
    const finished = Date.parse((await containers())[0]?.finishedAt ?? '');
    await new Promise((r) => setTimeout(r, Math.max(0, finished + 10_000 - Date.now())));
    await until('the back-off ends', async () => (await berth('plan', dir)).stdout.startsWith('run '), 100);
    const restart = await berth('apply', dir);
    expect([restart.code, restart.stdout]).toEqual([
      0,
      `run          ${IDENTITY}/${CONTAINER}: exited 137, restart policy Always, restart 1 after 10 s\n`,
    ]);
    expect((await ps())[0]?.containers[0]).toMatchObject({ state: 'running', restarts: 1 });

    // Edited: recreated, a new container of the same name.
    await writeFile(file, podText('two'));
    const update = await berth('apply', dir);
    expect([update.code, update.stdout]).toEqual([
      0,
      `remove       ${IDENTITY}/${CONTAINER}: env MODE changed\nrun          ${IDENTITY}/${CONTAINER}: env MODE changed\n`,
    ]);
    const [second] = await containers();
    expect([second?.name, second?.state]).toEqual([RUNTIME, 'running']);
    expect(second?.id).not.toBe(first?.id);
    await until(
      'the new log',
      async () => (await berth('logs', `${IDENTITY}/${CONTAINER}`)).stdout === 'mode two\n',
    );

    // Its file gone: the pod goes.
    await rm(file);
    const removed = await berth('apply', dir);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toContain(`remove       ${IDENTITY}/${CONTAINER}: no longer in the manifests`);
    expect(await ps()).toEqual([]);
    expect(await containers()).toEqual([]);
  }, 90_000);

  it('a name with dots (a mirror pod of node `ip-10-0-1-23.ec2.internal`) runs in `default`, its hostname the name, its logs by that name', async () => {
    const dir = (e2e as E2eHost).dir;
    const name = `etcd-ip-10-0-1-23.${randomBytes(3).toString('hex')}.ec2.internal`;
    const dotted = join(dir, 'dotted.yaml');
    await writeFile(
      dotted,
      `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  terminationGracePeriodSeconds: 0\n` +
        `  containers:\n    - name: etcd\n      image: ${(e2e as E2eHost).image}\n` +
        `      command: [/bin/sh, -c, 'echo "$(hostname)"; exec sleep 1000']\n`,
    );
    const apply = await berth('apply', dir);
    expect([apply.code, apply.stderr]).toEqual([0, '']);
    expect((await ps()).map((p) => [p.name, p.namespace, p.phase])).toEqual([
      [`default.${name}`, 'default', 'Running'],
    ]);
    expect((await containers()).map((c) => c.name)).toEqual([`default.${name}_etcd`]);
    await until('its log', async () => (await berth('logs', name)).stdout === `${name}\n`);
    await rm(dotted);
    expect((await berth('apply', dir)).code).toBe(0);
    expect(await containers()).toEqual([]);
  }, 60_000);
});

describe.skipIf(missingPrereqs(BRIDGE_POD_PREREQS, { root: true }))(
  'a long-named pod on a bridge network',
  () => {
    const net = `ln-${randomBytes(3).toString('hex')}`;
    const bridge = `bl${randomBytes(3).toString('hex')}`;
    const subnet = `10.${100 + ((randomBytes(1)[0] as number) % 150)}.${randomBytes(1)[0]}.0/24`;
    let e2e: E2eHost | undefined;
    let config: string;
    const berth = (...args: string[]) => (e2e as E2eHost).berth('--config', config, ...args);

    beforeAll(async () => {
      e2e = await setUpE2eHost('long-names-net');
      config = join(e2e.work, 'config.yaml');
      await writeFile(config, `network: {name: ${net}, bridge: ${bridge}, subnet: ${subnet}}\n`);
    }, 180_000);
    afterAll(async () => {
      // The test takes the pod and the network away; after a failure, this does.
      if (e2e && existsSync(`/sys/class/net/${bridge}`)) {
        await rm(join(e2e.dir, 'long.yaml'), { force: true });
        await berth('apply', e2e.dir);
        await berth('network', 'rm', net);
      }
      const { leaked } = await tearDownE2eHost(e2e, { berth });
      await removeBridgeLockFile(bridge);
      expect(leaked).toEqual([]);
      expect(existsSync(`/sys/class/net/${bridge}`)).toBe(false);
    });

    it('gets an address, its hostPort answers, and the network is free once it goes', async () => {
      const { dir, image } = e2e as E2eHost;
      const port = await freePort();
      await writeFile(
        join(dir, 'long.yaml'),
        `apiVersion: v1\nkind: Pod\nmetadata: {name: ${POD}, namespace: ${NS}}\nspec:\n` +
          `  terminationGracePeriodSeconds: 0\n  containers:\n    - name: ${CONTAINER}\n      image: ${image}\n` +
          `      command: [/bin/sh, -c, 'mkdir -p /www && echo long > /www/index.html && exec httpd -f -p 8080 -h /www']\n` +
          `      ports: [{containerPort: 8080, hostPort: ${port}}]\n`,
      );
      const apply = await berth('apply', dir);
      expect([apply.code, apply.stderr]).toEqual([0, '']);
      const [pod] = JSON.parse((await berth('ps', '-o', 'json')).stdout) as PodView[];
      expect(pod?.name).toBe(IDENTITY);
      expect(pod?.ip).toMatch(/^10\./);
      let text = '';
      for (let i = 0; i < 50 && text !== 'long\n'; i++) {
        text = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) })
          .then((r) => r.text())
          .catch(() => '');
        if (text !== 'long\n') await new Promise((r) => setTimeout(r, 100));
      }
      expect(text).toBe('long\n');
      await rm(join(dir, 'long.yaml'));
      expect((await berth('apply', dir)).code).toBe(0);
      const inspect = await berth('network', 'inspect', net);
      expect(inspect.stdout).not.toContain(POD);
      const removed = await berth('network', 'rm', net);
      expect([removed.code, removed.stderr]).toEqual([0, '']);
    }, 90_000);
  },
);
