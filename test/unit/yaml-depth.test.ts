// Flow collections nested past go-yaml's bound (10000: "exceeded max depth", CVE-2019-11254) are a
// syntax error of the file, placed where the level past it opens, as a cluster's reader refuses
// them; before, the yaml library took them, at some 7 s of CPU for a million levels (a 2 MB file a
// folder writer could drop) on the daemon's one thread. Brackets in quotes, comments and block
// scalars are text, not nesting.
import { describe, expect, it } from 'vitest';
import { MAX_FLOW_DEPTH } from '../../src/lib/yaml-depth.js';
import { parseFile } from '../../src/manifest/parse.js';

const pod = (annotation: string) =>
  [
    'apiVersion: v1',
    'kind: Pod',
    'metadata:',
    '  name: deep',
    '  annotations:',
    `    a: ${annotation}`,
    'spec:',
    '  containers: [{name: main, image: busybox}]',
    '',
  ].join('\n');

const nested = (n: number) => '['.repeat(n) + ']'.repeat(n);

describe('flow nesting past go-yaml bound', () => {
  it('is ERR_YAML_SYNTAX at the level past it; nothing is parsed', () => {
    const { parsed, diagnostics } = parseFile(pod(nested(MAX_FLOW_DEPTH + 1)), 'deep.yaml');
    expect(parsed).toEqual([]);
    expect(diagnostics.map((d) => [d.file, d.line, d.col, d.code])).toEqual([
      ['deep.yaml', 6, 8 + MAX_FLOW_DEPTH, 'ERR_YAML_SYNTAX'],
    ]);
    expect(diagnostics[0]?.message).toContain(`nested more than ${MAX_FLOW_DEPTH} deep`);
  });

  it('a million levels too, and in a later document of the file', () => {
    const text = `${pod('x')}---\nb: ${'{'.repeat(1_000_000)}\n`;
    const { diagnostics } = parseFile(text, 'm.yaml');
    expect(diagnostics.map((d) => [d.line, d.col, d.code])).toEqual([
      [10, 4 + MAX_FLOW_DEPTH, 'ERR_YAML_SYNTAX'],
    ]);
  });

  it('brackets that are text (quoted, commented, in a block scalar) are no nesting', () => {
    const many = '['.repeat(MAX_FLOW_DEPTH + 5);
    const text = pod(`"${many}"`).replace(
      'spec:',
      `    b: '${'{'.repeat(MAX_FLOW_DEPTH + 5)}'\n    c: |\n      ${many}\n# ${many}\nspec:`,
    );
    const { parsed, diagnostics } = parseFile(text, 'text.yaml');
    expect(diagnostics.filter((d) => d.code.startsWith('ERR_'))).toEqual([]);
    expect(parsed).toHaveLength(1);
  });
});
