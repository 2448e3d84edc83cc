// A Pod document checked against schemas/pod.schema.json alone, as `berth validate` reports it:
// one `p.yaml:LINE:COL: CODE: message` line per problem (none: the schema accepts it).
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
