// An httpGet probe's or hook's httpHeaders as validation.go checks them: a name is
// IsHTTPHeaderName's `[-A-Za-z0-9]+` (a cluster refuses X_Request_Id or X.Trace, which HTTP's token
// rule would take), and a value is never required (HTTPHeader.value is a plain string: left out, or
// `value:` with nothing after it as a helm value renders, is ""). Regressions: berth took the names,
// and refused the header with no value ("must have required property 'value'").
import { describe, expect, it } from 'vitest';
import { probeOf } from '../../src/health/probe-spec.js';
import { formatDiagnostic } from '../../src/lib/yaml-validate.js';
import { parseFile } from '../../src/manifest/parse.js';
import { podWithField as podText, podSchemaProblems as problems } from '../helpers/pod-schema.js';

const places = [
  ['livenessProbe', ''],
  ['readinessProbe', ''],
  ['startupProbe', ''],
  ['lifecycle', 'postStart'],
  ['lifecycle', 'preStop'],
].flatMap(([field, hook]) =>
  ['containers', 'initContainers'].map((list): [string, string, string] => [field ?? '', hook ?? '', list]),
);

const withHeaders = (field: string, hook: string, headers: string) => {
  const httpGet = `{httpGet: {path: /, port: 80, httpHeaders: ${headers}}}`;
  return hook === '' ? [field, httpGet] : [field, `{${hook}: ${httpGet}}`];
};

describe("an httpGet's headers", () => {
  it.each(places)('a name with _ or . is refused (%s %s, %s)', (field, hook, list) => {
    const [f, v] = withHeaders(field, hook, '[{name: X_Request_Id, value: a}, {name: X.Trace, value: b}]');
    const found = problems(podText(f ?? '', v ?? '', list));
    expect(found).toHaveLength(2);
    for (const line of found)
      expect(line).toContain("must be an HTTP header name of letters, digits and '-'");
  });

  it.each(places)(
    'a name of letters, digits and - and a header with no value are taken (%s %s, %s)',
    (field, hook, list) => {
      const [f, v] = withHeaders(field, hook, '[{name: X-Request-Id2, value: a}, {name: X-Empty}]');
      expect(problems(podText(f ?? '', v ?? '', list))).toEqual([]);
    },
  );

  it('a value left empty (null) loads and is sent as ""', () => {
    const text = [
      'apiVersion: v1',
      'kind: Pod',
      'metadata: {name: p}',
      'spec:',
      '  containers:',
      '  - name: main',
      '    image: busybox:1',
      '    readinessProbe:',
      '      httpGet:',
      '        path: /ready',
      '        port: 8080',
      '        httpHeaders:',
      '        - name: X-Token',
      '          value:',
      '        - name: X-Mode',
      '',
    ].join('\n');
    expect(parseFile(text, 'p.yaml').diagnostics.map(formatDiagnostic)).toEqual([]);
    const probe = probeOf({
      httpGet: { port: 8080, httpHeaders: [{ name: 'X-Token' }, { name: 'X-Mode' }] },
    });
    expect(probe.action).toEqual({
      kind: 'httpGet',
      scheme: 'HTTP',
      port: 8080,
      path: '/',
      headers: [
        { name: 'X-Token', value: '' },
        { name: 'X-Mode', value: '' },
      ],
    });
  });
});
