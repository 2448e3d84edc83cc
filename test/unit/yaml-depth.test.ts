// Flow collections nested past go-yaml's bound (10000: "exceeded max depth", CVE-2019-11254) are a
// syntax error of the file, placed where the level past it opens, as a cluster's reader refuses
// them; before, the yaml library took them, at some 7 s of CPU for a million levels (a 2 MB file a
// folder writer could drop) on the daemon's one thread. Brackets in quotes, comments and block
// scalars are text, not nesting.
import { describe, expect, it } from 'vitest';
import { MAX_BLOCK_DEPTH, MAX_FLOW_DEPTH } from '../../src/lib/yaml-depth.js';
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

// go-yaml bounds block collections too (max_indents, 10000): `- - - x` on one line opens a sequence
// per `- `. Before, two million of them (4 MB) took the yaml library 8 s and ended in "Maximum call
// stack size exceeded"; now the same syntax error as flow nesting, before any parse.
describe('block nesting on one line past go-yaml bound', () => {
  const blockPod = (items: string) => pod('x').replace('spec:', `    b: x\nextra:\n  ${items}\nspec:`);

  it('is ERR_YAML_SYNTAX at the level past it', () => {
    const { parsed, diagnostics } = parseFile(blockPod(`${'- '.repeat(MAX_BLOCK_DEPTH + 1)}x`), 'deep.yaml');
    expect(parsed).toEqual([]);
    expect(diagnostics.map((d) => [d.file, d.line, d.col, d.code])).toEqual([
      ['deep.yaml', 9, 3 + 2 * MAX_BLOCK_DEPTH, 'ERR_YAML_SYNTAX'],
    ]);
    expect(diagnostics[0]?.message).toContain(`nested more than ${MAX_BLOCK_DEPTH} deep`);
  });

  it('two million levels (4 MB) are refused the same way, not by a stack overflow', () => {
    const { diagnostics } = parseFile(blockPod(`${'- '.repeat(2_000_000)}x`), 'huge.yaml');
    expect(diagnostics.map((d) => d.code)).toEqual(['ERR_YAML_SYNTAX']);
    expect(diagnostics[0]?.message).toContain('block collections');
  });

  // The yaml library's own parser runs out of stack some way under 10,000 levels (some 900 here):
  // a file that deep is refused by that, in milliseconds, saying so.
  it('a stack the reader runs out of is said so', () => {
    const { diagnostics } = parseFile(blockPod(`${'- '.repeat(MAX_BLOCK_DEPTH - 1)}x`), 'deep.yaml');
    expect(diagnostics.map((d) => [d.file, d.code])).toEqual([['deep.yaml', 'ERR_YAML_SYNTAX']]);
    expect(diagnostics[0]?.message).toMatch(
      /^collections nested too deep to read: the YAML reader ran out of stack/,
    );
  });

  it('a hundred levels, and long lines of text or flow mappings, are no nesting', () => {
    const syntax = (text: string) =>
      parseFile(text, 'long.yaml').diagnostics.filter((d) => d.code === 'ERR_YAML_SYNTAX');
    expect(syntax(blockPod(`${'- '.repeat(100)}x`))).toEqual([]);
    const keys = Array.from({ length: MAX_BLOCK_DEPTH + 5 }, (_, i) => `k${i}: ${i}`).join(', ');
    expect(syntax(blockPod(`{${keys}}`))).toEqual([]);
    const text = pod(`"${'- '.repeat(MAX_BLOCK_DEPTH + 5)}"`).replace(
      'spec:',
      `    c: x ${'- ? '.repeat(MAX_BLOCK_DEPTH)}\n    d: |\n      ${'- '.repeat(MAX_BLOCK_DEPTH + 5)}\nspec:`,
    );
    const { parsed, diagnostics } = parseFile(text, 'long.yaml');
    expect(diagnostics.filter((d) => d.code.startsWith('ERR_'))).toEqual([]);
    expect(parsed).toHaveLength(1);
  });
});
