// A container's own restartPolicy and restartPolicyRules (Kubernetes 1.34 ContainerRestartRules, beta
// in 1.35), as the kubelet applies them: the rules are tried in order on each exit (action Restart,
// exitCodes In or NotIn), the first that matches restarts the container; else the container's
// restartPolicy decides, else the pod's. Rules need the container's restartPolicy set, as the API
// server requires.
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/lib/yaml-validate.js';
import type { LoadedDoc, PodManifest } from '../../src/manifest/kinds.js';
import { parseFile } from '../../src/manifest/parse.js';
import { desiredState } from '../../src/reconcile/desired.js';
import { ANNOTATION, type ObservedContainer, OWNER_MANIFESTS, plan } from '../../src/reconcile/plan.js';
import { type ContainerView, phaseOf } from '../../src/reconcile/pod-views.js';
import { canonicalSpec, specHash } from '../../src/reconcile/spec-hash.js';

const pod = (container: string, podPolicy = 'Never') =>
  `apiVersion: v1\nkind: Pod\nmetadata: {name: job}\nspec:\n  restartPolicy: ${podPolicy}\n  containers:\n    - name: main\n      image: busybox\n${container}`;

const diagnostics = (text: string) => parseFile(text, 'm.yaml').diagnostics.map(formatDiagnostic);

describe('container restartPolicy and restartPolicyRules in a manifest', () => {
  it('a regular container with its own restartPolicy and rules loads', () => {
    expect(
      diagnostics(
        pod(
          '      restartPolicy: Never\n      restartPolicyRules:\n' +
            '        - action: Restart\n          exitCodes: {operator: In, values: [42, 43]}\n' +
            '        - action: Restart\n          exitCodes: {operator: NotIn, values: [0, 1]}\n',
        ),
      ),
    ).toEqual([]);
    expect(diagnostics(pod('      restartPolicy: OnFailure\n', 'Always'))).toEqual([]);
  });

  it('what the API server refuses is refused at its node', () => {
    expect(
      diagnostics(
        pod(
          '      restartPolicyRules:\n        - action: Restart\n          exitCodes: {operator: In, values: [42]}\n',
        ),
      ),
    ).toEqual([
      "m.yaml:10:9: ERR_MANIFEST_INVALID: restartPolicyRules needs the container's own restartPolicy (Always, OnFailure or Never), as Kubernetes requires",
    ]);
    expect(
      diagnostics(
        pod(
          '      restartPolicy: Never\n      restartPolicyRules:\n        - action: RestartPod\n          exitCodes: {operator: In, values: [42]}\n' +
            '        - action: Restart\n          exitCodes: {operator: Maybe, values: [1]}\n' +
            '        - action: Restart\n',
        ),
      ).map((l) => l.split(': ').slice(0, 2).join(': ')),
    ).toEqual([
      'm.yaml:11:19: ERR_MANIFEST_SCHEMA',
      'm.yaml:14:33: ERR_MANIFEST_SCHEMA',
      'm.yaml:15:11: ERR_MANIFEST_SCHEMA',
    ]);
    const many = Array.from(
      { length: 21 },
      () => '        - action: Restart\n          exitCodes: {operator: In, values: [3]}\n',
    );
    expect(
      diagnostics(pod(`      restartPolicy: Never\n      restartPolicyRules:\n${many.join('')}`)),
    ).toHaveLength(1);
    expect(diagnostics(pod('      restartPolicy: Sometimes\n'))).toHaveLength(1);
    // A repeated exit code is named at the repeat (ajv gives scalars' pair the other way round).
    expect(
      diagnostics(
        pod(
          '      restartPolicy: Never\n      restartPolicyRules:\n        - action: Restart\n          exitCodes: {operator: In, values: [1, 2, 1]}\n',
        ),
      ).map((l) => l.replace(/ \(.*$/, '')),
    ).toEqual([
      'm.yaml:12:52: ERR_MANIFEST_SCHEMA: spec.containers.0.restartPolicyRules.0.exitCodes.values.2 repeats an earlier item',
    ]);
  });
});

const NOW = Date.parse('2026-11-22T12:00:00Z');
const DIGEST = 'sha256:aaa';
const host = { volumes: '/r/volumes', pods: '/r/pods', netns: '/s/netns' };

function loaded(spec: Partial<PodManifest['spec']>): LoadedDoc {
  return {
    file: '/m/job.yaml',
    line: 1,
    doc: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'job' }, spec: spec as PodManifest['spec'] },
  };
}

