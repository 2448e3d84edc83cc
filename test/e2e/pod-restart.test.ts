// Lifecycle edges where berth follows the kubelet, end to end as root with real runc, conmon and
// overlayfs: an init container changed under running app containers starts the whole pod again (the
// kubelet runs a static pod whose manifest changed as a new pod): its containers stop within the
// grace period, the init containers run again in order, then the app containers; so does one added
// or removed while they run, and one added to a pod that has finished (a new pod, run again whole);
// a pod with a sidecar that has finished runs again whole when its app container changes;
// a changed sidecar is made again alone (the kubelet restarts it alone); a native sidecar with a
// startupProbe holds what comes after it until the probe succeeds (probes run under the daemon:
// `berth apply` alone leaves the pod waiting, saying so); activeDeadlineSeconds ends an init
// container that still runs (berth apply waits for it no longer than the deadline).

import { mkdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PodView } from '../../src/reconcile/pod-views.js';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { type E2eHost, setUpE2eHost, tearDownE2eHost } from '../helpers/e2e-host.js';
import { until } from '../helpers/poll.js';
import { missingPrereqs } from '../helpers/prereqs.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'unshare', 'findmnt'], {
  root: true,
});

describe.skipIf(skip)('pod restarts and start order, as the kubelet runs them', () => {
  let host: E2eHost | undefined;
  let work: string;
  let dir: string;
  let image: string;
  let daemon: TestDaemon | undefined;
  const berth = (...args: string[]) => (host as E2eHost).berth(...args);
  const podNamed = async (name: string) =>
    (JSON.parse((await berth('ps', '-o', 'json')).stdout) as PodView[]).find((p) => p.name === name);
  const states = (p: PodView | undefined) => p?.containers.map((c) => [c.name, c.state, c.exitCode]);
  const lines = async (file: string) =>
    (await readFile(file, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean);
  /** An app container's command: it notes the last line of /out/runs when it starts, and its stop. */
  const APP_AFTER_LAST =
    "trap 'echo app-stopped >> /out/runs; exit 0' TERM; echo app-after-$$(tail -n 1 /out/runs) >> /out/runs; while true; do sleep 0.1; done";
  /** A pod `name` whose containers all mount the host folder `<work>/<name>-out` at /out. */
  const outPod = async (name: string) => {
    const out = join(work, `${name}-out`);
    await mkdir(out);
    return {
      out,
      file: join(dir, `${name}.yaml`),
      runs: () => lines(join(out, 'runs')),
      /** A container entry running `sh -c script`; `more` is further fields, indented as its own. */
      container: (c: string, script: string, more = '') =>
        `    - name: ${c}\n      image: ${image}\n${more}      command: [sh, -c, ${JSON.stringify(script)}]\n` +
        '      volumeMounts: [{name: out, mountPath: /out}]\n',
      /** The manifest: `spec` lines (indented as spec fields), then its init and app containers. */
      yaml: (spec: string, inits: string, apps: string) =>
        `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n${spec}` +
        `${inits ? `  initContainers:\n${inits}` : ''}  containers:\n${apps}` +
        `  volumes:\n    - name: out\n      hostPath: {path: ${out}}\n`,
    };
  };

  beforeAll(async () => {
    host = await setUpE2eHost('restart');
    ({ work, dir, image } = host);
  }, 180_000);
  afterAll(async () => {
    await daemon?.stop();
    const { leaked } = await tearDownE2eHost(host);
    expect(leaked).toEqual([]);
  });

  it('an init container changed while the app containers run: the pod stops, its init containers run again in order, then its app containers', async () => {
    const { file, runs, container, yaml } = await outPod('restart');
    const manifest = (version: string) =>
      yaml(
        '  terminationGracePeriodSeconds: 5\n',
        container(
          'side',
          "trap 'echo side-stopped >> /out/runs; exit 0' TERM; echo side-started >> /out/runs; while true; do sleep 0.1; done",
          '      restartPolicy: Always\n',
        ) +
          container(
            'setup',
            'echo setup-$$VERSION >> /out/runs',
            `      env: [{name: VERSION, value: ${version}}]\n`,
          ),
        container('app', APP_AFTER_LAST),
      );
    await writeFile(file, manifest('v1'));
    expect((await berth('apply', dir)).code).toBe(0);
    expect(await runs()).toEqual(['side-started', 'setup-v1', 'app-after-setup-v1']);
    await writeFile(file, manifest('v2'));
    // One line says what happens and why.
    const plan = await berth('plan', dir);
    expect([plan.code, plan.stdout.split('\n').filter((l) => l.includes('restart'))]).toEqual([
      2,
      [
        'restart-pod  restart: init container setup changed (env VERSION changed): its 3 containers stop (grace 5 s), then it starts again from its init containers',
      ],
    ]);
    expect((await berth('apply', dir)).code).toBe(0);
    // The app stopped first, then the sidecar; then all ran again, in order, on the new setup.
    expect(await runs()).toEqual([
      'side-started',
      'setup-v1',
      'app-after-setup-v1',
      'app-stopped',
      'side-stopped',
      'side-started',
      'setup-v2',
      'app-after-setup-v2',
    ]);
    expect(states(await podNamed('restart'))).toEqual([
      ['side', 'running', null],
      ['setup', 'exited', 0],
      ['app', 'running', null],
    ]);
    // README (Events): `Restarting` when a changed init container starts the pod again.
    const events = (await berth('events', '--until', '0s', '--output', 'json', '--filter', 'type=pod')).stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { type: string; reason: string; object: string; message: string });
    expect(
      events.filter((e) => e.object === 'restart' && e.reason !== 'SetUp').map((e) => [e.reason, e.message]),
    ).toEqual([
      [
        'Restarting',
        'restart: init container setup changed (env VERSION changed): its 3 containers stop (grace 5 s), then it starts again from its init containers',
      ],
    ]);
    const again = await berth('plan', dir);
    expect(again.stdout.split('\n').filter((l) => l.includes('restart'))).toEqual([]);
    await rm(file);
    expect((await berth('apply', dir)).code).toBe(0);
  }, 180_000);

  it('an init container added while the app containers run: the pod stops, the new init container runs, then its app containers', async () => {
    const { out, file, runs, container, yaml } = await outPod('addinit');
    const init = container('setup', 'echo setup >> /out/runs');
    const manifest = (inits: string) =>
      yaml('  terminationGracePeriodSeconds: 5\n', inits, container('app', APP_AFTER_LAST));
    await writeFile(join(out, 'runs'), 'none\n');
    await writeFile(file, manifest(''));
    expect((await berth('apply', dir)).code).toBe(0);
    await writeFile(file, manifest(init));
    const plan = await berth('plan', dir);
    expect([plan.code, plan.stdout.split('\n').filter((l) => l.includes('addinit'))]).toEqual([
      2,
      [
        'restart-pod  addinit: init container setup added: its container stops (grace 5 s), then it starts again from its init containers',
      ],
    ]);
    expect((await berth('apply', dir)).code).toBe(0);
    expect(await runs()).toEqual(['none', 'app-after-none', 'app-stopped', 'setup', 'app-after-setup']);
    expect(states(await podNamed('addinit'))).toEqual([
      ['setup', 'exited', 0],
      ['app', 'running', null],
    ]);
    expect((await berth('plan', dir)).code).toBe(0);
    await rm(file);
    expect((await berth('apply', dir)).code).toBe(0);
  }, 180_000);

  it('an init container removed while the app containers run: the pod stops and starts again without it', async () => {
    const { file, runs, container, yaml } = await outPod('rminit');
    const manifest = (inits: string[]) =>
      yaml(
        '  terminationGracePeriodSeconds: 5\n',
        inits.map((name) => container(name, `echo ${name} >> /out/runs`)).join(''),
        container('app', APP_AFTER_LAST),
      );
    await writeFile(file, manifest(['setup', 'extra']));
    expect((await berth('apply', dir)).code).toBe(0);
    await writeFile(file, manifest(['setup']));
    // A file that shrank is held for its settle time (2 s) as possibly half written: date it back.
    const past = new Date(Date.now() - 10_000);
    await utimes(file, past, past);
    const plan = await berth('plan', dir);
    expect([plan.code, plan.stdout.split('\n').filter((l) => l.includes('rminit'))]).toEqual([
      2,
      [
        'restart-pod  rminit: init container extra removed: its 3 containers stop (grace 5 s), then it starts again from its init containers',
      ],
    ]);
    expect((await berth('apply', dir)).code).toBe(0);
    // The app no longer goes on with what the removed one did: it starts again after setup alone.
    expect(await runs()).toEqual([
      'setup',
      'extra',
      'app-after-extra',
      'app-stopped',
      'setup',
      'app-after-setup',
    ]);
    expect(states(await podNamed('rminit'))).toEqual([
      ['setup', 'exited', 0],
      ['app', 'running', null],
    ]);
    expect((await berth('plan', dir)).code).toBe(0);
    await rm(file);
    expect((await berth('apply', dir)).code).toBe(0);
  }, 180_000);

  it('a pod that has finished under restartPolicy Never: an init container added runs the whole pod again, not it alone', async () => {
    const { out, file, runs, container, yaml } = await outPod('rejob');
    const init = container('setup', 'echo setup >> /out/runs');
    const manifest = (inits: string) =>
      yaml(
        '  restartPolicy: Never\n  terminationGracePeriodSeconds: 5\n',
        inits,
        container('app', 'echo app-after-$$(tail -n 1 /out/runs) >> /out/runs'),
      );
    const done = async () => (await podNamed('rejob'))?.phase === 'Succeeded';
    await writeFile(join(out, 'runs'), 'none\n');
    await writeFile(file, manifest(''));
    expect((await berth('apply', dir)).code).toBe(0);
    await until('rejob Succeeded', done);
    await writeFile(file, manifest(init));
    const plan = await berth('plan', dir);
    expect([plan.code, plan.stdout.split('\n').filter((l) => l.includes('rejob'))]).toEqual([
      2,
      [
        'restart-pod  rejob: init container setup added: it has finished: its container is removed, then it runs again from its init containers',
      ],
    ]);
    expect((await berth('apply', dir)).code).toBe(0);
    await until('rejob Succeeded again', async () => (await runs()).length === 4 && (await done()));
    // The new pod ran whole, in order: its init container, then its app on what it did.
    expect(await runs()).toEqual(['none', 'app-after-none', 'setup', 'app-after-setup']);
    expect(states(await podNamed('rejob'))).toEqual([
      ['setup', 'exited', 0],
      ['app', 'exited', 0],
    ]);
    expect((await berth('plan', dir)).code).toBe(0);
    await rm(file);
    expect((await berth('apply', dir)).code).toBe(0);
  }, 180_000);

  it('a pod with a sidecar that has finished under restartPolicy Never: its app container changed runs the whole pod again', async () => {
    const { file, runs, container, yaml } = await outPod('rerun');
    const manifest = (version: string) =>
      yaml(
        '  restartPolicy: Never\n  terminationGracePeriodSeconds: 5\n',
        container(
          'side',
          'echo side >> /out/runs; while true; do sleep 0.1; done',
          '      restartPolicy: Always\n',
        ) + container('setup', 'echo setup >> /out/runs'),
        container(
          'app',
          'echo app-$$VERSION >> /out/runs',
          `      env: [{name: VERSION, value: ${version}}]\n`,
        ),
      );
    const done = async () => (await podNamed('rerun'))?.phase === 'Succeeded';
    await writeFile(file, manifest('v1'));
    expect((await berth('apply', dir)).code).toBe(0);
    await until('rerun Succeeded', done);
    expect((await berth('apply', dir)).code).toBe(0); // its sidecar stops
    await writeFile(file, manifest('v2'));
    const plan = await berth('plan', dir);
    expect([plan.code, plan.stdout.split('\n').filter((l) => l.includes('rerun'))]).toEqual([
      2,
      [
        'restart-pod  rerun: container app changed (env VERSION changed): it has finished: its 2 containers are removed, then it runs again from its init containers',
      ],
    ]);
    expect((await berth('apply', dir)).code).toBe(0);
    await until('rerun Succeeded again', async () => (await runs()).length === 6 && (await done()));
    expect(await runs()).toEqual(['side', 'setup', 'app-v1', 'side', 'setup', 'app-v2']);
    expect((await berth('apply', dir)).code).toBe(0);
    expect((await berth('plan', dir)).code).toBe(0);
    await rm(file);
    expect((await berth('apply', dir)).code).toBe(0);
  }, 180_000);

  it('a sidecar changed while the app containers run: it alone is made again, as the kubelet restarts a changed sidecar', async () => {
    const { file, runs, container, yaml } = await outPod('sidechange');
    const manifest = (version: string) =>
      yaml(
        '  terminationGracePeriodSeconds: 5\n',
        container(
          'side',
          "trap 'echo side-$$VERSION-stopped >> /out/runs; exit 0' TERM; echo side-$$VERSION >> /out/runs; while true; do sleep 0.1; done",
          `      restartPolicy: Always\n      env: [{name: VERSION, value: ${version}}]\n`,
        ) + container('setup', 'echo setup >> /out/runs'),
        container(
          'app',
          "trap 'echo app-stopped >> /out/runs; exit 0' TERM; echo app >> /out/runs; while true; do sleep 0.1; done",
        ),
      );
    await writeFile(file, manifest('v1'));
    expect((await berth('apply', dir)).code).toBe(0);
    await writeFile(file, manifest('v2'));
    const plan = await berth('plan', dir);
    expect(plan.stdout.split('\n').filter((l) => l.includes('sidechange'))).toEqual([
      'remove       sidechange/side: env VERSION changed',
      'run          sidechange/side: env VERSION changed',
    ]);
    expect((await berth('apply', dir)).code).toBe(0);
    expect(await runs()).toEqual(['side-v1', 'setup', 'app', 'side-v1-stopped', 'side-v2']);
    expect((await berth('plan', dir)).code).toBe(0);
    await rm(file);
    expect((await berth('apply', dir)).code).toBe(0);
  }, 180_000);

  it('a sidecar with a startupProbe: the next init container and the app containers start only once it has started', async () => {
    const { out, file, runs, container, yaml } = await outPod('startup');
    await writeFile(
      file,
      yaml(
        '  terminationGracePeriodSeconds: 2\n',
        container(
          'side',
          'echo side >> /out/runs; exec sleep 3600',
          '      restartPolicy: Always\n' +
            '      startupProbe: {exec: {command: [test, -f, /out/ready]}, periodSeconds: 1, failureThreshold: 600}\n',
        ) + container('setup', 'echo setup >> /out/runs'),
        container('app', 'echo app >> /out/runs; exec sleep 3600'),
      ),
    );
    // berth apply runs no probes: the sidecar runs, nothing after it starts, and the wait says why.
    expect((await berth('apply', dir)).code).toBe(0);
    let pod = await podNamed('startup');
    expect([states(pod), pod?.waiting]).toEqual([
      [
        ['side', 'running', null],
        ['setup', 'waiting', null],
        ['app', 'waiting', null],
      ],
      'startup/side: running, not started: probes run only under the daemon (berth daemon)',
    ]);
    // Under the daemon, the probe fails while /out/ready is missing: still nothing after the sidecar.
    const h = host as E2eHost;
    daemon = await startDaemon({ root: h.root, state: h.state, manifests: dir });
    await until(
      'a failed startup probe of startup/side',
      async () => (await podNamed('startup'))?.containers[0]?.lastProbe?.ok === false,
    );
    pod = await podNamed('startup');
    expect([states(pod), pod?.waiting]).toEqual([
      [
        ['side', 'running', null],
        ['setup', 'waiting', null],
        ['app', 'waiting', null],
      ],
      // What ps says of the wait is the prober's latest finding, not what the last pass saw.
      'startup/side: running, not started: startup probe failed: exit code 1',
    ]);
    expect(await runs()).toEqual(['side']);
    await writeFile(join(out, 'ready'), '');
    await until('startup/app running', async () => states(await podNamed('startup'))?.[2]?.[1] === 'running');
    expect(await runs()).toEqual(['side', 'setup', 'app']);
    await daemon.stop();
    daemon = undefined;
    await rm(file);
    expect((await berth('apply', dir)).code).toBe(0);
  }, 180_000);

  it('activeDeadlineSeconds while an init container runs: berth apply stops it at the deadline, the pod is Failed, the app never made', async () => {
    const { out, file, container, yaml } = await outPod('slowinit');
    // The init container would run 60 s: the 3 s deadline ends it (its TERM trap notes it).
    await writeFile(
      file,
      yaml(
        '  activeDeadlineSeconds: 3\n  terminationGracePeriodSeconds: 5\n',
        container(
          'wait-db',
          "trap 'echo stopped >> /out/init; exit 1' TERM; for i in $$(seq 600); do sleep 0.1; done; echo done >> /out/init",
        ),
        container('app', 'exec sleep 3600'),
      ),
    );
    const applied = await berth('apply', dir);
    expect([applied.code, await lines(join(out, 'init'))]).toEqual([0, ['stopped']]);
    const pod = await podNamed('slowinit');
    expect([pod?.phase, pod?.reason, states(pod)]).toEqual([
      'Failed',
      'DeadlineExceeded',
      [
        ['wait-db', 'exited', 1],
        ['app', 'waiting', null],
      ],
    ]);
    await rm(file);
    expect((await berth('apply', dir)).code).toBe(0);
  }, 180_000);
});
