// A manifest file's bytes as text (decode-text.ts): UTF-8 with or without a BOM, UTF-16 by its BOM,
// anything else refused at its first bad byte, by line and column.
import { describe, expect, it } from 'vitest';
import { decodeManifestText, ManifestEncodingError } from '../../src/manifest/decode-text.js';

const refusal = (bytes: Buffer) => {
  try {
    decodeManifestText(bytes);
  } catch (err) {
    if (err instanceof ManifestEncodingError) return `${err.line}:${err.col}: ${err.code}: ${err.message}`;
    throw err;
  }
  return 'decoded';
};

describe('decodeManifestText', () => {
  it('reads UTF-8 (a BOM kept for YAML to skip, a U+FFFD written as such) and UTF-16 LE and BE by their BOM', () => {
    expect(decodeManifestText(Buffer.from('a: é\n'))).toBe('a: é\n');
    expect(decodeManifestText(Buffer.from('\uFEFFa: 1\n'))).toBe('\uFEFFa: 1\n');
    expect(decodeManifestText(Buffer.from('a: \uFFFD\uFFFDb\n'))).toBe('a: \uFFFD\uFFFDb\n');
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a: é😀\n', 'utf16le')]);
    expect(decodeManifestText(le)).toBe('a: é😀\n');
    expect(decodeManifestText(Buffer.from(le).swap16())).toBe('a: é😀\n');
  });

  it('refuses other bytes at the first bad one: Latin-1, a character cut short, a NUL, broken UTF-16', () => {
    expect(refusal(Buffer.from('a: \uFFFD\nb: caf\xe9\n', 'latin1').subarray(0, 3))).toBe('decoded');
    expect(refusal(Buffer.concat([Buffer.from('a: \uFFFD\nb: caf'), Buffer.from([0xe9, 0x0a])]))).toBe(
      '2:7: ERR_MANIFEST_ENCODING: not UTF-8 text: byte 0xe9 (berth reads UTF-8, or UTF-16 with a byte order mark)',
    );
    expect(refusal(Buffer.from('a: 😀').subarray(0, 5))).toBe(
      '1:4: ERR_MANIFEST_ENCODING: not UTF-8 text: byte 0xf0 (berth reads UTF-8, or UTF-16 with a byte order mark)',
    );
    expect(refusal(Buffer.from('a: 1\n', 'utf16le'))).toBe(
      '1:2: ERR_MANIFEST_ENCODING: a NUL byte, which YAML text never holds (UTF-16 without a byte order mark? a file a crash left zero-filled?)',
    );
    expect(refusal(Buffer.from([0xff, 0xfe, 0x61]))).toBe(
      '1:1: ERR_MANIFEST_ENCODING: UTF-16LE text (by its byte order mark) of an odd length',
    );
    expect(
      refusal(
        Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a\n', 'utf16le'), Buffer.from([0x3d, 0xd8])]),
      ),
    ).toBe('2:1: ERR_MANIFEST_ENCODING: not UTF-16LE text: a lone surrogate');
  });
});
