// A manifest file's bytes as text, the way YAML and go-yaml (kubectl) read them: UTF-8, with or
// without a byte order mark, or UTF-16 when a byte order mark says so (what PowerShell's `>` and
// Notepad's "Unicode" write). Anything else is refused at its first bad byte rather than read
// lossily: a Latin-1 `é` would otherwise become U+FFFD in a value the container gets, and a UTF-16
// file without a mark, or a file a crash left zero-filled, would be reported as nonsense YAML.
// YAML allows no NUL anywhere (an escaped `\0` in a quoted string is nul-strings.ts' concern). Pure.
import { BerthError } from '../lib/errors.js';

/** Refused text: where its first bad byte is (line and column of the text before it, 1-based). */
export class ManifestEncodingError extends BerthError {
  constructor(
    readonly line: number,
    readonly col: number,
    why: string,
  ) {
    super('ERR_MANIFEST_ENCODING', 'invalid', why);
  }
}

const REPLACEMENT = '\uFFFD';
const REPLACEMENT_BYTES = Buffer.from(REPLACEMENT, 'utf8');

/** Line and column just after `before` (the text that precedes a position). */
function positionAfter(before: string): { line: number; col: number } {
  const lines = before.split('\n');
  return { line: lines.length, col: (lines.at(-1) ?? '').length + 1 };
}

function refuse(before: string, why: string): ManifestEncodingError {
  const { line, col } = positionAfter(before);
  return new ManifestEncodingError(line, col, why);
}

/** UTF-16 with its byte order mark; a lone surrogate or an odd length is refused. */
function decodeUtf16(bytes: Buffer, bigEndian: boolean): string {
  const name = bigEndian ? 'UTF-16BE' : 'UTF-16LE';
  if (bytes.length % 2 !== 0) throw refuse('', `${name} text (by its byte order mark) of an odd length`);
  const swapped = bigEndian ? Buffer.from(bytes).swap16() : bytes;
  const text = swapped.toString('utf16le', 2);
  const lone = text.search(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
  if (lone !== -1) throw refuse(text.slice(0, lone), `not ${name} text: a lone surrogate`);
  return text;
}

/** The text of a manifest file's bytes; ManifestEncodingError when they are not UTF-8 or marked UTF-16. */
export function decodeManifestText(bytes: Buffer): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return noNul(decodeUtf16(bytes, false));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return noNul(decodeUtf16(bytes, true));
  const text = bytes.toString('utf8');
  // Each U+FFFD either stands for itself (written as its three bytes) or for bytes that are not UTF-8.
  let bytesBefore = 0;
  let from = 0;
  for (let at = text.indexOf(REPLACEMENT); at !== -1; at = text.indexOf(REPLACEMENT, at + 1)) {
    bytesBefore += Buffer.byteLength(text.slice(from, at));
    from = at + 1;
    if (!bytes.subarray(bytesBefore, bytesBefore + 3).equals(REPLACEMENT_BYTES)) {
      const byte = (bytes[bytesBefore] ?? 0).toString(16).padStart(2, '0');
      throw refuse(
        text.slice(0, at),
        `not UTF-8 text: byte 0x${byte} (berth reads UTF-8, or UTF-16 with a byte order mark)`,
      );
    }
    bytesBefore += 3;
  }
  return noNul(text);
}

function noNul(text: string): string {
  const at = text.indexOf('\0');
  if (at === -1) return text;
  throw refuse(
    text.slice(0, at),
    'a NUL byte, which YAML text never holds (UTF-16 without a byte order mark? a file a crash left zero-filled?)',
  );
}
