// The daemon's create route reads only what `container create` would take from a command line:
// every other shape, key or type is a 400 naming the field, before anything is made.
import { describe, expect, it } from 'vitest';
import { createRequestOf } from '../../src/cli/container-routes.js';
import { CREATE_OPTIONS } from '../../src/cli/create-flags.js';

const read = (body: unknown) => createRequestOf(body, CREATE_OPTIONS);
const refusal = (body: unknown) => {
  try {
    read(body);
  } catch (err) {
    return err as { code: string; kind: string; message: string };
  }
  throw new Error('accepted');
};

describe('createRequestOf', () => {
  it('takes the flags as parseArgs gives them, and nothing else', () => {
    expect(
      read({
        image: 'busybox:1',
        name: 'web',
        flags: { publish: ['8080:80'], network: 'bridge', 'read-only': true, env: ['A=1', 'B=2'] },
        command: ['sh', '-c', 'echo hi'],
      }),
    ).toEqual({
      image: 'busybox:1',
      name: 'web',
      flags: { publish: ['8080:80'], network: 'bridge', 'read-only': true, env: ['A=1', 'B=2'] },
      command: ['sh', '-c', 'echo hi'],
    });
    expect(read({ image: 'i', name: 'n' })).toEqual({ image: 'i', name: 'n', flags: {}, command: [] });
  });

  it.each([
    [null, 'the body must be a JSON object { image, name, flags, command }'],
    [[1], 'the body must be a JSON object { image, name, flags, command }'],
    ['busybox', 'the body must be a JSON object { image, name, flags, command }'],
    [{ image: 'i', name: 'n', extra: 1 }, 'body: unknown field "extra"'],
    [{ image: '', name: 'n' }, 'image must be a non-empty string without NUL'],
    [{ image: 'i', name: 7 }, 'name must be a non-empty string without NUL'],
    [{ image: 'i', name: 'n', flags: [] }, 'flags must be an object'],
    [{ image: 'i', name: 'n', flags: { rm: true } }, 'flags: unknown flag "rm"'],
    [{ image: 'i', name: 'n', flags: { toString: 'x' } }, 'flags: unknown flag "toString"'],
    [
      JSON.parse('{"image":"i","name":"n","flags":{"__proto__":{"privileged":true}}}'),
      'flags: unknown flag "__proto__"',
    ],
    [{ image: 'i', name: 'n', flags: { privileged: 'true' } }, 'flags.privileged must be true or false'],
    [
      { image: 'i', name: 'n', flags: { publish: '8080:80' } },
      'flags.publish must be a list of at most 4096 strings without NUL',
    ],
    [
      { image: 'i', name: 'n', flags: { env: ['A=1', 2] } },
      'flags.env must be a list of at most 4096 strings without NUL',
    ],
    [{ image: 'i', name: 'n', flags: { network: ['bridge'] } }, 'flags.network must be a string without NUL'],
    [{ image: 'i', name: 'n', flags: null }, 'flags must be an object'],
    [{ image: 'i', name: 'n', command: null }, 'command must be a list of at most 4096 strings without NUL'],
    [{ image: 'i', name: 'n\u0000x' }, 'name must be a non-empty string without NUL'],
    [
      { image: 'i', name: 'n', flags: { volume: ['/etc\u0000:/x'] } },
      'flags.volume must be a list of at most 4096 strings without NUL',
    ],
    [{ image: 'i', name: 'n', flags: { user: 'root\u0000' } }, 'flags.user must be a string without NUL'],
    [
      { image: 'i', name: 'n', command: 'echo hi' },
      'command must be a list of at most 4096 strings without NUL',
    ],
    [
      { image: 'i', name: 'n', command: Array(4097).fill('x') },
      'command must be a list of at most 4096 strings without NUL',
    ],
  ])('refuses %j', (body, message) => {
    expect(refusal(body)).toMatchObject({ code: 'ERR_API_BAD_BODY', kind: 'invalid', message });
  });
});
