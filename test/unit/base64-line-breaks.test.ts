// A Secret's data and a ConfigMap's binaryData as a cluster decodes them: Go's base64 decoder skips
// line breaks (\r and \n) anywhere, so a value pasted as `base64` wraps it (76 columns, in a `|`
// block with its final newline) is the bytes it encodes. Regression: berth refused such a file as
// "must be base64"; a space or a missing pad is still refused, as it is there.
import { describe, expect, it } from 'vitest';
import type { SecretDoc } from '../../src/manifest/objects/kinds.js';
import { objectData } from '../../src/manifest/objects/store.js';
import { parseFile } from '../../src/manifest/parse.js';

const wrapped = Buffer.from('x'.repeat(100)).toString('base64').replace(/.{76}/g, '$&\n');

const secret = (value: string) => `apiVersion: v1
kind: Secret
metadata: {name: s}
data:
  cert: ${value}
`;
const configMap = (value: string) => `apiVersion: v1
kind: ConfigMap
metadata: {name: c}
binaryData:
  blob: ${value}
`;

const codes = (text: string) =>
  parseFile(text, 'o.yaml').diagnostics.map((d) => `${d.line}:${d.col} ${d.code}`);
const block = (s: string) => `|\n${s.replace(/^/gm, '    ')}`;

describe('base64 with line breaks', () => {
  it.each([
    ['Secret', secret],
    ['ConfigMap', configMap],
  ])('a %s value wrapped at 76 columns in a block loads', (_, doc) => {
    expect(codes(doc(block(`${wrapped}\n`)))).toEqual([]);
    expect(codes(doc(JSON.stringify('YQ=\r\n=\r\n')))).toEqual([]);
  });

  it('decodes to the bytes it encodes', () => {
    const r = parseFile(secret(block(`${wrapped}\n`)), 'o.yaml');
    expect(
      objectData(r.parsed[0]?.value as SecretDoc)
        .get('cert')
        ?.toString(),
    ).toBe('x'.repeat(100));
  });

  it.each(['"YQ= ="', '"YQ"', '"Y Q=="'])('%s is still refused', (value) => {
    expect(codes(secret(value))).toEqual(['5:9 ERR_MANIFEST_SCHEMA']);
    expect(codes(configMap(value))).toEqual(['5:9 ERR_MANIFEST_SCHEMA']);
  });
});
