// A port a probe or hook names is an IANA service name, as Kubernetes checks it (apimachinery
// IsValidPortName): at most 15 lower-case letters, digits and '-', with a letter, no '--', no '-'
// at either end. Regression: `port: "8080"` (a quoted number) and `a--b` passed validate, then the
// probe failed for ever with `the container has no port named "8080"`, restarting a healthy
// container; a cluster refuses both.
import { describe, expect, it } from 'vitest';
import { podWithField as podText, podSchemaProblems as problems } from '../helpers/pod-schema.js';

const handlers = (port: string) => [
  ['livenessProbe', `{httpGet: {port: ${port}}}`],
  ['readinessProbe', `{tcpSocket: {port: ${port}}}`],
  ['startupProbe', `{httpGet: {port: ${port}, path: /}}`],
  ['lifecycle', `{preStop: {httpGet: {port: ${port}}}}`],
  ['lifecycle', `{postStart: {tcpSocket: {port: ${port}}}}`],
];

const cases = (ports: string[]) =>
  ports.flatMap((port) =>
    ['containers', 'initContainers'].flatMap((list) => handlers(port).map(([f, h]) => [port, list, f, h])),
  );

describe('a port named by a probe or hook', () => {
  it.each(cases(['8080', 'http', 'h2c', 'web-1', '"9-p"', 'a1234567890bcde']))(
    'accepts %s (%s, %s)',
    (_port, list, field, handler) => {
      expect(problems(podText(field as string, handler as string, list as string))).toEqual([]);
    },
  );

  it.each(
    cases(['"8080"', '"0"', 'a--b', 'web--1', '-web', 'web-', 'Http', 'a12345678901bcde', 'web_1', '""']),
  )('refuses %s (%s, %s)', (_port, list, field, handler) => {
    const found = problems(podText(field as string, handler as string, list as string));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(
      /ERR_MANIFEST_SCHEMA: .*(port number|IANA service name|more than 15 characters)/,
    );
  });
});
