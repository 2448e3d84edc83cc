// `\'` in a double-quoted string, read as go-yaml (so Kubernetes) reads it: as `'`, with a warning
// (manifest/yaml-escapes.ts). The first file is the Kubernetes docs' own example.
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/lib/yaml-validate.js';
import { parseFile } from '../../src/manifest/parse.js';

const pod = (command: string) =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: envfile\nspec:\n  containers:\n    - name: c\n      image: busybox\n      command: ${command}\n`;
const commandOf = (text: string) => {
  const { parsed, diagnostics } = parseFile(text, 'p.yaml');
  const value = parsed[0]?.value as { spec: { containers: Array<{ command: string[] }> } } | undefined;
  return { command: value?.spec.containers[0]?.command, diagnostics: diagnostics.map(formatDiagnostic) };
};

describe("\\' in double-quoted strings", () => {
  it('kubernetes/website pods/inject/envars-file-container.yaml: read as quotes, each escape warned where it is written', () => {
    const text = pod(
      `['sh', '-c', "echo \\"DB_ADDRESS=\\'address\\'\\nREST_ENDPOINT=\\'endpoint\\'\\" > /data/config.env"]`,
    );
    expect(commandOf(text)).toEqual({
      command: ['sh', '-c', `echo "DB_ADDRESS='address'\nREST_ENDPOINT='endpoint'" > /data/config.env`],
      diagnostics: [48, 57, 75, 85].map(
        (col) =>
          `p.yaml:9:${col}: WARN_YAML_ESCAPE: \\' in a double-quoted string is read as ' (as Kubernetes reads it); YAML 1.2 has no such escape: write ' alone`,
      ),
    });
  });

  it('an escaped backslash before a quote, and a backslash outside double quotes, are as written', () => {
    expect(commandOf(pod(`["a\\\\'b", 'c\\''d', e\\'f]`))).toEqual({
      command: ["a\\'b", "c\\'d", "e\\'f"],
      diagnostics: [],
    });
    // A block scalar keeps its backslashes.
    expect(commandOf(pod(`\n        - |\n          echo "\\'"`)).command).toEqual([`echo "\\'"\n`]);
  });

  it('in a later document of the file too; any other bad escape is still a syntax error', () => {
    const two = `${pod('[a]')}---\n${pod(`["x\\'y"]`)}`;
    const { parsed, diagnostics } = parseFile(two, 'p.yaml');
    expect(
      parsed.map(
        (p) =>
          (p.value as { spec: { containers: Array<{ command: string[] }> } }).spec.containers[0]?.command,
      ),
    ).toEqual([['a'], ["x'y"]]);
    expect(diagnostics.map((d) => [d.line, d.col, d.code])).toEqual([[19, 19, 'WARN_YAML_ESCAPE']]);
    expect(commandOf(pod(`["x\\qy"]`)).diagnostics[0]).toMatch(/ERR_YAML_SYNTAX/);
  });

  it('a problem after an escape on its line is placed where it is written', () => {
    const text = `apiVersion: v1\nkind: Pod\nmetadata: {name: "a\\'b\\'", bogus: 1}\nspec: {containers: [{name: c, image: busybox}]}\n`;
    const { diagnostics } = parseFile(text, 'p.yaml');
    const bogus = diagnostics.find((d) => d.message.includes('bogus'));
    expect([bogus?.line, bogus?.col]).toEqual([3, (text.split('\n')[2]?.indexOf('bogus') as number) + 1]);
  });

  it('a value of 40k escapes: read in linear time, the first 20 warned, one line for the rest, and a problem after them placed where written', () => {
    // Placing each escape re-read all the text before it and every earlier escape: 38 s here.
    const n = 40_000;
    const line = `data: {k: "${"\\'".repeat(n)}", k: x}`;
    const text = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: e}\n${line}\n`;
    const { diagnostics } = parseFile(text, 'c.yaml');
    expect(diagnostics.map((d) => [d.line, d.col, d.code])).toEqual([
      ...Array.from({ length: 21 }, (_, i) => [4, 12 + 2 * i, 'WARN_YAML_ESCAPE']),
      [4, line.lastIndexOf('k:') + 1, 'ERR_YAML_SYNTAX'],
    ]);
    expect(diagnostics[20]?.message).toMatch(/^and 39980 more \\' in double-quoted strings/);
  }, 10_000);
});
