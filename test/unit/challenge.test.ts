import { describe, expect, it } from 'vitest';
import { parseChallenges } from '../../src/registry/challenge.js';

describe('parseChallenges', () => {
  it.each([
    [
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"',
      [
        {
          scheme: 'bearer',
          params: {
            realm: 'https://auth.docker.io/token',
            service: 'registry.docker.io',
            scope: 'repository:library/busybox:pull',
          },
        },
      ],
    ],
    ['Basic realm="Registry Realm"', [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]],
    [
      'Basic realm="a", Bearer realm="http://x/token", service="s"',
      [
        { scheme: 'basic', params: { realm: 'a' } },
        { scheme: 'bearer', params: { realm: 'http://x/token', service: 's' } },
      ],
    ],
    [
      'Bearer realm="a\\"b\\\\c",error="insufficient_scope"',
      [{ scheme: 'bearer', params: { realm: 'a"b\\c', error: 'insufficient_scope' } }],
    ],
    [
      'Negotiate abc123==, Basic realm=foo',
      [
        { scheme: 'negotiate', params: {} },
        { scheme: 'basic', params: { realm: 'foo' } },
      ],
    ],
    ['BEARER REALM=x , SERVICE = "y"', [{ scheme: 'bearer', params: { realm: 'x', service: 'y' } }]],
    [
      'Bearer realm="x",scope="repository:a:pull,push"',
      [{ scheme: 'bearer', params: { realm: 'x', scope: 'repository:a:pull,push' } }],
    ],
    [
      'Negotiate abc123==, Bearer realm="r"',
      [
        { scheme: 'negotiate', params: {} },
        { scheme: 'bearer', params: { realm: 'r' } },
      ],
    ],
    ['Bearer realm=""', [{ scheme: 'bearer', params: { realm: '' } }]],
    [', Basic realm="x",, ', [{ scheme: 'basic', params: { realm: 'x' } }]],
    ['Basic', [{ scheme: 'basic', params: {} }]],
    ['', []],
    ['=garbage', []],
  ])('%s', (header, expected) => {
    expect(parseChallenges(header)).toEqual(expected);
  });

  it('reads every header when a response repeats WWW-Authenticate', () => {
    expect(parseChallenges(['Basic realm="a"', 'Bearer realm="b"']).map((c) => c.scheme)).toEqual([
      'basic',
      'bearer',
    ]);
    expect(parseChallenges(undefined)).toEqual([]);
  });
});
