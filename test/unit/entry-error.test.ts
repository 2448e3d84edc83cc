import { describe, expect, it } from 'vitest';
import { BerthError } from '../../src/lib/errors.js';
import { afterEntry, DeferredNames, namingEntry } from '../../src/snapshot/entry-error.js';

const name = Buffer.from('lib/x/y');

describe('naming the entry in unpack errors', () => {
  it('puts the entry in front of a coded error, keeping code, kind and hint; once', () => {
    const err = new BerthError('ERR_LAYER_UNSAFE', 'integrity', '/usr/lib/x is not a directory', {
      hint: 'h',
    });
    const named = namingEntry(err, name) as BerthError;
    expect([named.code, named.kind, named.message, named.hint]).toEqual([
      'ERR_LAYER_UNSAFE',
      'integrity',
      'entry lib/x/y: /usr/lib/x is not a directory',
      'h',
    ]);
    expect(namingEntry(named, name)).toBe(named);
  });

  it("keeps a system error's errno code (ENOSPC is said as a full file system further up)", () => {
    const err = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const named = namingEntry(err, name) as NodeJS.ErrnoException;
    expect([named.code, named.message]).toEqual([
      'ENOSPC',
      'entry lib/x/y: ENOSPC: no space left on device, write',
    ]);
  });

  it('says which entry a bad header follows; other errors between entries stay as they are', () => {
    const corrupt = new BerthError(
      'ERR_LAYER_CORRUPT',
      'integrity',
      'malformed tar: header checksum mismatch',
    );
    expect((afterEntry(corrupt, name) as Error).message).toBe(
      'malformed tar: header checksum mismatch (after entry lib/x/y)',
    );
    const other = new BerthError('ERR_TAR_HEADER_TOO_LARGE', 'limit', 'tar PAX header of 2 bytes');
    expect(afterEntry(other, name)).toBe(other);
  });

  it("names the entry whose deferred work failed at the layer's end, by the path the helper reports", () => {
    const names = new DeferredNames(Buffer.from('/dest'));
    names.note(Buffer.from('/dest/usr/lib'), Buffer.from('lib/.wh..wh..opq'));
    names.note(Buffer.from('/dest/usr/lib/null'), Buffer.from('lib/null'));
    const failed = (said: string) =>
      new BerthError('ERR_UNPACK_FAILED', 'internal', `making device nodes, whiteouts or xattrs: ${said}`);
    expect((names.naming(failed('usr/lib/null: Operation not permitted')) as Error).message).toBe(
      'entry lib/null: making device nodes, whiteouts or xattrs: usr/lib/null: Operation not permitted',
    );
    expect((names.naming(failed('usr/lib: Operation not supported')) as Error).message).toBe(
      'entry lib/.wh..wh..opq: making device nodes, whiteouts or xattrs: usr/lib: Operation not supported',
    );
    const unknown = failed('elsewhere: Permission denied');
    expect(names.naming(unknown)).toBe(unknown);
  });
});
