// A probe's timeoutSeconds, periodSeconds, successThreshold or failureThreshold of 0 means its
// default, as Kubernetes' SetDefaults_Probe (pkg/apis/core/v1/defaults.go) makes it before
// validation (timeout 1 s, period 10 s, success 1, failure 3), so such a manifest is valid there and
// here. Regression: berth refused them ("must be >= 1"). A negative value is still refused, and so
// is a liveness or startup successThreshold other than 1 (0 being 1).
import { describe, expect, it } from 'vitest';
import { probeOf } from '../../src/health/probe-spec.js';
import { podWithField as podText, podSchemaProblems as problems } from '../helpers/pod-schema.js';

const places = ['livenessProbe', 'readinessProbe', 'startupProbe'].flatMap((field) =>
  ['containers', 'initContainers'].map((list): [string, string] => [field, list]),
);

describe('a probe value of 0', () => {
  it.each(places)('is accepted as the default (%s, %s)', (field, list) => {
    const probe =
      '{tcpSocket: {port: 80}, initialDelaySeconds: 0, timeoutSeconds: 0, periodSeconds: 0, successThreshold: 0, failureThreshold: 0}';
    expect(problems(podText(field, probe, list))).toEqual([]);
  });

  it.each(
    places.flatMap(([field, list]) =>
      ['timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold', 'initialDelaySeconds'].map(
        (key) => [field, list, key],
      ),
    ),
  )('a negative value is refused (%s, %s, %s)', (field, list, key) => {
    const found = problems(podText(field, `{tcpSocket: {port: 80}, ${key}: -1}`, list));
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(`${field}.${key} must be`);
  });

  it.each([
    ['livenessProbe', 2],
    ['startupProbe', 3],
  ])('a %s successThreshold other than 1 (or 0) is still refused', (field, n) => {
    const found = problems(podText(field, `{tcpSocket: {port: 80}, successThreshold: ${n}}`));
    expect(found.map((d) => d.replace(/^p\.yaml:8:\d+: /, ''))).toEqual([
      `ERR_MANIFEST_SCHEMA: spec.containers.0.${field}.successThreshold must be one of 0, 1`,
    ]);
  });

  it('a readiness successThreshold above 1 is kept', () => {
    expect(problems(podText('readinessProbe', '{tcpSocket: {port: 80}, successThreshold: 3}'))).toEqual([]);
    expect(probeOf({ tcpSocket: { port: 80 }, successThreshold: 3 }).successThreshold).toBe(3);
  });

  it("reads as Kubernetes' defaults", () => {
    const zero = probeOf({
      tcpSocket: { port: 80 },
      initialDelaySeconds: 0,
      timeoutSeconds: 0,
      periodSeconds: 0,
      successThreshold: 0,
      failureThreshold: 0,
    });
    expect(zero).toEqual(probeOf({ tcpSocket: { port: 80 } }));
    expect(zero).toEqual({
      action: { kind: 'tcpSocket', port: 80 },
      initialDelayMs: 0,
      periodMs: 10_000,
      timeoutMs: 1000,
      successThreshold: 1,
      failureThreshold: 3,
    });
  });
});