function exited(d: ReturnType<typeof desiredState>, name: string, exitCode: number): ObservedContainer {
  const p = d.pods[0];
  const c = [...(p?.initContainers ?? []), ...(p?.containers ?? [])].find((x) => x.name === name);
  const spec = canonicalSpec(c as NonNullable<typeof c>, DIGEST);
  return {
    id: `${name}-id`,
    name: `job_${name}`,
    state: 'exited',
    exitCode,
    startedAt: '2026-11-22T10:00:00Z',
    finishedAt: '2026-11-22T11:00:00Z',
    annotations: {
      [ANNOTATION.owner]: OWNER_MANIFESTS,
      [ANNOTATION.pod]: 'job',
      [ANNOTATION.container]: name,
      [ANNOTATION.source]: '/m/job.yaml',
      [ANNOTATION.hash]: specHash(spec),
      [ANNOTATION.spec]: JSON.stringify(spec),
    },
  };
}

const planFor = (spec: Partial<PodManifest['spec']>, container: string, exitCode: number) => {
  const desired = desiredState([loaded(spec)], host);
  const sandboxes = new Map([
    [
      'job',
      { netns: true, network: { state: 'ready' as const, ports: [] }, volumes: {}, source: '/m/job.yaml' },
    ],
  ]);
  return plan({
    folder: '/m',
    desired,
    observed: {
      images: new Map([['docker.io/library/busybox:latest', DIGEST]]),
      containers: [exited(desired, container, exitCode)],
      sandboxes,
    },
    frozen: new Map(),
    now: NOW,
  }).map((a) => `${a.kind} ${a.reason}`);
};

describe('container restart rules in the plan', () => {
  const rules = [
    { action: 'Restart', exitCodes: { operator: 'In', values: [42] } },
    { action: 'Restart', exitCodes: { operator: 'NotIn', values: [0, 1, 42] } },
  ];
  const spec = (policy: string) =>
    ({
      restartPolicy: 'Never',
      containers: [{ name: 'main', image: 'busybox', restartPolicy: policy, restartPolicyRules: rules }],
    }) as unknown as Partial<PodManifest['spec']>;

  it('a rule that matches restarts the container under a pod restartPolicy Never', () => {
    expect(planFor(spec('Never'), 'main', 42)).toEqual([
      'run job/main: exited 42, restart rule exitCodes In [42], restart 1 after 10 s',
    ]);
    expect(planFor(spec('Never'), 'main', 7)).toEqual([
      'run job/main: exited 7, restart rule exitCodes NotIn [0, 1, 42], restart 1 after 10 s',
    ]);
  });

  it('no rule matches: the container restartPolicy decides, over the pod one', () => {
    expect(planFor(spec('Never'), 'main', 1)).toEqual([]);
    expect(planFor(spec('OnFailure'), 'main', 1)).toEqual([
      'run job/main: exited 1, restart policy OnFailure, restart 1 after 10 s',
    ]);
    expect(planFor(spec('OnFailure'), 'main', 0)).toEqual([]);
    const always = {
      restartPolicy: 'Never',
      containers: [{ name: 'main', image: 'busybox', restartPolicy: 'Always' }],
    } as unknown as Partial<PodManifest['spec']>;
    expect(planFor(always, 'main', 0)).toEqual([
      'run job/main: exited 0, restart policy Always, restart 1 after 10 s',
    ]);
  });
});

describe('the pod phase with container restart rules', () => {
  const view = (name: string, exitCode: number) =>
    ({ name, state: 'exited', exitCode }) as unknown as ContainerView;
  const restart = { main: { policy: 'Never' as const, rules: [{ operator: 'In' as const, values: [42] }] } };
  it('a container its rule restarts keeps the pod Running; one no rule restarts ends it', () => {
    expect(phaseOf([view('main', 42)], 'Never', [], restart)).toBe('Running');
    expect(phaseOf([view('main', 1)], 'Never', [], restart)).toBe('Failed');
    expect(phaseOf([view('main', 1)], 'Never', [], { main: { policy: 'OnFailure' } })).toBe('Running');
    expect(phaseOf([view('main', 0)], 'Always', [], { main: { policy: 'Never' } })).toBe('Succeeded');
  });
});
