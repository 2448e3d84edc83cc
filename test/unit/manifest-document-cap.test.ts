// The bound on documents in one manifest file (parse.ts MAX_DOCUMENTS): a file of a million `---`
// lines was a million documents to read (17 s of the daemon's thread, a gigabyte); past the bound the
// file is refused at the marker past it, before the YAML is read, and what it defined stays.
import { describe, expect, it } from 'vitest';
import { MAX_DOCUMENTS, parseFile } from '../../src/manifest/parse.js';

const pod = (name: string) =>
  `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec: {containers: [{name: c, image: busybox}]}\n`;

describe('documents in one manifest file', () => {
  it('takes up to the bound', () => {
    const text = Array.from({ length: MAX_DOCUMENTS }, (_, i) => `---\n${pod(`p${i}`)}`).join('');
    const out = parseFile(text, 'many.yaml');
    expect(out.diagnostics).toEqual([]);
    expect(out.parsed).toHaveLength(MAX_DOCUMENTS);
  });

  it('refuses a file past it at the marker past it, reading nothing', () => {
    const text = `${pod('first')}${'---\n'.repeat(MAX_DOCUMENTS + 1)}---\n${pod('last')}`;
    const out = parseFile(text, 'bomb.yaml');
    expect(out.parsed).toEqual([]);
    expect(out.diagnostics).toEqual([
      {
        file: 'bomb.yaml',
        line: 4 + MAX_DOCUMENTS + 1,
        col: 1,
        code: 'ERR_TOO_MANY_DOCUMENTS',
        message: `more than ${MAX_DOCUMENTS} documents in one file: split it into several files`,
      },
    ]);
  });

  it('counts markers only: --- in a comment or indented in a value is no document', () => {
    const many = MAX_DOCUMENTS + 5;
    const text =
      `${'# ---\n'.repeat(many)}${'# ---------\n'.repeat(many)}` +
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ruler}\ndata:\n  note: |\n${'    ---\n'.repeat(many)}`;
    const out = parseFile(text, 'ok.yaml');
    expect(out.diagnostics).toEqual([]);
    expect(out.parsed).toHaveLength(1);
  });
});
