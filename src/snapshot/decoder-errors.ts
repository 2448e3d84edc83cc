// Which of a decoder's errors say the layer's bytes are bad (corrupt content: ERR_LAYER_CORRUPT,
// and a stored blob it comes from is checked for damage) and which say the host could not decode
// them (memory, a decoder misused: passed on as they are, an internal failure, never blamed on the
// layer). zlib's and libzstd's codes, as Node gives them on the error. Pure.

/** zlib's refusals of the bytes: bad data, a stream cut short, a dictionary the stream asks for. */
const ZLIB_CONTENT = new Set(['Z_DATA_ERROR', 'Z_BUF_ERROR', 'Z_NEED_DICT']);

/** libzstd's refusals of the bytes (zstd_errors.h), not of the host or of how it was called. */
const ZSTD_CONTENT = new Set(
  [
    'prefix_unknown',
    'version_unsupported',
    'frameParameter_unsupported',
    'frameParameter_windowTooLarge',
    'corruption_detected',
    'checksum_wrong',
    'literals_headerWrong',
    'dictionary_corrupted',
    'dictionary_wrong',
    'tableLog_tooLarge',
    'maxSymbolValue_tooLarge',
    'maxSymbolValue_tooSmall',
    'srcSize_wrong',
  ].map((name) => `ZSTD_error_${name}`),
);

/** Whether a `kind` decoder's error `code` is about the content it was given. */
export function isContentError(kind: 'gzip' | 'zstd', code: unknown): boolean {
  if (typeof code !== 'string') return false;
  return (kind === 'gzip' ? ZLIB_CONTENT : ZSTD_CONTENT).has(code);
}
