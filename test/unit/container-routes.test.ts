// The daemon's create route reads only what `container create` would take from a command line:
// every other shape, key or type is a 400 naming the field, before anything is made.
import { describe, expect, it } from 'vitest';
import { createRequestOf } from '../../src/cli/container-routes.js';
import { runRequestOf } from '../../src/cli/container-run-route.js';
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

describe('runRequestOf', () => {
  const serves = { root: '/var/lib/berth', config: '/etc/berth/config.yaml' };
  /** The code a body is refused with, or 'accepted'. */
  const code = (body: unknown) => {
    try {
      runRequestOf(body, serves);
      return 'accepted';
    } catch (err) {
      return (err as { code: string }).code;
    }
  };
  it("takes a create request's fields, rm and time", () => {
    expect(
      runRequestOf({ image: 'busybox:1', name: 'web', command: ['true'], rm: true, time: '3' }, serves),
    ).toEqual({
      create: { image: 'busybox:1', name: 'web', flags: {}, command: ['true'] },
      rm: true,
      grace: 3,
    });
    expect(runRequestOf({ image: 'busybox:1', name: 'web' }, serves)).toMatchObject({ rm: false, grace: 10 });
  });

  it('refuses rm and time of another type, and any other field, as the create route does', () => {
    expect([
      code({ image: 'b', name: 'w', rm: 'yes' }),
      code({ image: 'b', name: 'w', time: 3 }),
      code({ image: 'b', name: 'w', detach: true }),
      code({ image: 'b', name: 'w', time: 'soon' }),
      code(['b']),
    ]).toEqual([
      'ERR_API_BAD_BODY',
      'ERR_API_BAD_BODY',
      'ERR_API_BAD_BODY',
      'ERR_BAD_QUANTITY',
      'ERR_API_BAD_BODY',
    ]);
  });

  it('runs only for the root and config it serves, checked before anything else of the body', () => {
    expect([
      code({ image: 'b', name: 'w', served: serves }),
      code({ image: 'b', name: 'w', served: { ...serves, root: '/srv/other' } }),
      code({ image: 'b', name: 'w', served: { ...serves, config: '/etc/berth/other.yaml' } }),
      // Another's daemon is told so even when the rest is not what this one takes (another version's flag).
      code({ image: 'b', name: 'w', flags: { newer: true }, served: { ...serves, root: '/srv/other' } }),
      code({ image: 'b', name: 'w', served: { root: serves.root } }),
      code({ image: 'b', name: 'w', served: 'yes' }),
    ]).toEqual([
      'accepted',
      'ERR_DAEMON_SERVES_OTHER',
      'ERR_DAEMON_SERVES_OTHER',
      'ERR_DAEMON_SERVES_OTHER',
      'ERR_API_BAD_BODY',
      'ERR_API_BAD_BODY',
    ]);
  });
});
