// A container's restartPolicyRules (Kubernetes 1.34 ContainerRestartRules), end to end as root with
// real runc, conmon and overlayfs: under a pod restartPolicy Never, a container whose rule matches
// its exit code (In [42]) is restarted after its back-off, and one that exits with a code no rule
// matches stays down and fails the pod, as the kubelet does it.

import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PodView } from '../../src/reconcile/pod-views.js';
import { type E2eHost, setUpE2eHost, tearDownE2eHost } from '../helpers/e2e-host.js';
import { until } from '../helpers/poll.js';
import { missingPrereqs } from '../helpers/prereqs.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'unshare', 'findmnt'], {
  root: true,
});

describe.skipIf(skip)('container restartPolicyRules', () => {
  let host: E2eHost | undefined;
  beforeAll(async () => {
    host = await setUpE2eHost('rules');
  }, 180_000);
  afterAll(async () => {
    const { leaked } = await tearDownE2eHost(host);
    expect(leaked).toEqual([]);
  });

  it('exit 42 matches In [42]: restarted under a pod restartPolicy Never; the next exit (3) matches nothing: the pod is Failed', async () => {
    const { work, dir, image, berth } = host as E2eHost;
    const out = join(work, 'runs');
    await mkdir(out);
    const file = join(dir, 'job.yaml');
    // First run exits 42, the second exits 3.
    await writeFile(
      file,
      `apiVersion: v1\nkind: Pod\nmetadata: {name: job}\nspec:\n  restartPolicy: Never\n  containers:\n` +
        `    - name: main\n      image: ${image}\n      restartPolicy: Never\n` +
        '      restartPolicyRules: [{action: Restart, exitCodes: {operator: In, values: [42]}}]\n' +
        `      command: [sh, -c, "echo run >> /out/runs; if [ $$(wc -l < /out/runs) -eq 1 ]; then exit 42; fi; exit 3"]\n` +
        '      volumeMounts: [{name: out, mountPath: /out}]\n' +
        `  volumes:\n    - name: out\n      hostPath: {path: ${out}}\n`,
    );
    const pod = async () =>
      (JSON.parse((await berth('ps', '-o', 'json')).stdout) as PodView[]).find((p) => p.name === 'job');
    expect((await berth('apply', dir)).code).toBe(0);
    // berth apply waits for nothing of an app container: wait for the first exit.
    await until('job/main exited', async () => (await pod())?.containers[0]?.state === 'exited');
    let p = await pod();
    expect([p?.phase, p?.containers[0]?.exitCode]).toEqual(['Running', 42]);
    const plan = await berth('plan', dir);
    expect(plan.stdout).toMatch(
      /job\/main: exited 42, restart rule exitCodes In \[42\], (back-off|restart 1)/,
    );
    // After the 10 s back-off, apply restarts it; it exits 3, which no rule matches.
    await new Promise((r) => setTimeout(r, 10_500));
    expect((await berth('apply', dir)).code).toBe(0);
    await until('job/main exited 3', async () => (await pod())?.containers[0]?.exitCode === 3);
    p = await pod();
    expect([p?.phase, p?.containers[0]?.exitCode, p?.containers[0]?.restarts]).toEqual(['Failed', 3, 1]);
    expect((await readFile(join(out, 'runs'), 'utf8')).trim().split('\n')).toEqual(['run', 'run']);
    expect((await berth('plan', dir)).code).toBe(0);
    await rm(file);
    expect((await berth('apply', dir)).code).toBe(0);
  }, 180_000);
});
