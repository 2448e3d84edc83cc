// Which decoder errors blame the layer: the codes zlib and libzstd really give for bad bytes are
// content errors; what says the host could not decode (memory, a decoder misused) is not, so a
// layer is never called corrupt, nor its stored blob checked for damage, because memory ran out.
import { constants, gunzipSync, gzipSync, zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { isContentError } from '../../src/snapshot/decoder-errors.js';

const codeOf = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  throw new Error('the decoder took the bytes');
};

describe('decoder errors', () => {
  it("takes the codes zlib gives for bad, cut-short and dictionary gzip streams as the content's", () => {
    const good = gzipSync(Buffer.alloc(4096, 7));
    const badBlock = Buffer.from(good);
    badBlock[10] = 0xff; // the first block's header: an invalid block type
    const codes = [codeOf(() => gunzipSync(badBlock)), codeOf(() => gunzipSync(good.subarray(0, 20)))];
    expect(codes).toEqual(['Z_DATA_ERROR', 'Z_BUF_ERROR']);
    for (const code of [...codes, 'Z_NEED_DICT']) expect(isContentError('gzip', code)).toBe(true);
  });

  it("takes the codes libzstd gives for a wrong checksum and a bad frame as the content's", () => {
    const frame = zstdCompressSync(Buffer.alloc(4096, 7), {
      params: { [constants.ZSTD_c_checksumFlag]: 1 },
    });
    const badSum = Buffer.from(frame);
    badSum.writeUInt8(badSum.readUInt8(badSum.length - 1) ^ 0xff, badSum.length - 1);
    const badMagic = Buffer.from(frame);
    badMagic.writeUInt8(badMagic.readUInt8(0) ^ 0xff, 0);
    const codes = [codeOf(() => zstdDecompressSync(badSum)), codeOf(() => zstdDecompressSync(badMagic))];
    expect(codes).toEqual(['ZSTD_error_checksum_wrong', 'ZSTD_error_prefix_unknown']);
    for (const code of codes) expect(isContentError('zstd', code)).toBe(true);
  });

  it('passes failures to decode at all as they are: memory, a decoder misused, no code', () => {
    for (const code of [
      'ZSTD_error_memory_allocation',
      'ZSTD_error_workSpace_tooSmall',
      'ZSTD_error_stage_wrong',
      'ZSTD_error_init_missing',
      'ZSTD_error_parameter_outOfBound',
      'ZSTD_error_noForwardProgress_inputEmpty',
      'ZSTD_error_GENERIC',
      undefined,
      42,
    ])
      expect(isContentError('zstd', code)).toBe(false);
    for (const code of ['Z_MEM_ERROR', 'Z_STREAM_ERROR', 'Z_VERSION_ERROR', 'ZSTD_error_checksum_wrong'])
      expect(isContentError('gzip', code)).toBe(false);
  });
});
