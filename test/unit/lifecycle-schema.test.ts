// container.lifecycle as the Pod schema and the desired state see it: a handler names exactly one
// action (exec, httpGet, tcpSocket or sleep; grpc is a probe's only), sleep.seconds is at least 0,
// a port is a number or a port name, a header cannot smuggle a second line; the hooks (and the
// container's named ports) reach the desired container and its stored spec, and a change of them
// is named. Hook timing is pure too (health/hooks.ts).
import { describe, expect, it } from 'vitest';
import {
  describeHookFailure,
  graceAfterPreStop,
  postStartTimeoutMs,
  runsPreStop,
  storedHooks,
} from '../../src/health/hooks.js';
import { lifecycleHooks } from '../../src/health/probe-spec.js';
import type { DesiredContainer } from '../../src/reconcile/desired.js';
import { canonicalSpec, describeChanges } from '../../src/reconcile/spec-hash.js';
import { podSchemaProblems as problems } from '../helpers/pod-schema.js';

const podText = (lifecycle: string) =>
  [
    'apiVersion: v1',
    'kind: Pod',
    'metadata: {name: p}',
    'spec:',
    '  containers:',
    '    - name: main',
    '      image: busybox:1',
    `      lifecycle: ${lifecycle}`,
    '',
  ].join('\n');

describe('the lifecycle schema', () => {
  it.each([
    ['{postStart: {exec: {command: [sh, -c, "echo hi"]}}}'],
    ['{preStop: {httpGet: {port: 8080, path: /quit, scheme: HTTPS, httpHeaders: [{name: X-A, value: b}]}}}'],
    ['{preStop: {httpGet: {port: http, host: 10.0.0.1}}}'],
    ['{preStop: {tcpSocket: {port: 5432}}}'],
    ['{preStop: {sleep: {seconds: 0}}, postStart: {sleep: {seconds: 5}}}'],
  ])('accepts %s', (l) => {
    expect(problems(podText(l))).toEqual([]);
  });

  it.each([
    [
      '{preStop: {}}',
      'p.yaml:8:28: ERR_MANIFEST_SCHEMA: spec.containers.0.lifecycle.preStop must name exactly one action: exec, httpGet, tcpSocket or sleep',
    ],
    [
      '{preStop: {exec: {command: [x]}, sleep: {seconds: 1}}}',
      'p.yaml:8:28: ERR_MANIFEST_SCHEMA: spec.containers.0.lifecycle.preStop must name exactly one action: exec, httpGet, tcpSocket or sleep',
    ],
    [
      '{preStop: {sleep: {seconds: -1}}}',
      'p.yaml:8:46: ERR_MANIFEST_SCHEMA: spec.containers.0.lifecycle.preStop.sleep.seconds must be >= 0',
    ],
    [
      '{postStart: {grpc: {port: 9000}}}',
      'p.yaml:8:31: ERR_MANIFEST_SCHEMA: unknown field spec.containers.0.lifecycle.postStart.grpc',
    ],
    [
      '{postStart: {exec: {command: []}}}',
      'p.yaml:8:47: ERR_MANIFEST_SCHEMA: spec.containers.0.lifecycle.postStart.exec.command must NOT have fewer than 1 items',
    ],
    [
      '{preStop: {httpGet: {port: 70000}}}',
      'p.yaml:8:45: ERR_MANIFEST_SCHEMA: spec.containers.0.lifecycle.preStop.httpGet.port must be <= 65535',
    ],
    [
      '{preStop: {httpGet: {port: 80, httpHeaders: [{name: X, value: "a\\r\\nHost: evil"}]}}}',
      'p.yaml:8:80: ERR_MANIFEST_SCHEMA: spec.containers.0.lifecycle.preStop.httpGet.httpHeaders.0.value must be one line',
    ],
  ])('refuses %s', (l, why) => {
    expect(problems(podText(l))).toEqual([why]);
  });
});

describe('hooks in the desired state', () => {
  it('carry the named ports, and are stored in the spec; a change of them is named', () => {
    const hooks = lifecycleHooks({
      lifecycle: { preStop: { httpGet: { port: 'web', path: '' } } },
      ports: [{ name: 'web', containerPort: 8080 }, { containerPort: 9090 }],
    });
    expect(hooks).toEqual({
      preStop: { kind: 'httpGet', scheme: 'HTTP', port: 'web', path: '/', headers: [] },
      namedPorts: { web: 8080 },
    });
    const base = { image: 'i', init: false, settings: { name: 'p_main' } } as unknown as DesiredContainer;
    const before = canonicalSpec(base, 'sha256:a');
    expect(before).not.toHaveProperty('lifecycle'); // older hashes hold for containers without hooks
    const after = canonicalSpec({ ...base, ...(hooks ? { lifecycle: hooks } : {}) }, 'sha256:a');
    expect(storedHooks(JSON.stringify(after))).toEqual(hooks);
    expect(describeChanges(before, after)).toEqual(['lifecycle changed']);
    expect(storedHooks('not json')).toBeUndefined();
  });
});

describe('hook timing', () => {
  it('gives the stop signal what the preStop left of the grace period, at least 2 s', () => {
    expect(graceAfterPreStop(30, 10_000)).toBe(20);
    expect(graceAfterPreStop(2, 2_000)).toBe(2);
    expect(graceAfterPreStop(5, 60_000)).toBe(2);
  });
  it('skips preStop at a grace period of 0, as the kubelet', () => {
    const hooks = { preStop: { kind: 'sleep' as const, seconds: 1 } };
    expect([runsPreStop(hooks, 0), runsPreStop(hooks, 1), runsPreStop({}, 30)]).toEqual([false, true, false]);
  });
  it('bounds postStart by the grace period (at least 1 s), and names a failure', () => {
    expect([postStartTimeoutMs(30), postStartTimeoutMs(0)]).toEqual([30_000, 1_000]);
    expect(describeHookFailure('postStart', { ok: false, message: 'HTTP 500' })).toBe(
      'postStart hook failed: HTTP 500',
    );
  });
});
