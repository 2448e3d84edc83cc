// A Pod document checked against schemas/pod.schema.json alone, as `berth validate` reports it:
// one `p.yaml:LINE:COL: CODE: message` line per problem (none: the schema accepts it); and a
// one-container Pod with one field set, to check a field in either container list.
import { LineCounter, parseDocument } from 'yaml';
import { loadSchema } from '../../src/lib/schemas.js';
import { formatDiagnostic, validateDocument } from '../../src/lib/yaml-validate.js';

export function podSchemaProblems(text: string): string[] {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  return validateDocument(
    doc,
    doc.toJS(),
    lc,
    'p.yaml',
    loadSchema('pod.schema.json'),
    'ERR_MANIFEST_SCHEMA',
  ).map(formatDiagnostic);
}

/** A Pod whose one container (in `list`; an init one is a sidecar beside an app) sets `field: value`. */
export const podWithField = (field: string, value: string, list = 'containers') =>
  [
    'apiVersion: v1',
    'kind: Pod',
    'metadata: {name: p}',
    'spec:',
    `  ${list}:`,
    '    - name: main',
    '      image: busybox:1',
    ...(list === 'initContainers' ? ['      restartPolicy: Always'] : []),
    `      ${field}: ${value}`,
    ...(list === 'initContainers' ? ['  containers: [{name: app, image: busybox:1}]'] : []),
    '',
  ].join('\n');
