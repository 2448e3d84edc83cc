// A container's lifecycle.stopSignal (Kubernetes 1.33 ContainerStopSignals), end to end as root with
// real runc, conmon and overlayfs: the signal berth sends to stop that container is the one the
// manifest names, over the image's StopSignal and SIGTERM; a container without one still gets SIGTERM.
// busybox sh traps each signal and writes its name where the test reads it.

import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2eHost, setUpE2eHost, tearDownE2eHost } from '../helpers/e2e-host.js';
import { missingPrereqs } from '../helpers/prereqs.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'unshare', 'findmnt'], {
  root: true,
});

describe.skipIf(skip)('lifecycle.stopSignal', () => {
  let host: E2eHost | undefined;
  beforeAll(async () => {
    host = await setUpE2eHost('stopsig');
  }, 180_000);
  afterAll(async () => {
    const { leaked } = await tearDownE2eHost(host);
    expect(leaked).toEqual([]);
  });

  it('the container named signal stops it (SIGUSR1, SIGRTMIN+3); one without gets SIGTERM', async () => {
    const { work, dir, image, berth } = host as E2eHost;
    const out = join(work, 'signals');
    await mkdir(out);
    // Each container notes the first signal it gets; 34+3 is SIGRTMIN+3 as glibc numbers it.
    const trapping = (name: string) =>
      `      command: [sh, -c, "for s in TERM USR1 USR2 INT QUIT HUP 37; do trap \\"echo $$s > /out/${name}; exit 0\\" $$s; done; while true; do sleep 0.1; done"]\n` +
      '      volumeMounts: [{name: out, mountPath: /out}]\n';
    const file = join(dir, 'stopsig.yaml');
    await writeFile(
      file,
      `apiVersion: v1\nkind: Pod\nmetadata: {name: stopsig}\nspec:\n  os: {name: linux}\n  terminationGracePeriodSeconds: 60\n  containers:\n` +
        `    - name: usr1\n      image: ${image}\n      lifecycle: {stopSignal: SIGUSR1}\n${trapping('usr1')}` +
        `    - name: rt\n      image: ${image}\n      lifecycle: {stopSignal: SIGRTMIN+3}\n${trapping('rt')}` +
        `    - name: plain\n      image: ${image}\n${trapping('plain')}` +
        `  volumes:\n    - name: out\n      hostPath: {path: ${out}}\n`,
    );
    expect((await berth('apply', dir)).code).toBe(0);
    await rm(file);
    const started = Date.now();
    expect((await berth('apply', dir)).code).toBe(0);
    // Each stopped on its signal, not on the SIGKILL after the grace period, which a stop that waited
    // ends past. A grace of 60 s, not 5: a loaded host's apply alone (the CLI's start, three stops,
    // the pod's unmounts and network) can take more than 5 s.
    expect(Date.now() - started).toBeLessThan(60_000);
    const got = async (n: string) => (await readFile(join(out, n), 'utf8').catch(() => '')).trim();
    expect([await got('usr1'), await got('rt'), await got('plain')]).toEqual(['USR1', '37', 'TERM']);
  }, 180_000);
});
