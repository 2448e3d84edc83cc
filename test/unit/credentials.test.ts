import { describe, expect, it } from 'vitest';
import { hasCode } from '../../src/lib/errors.js';
import { normalizeAuthKey, parseCredentials } from '../../src/registry/credentials.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('docker config.json credentials', () => {
  it.each([
    ['https://index.docker.io/v1/', 'docker.io'],
    ['index.docker.io', 'docker.io'],
    ['https://registry.example.com:5000/v2/', 'registry.example.com:5000'],
    ['Registry.Example.COM', 'registry.example.com'],
    ['127.0.0.1:5000', '127.0.0.1:5000'],
  ])('key %s → %s', (key, host) => {
    expect(normalizeAuthKey(key)).toBe(host);
  });

  it('reads auth, username/password and identitytoken', () => {
    const lookup = parseCredentials(
      JSON.stringify({
        auths: {
          'https://index.docker.io/v1/': { auth: b64('hub:pa:ss') },
          'ghcr.io': { username: 'u', password: 'p' },
          'quay.io': { identitytoken: 'refresh' },
        },
      }),
      'config.json',
    );
    expect(lookup('docker.io')).toEqual({ username: 'hub', password: 'pa:ss' });
    expect(lookup('ghcr.io')).toEqual({ username: 'u', password: 'p' });
    expect(lookup('quay.io')).toEqual({ identityToken: 'refresh' });
    expect(lookup('other.io')).toBeUndefined();
  });

  it.each([
    ['{', 'malformed JSON'],
    ['[]', 'not a JSON object'],
    ['{"auths": 3}', '"auths" is not an object'],
    [`{"auths": {"x": {"auth": "${b64('nocolon')}"}}}`, 'not base64 of user:password'],
  ])('%s is ERR_CREDENTIALS_INVALID naming the file', (text, why) => {
    let caught: unknown;
    try {
      parseCredentials(text, '/etc/berth/auth.json');
    } catch (err) {
      caught = err;
    }
    expect(hasCode(caught, 'ERR_CREDENTIALS_INVALID')).toBe(true);
    expect((caught as Error).message).toMatch(/^\/etc\/berth\/auth\.json: /);
    expect((caught as Error).message).toContain(why);
  });
});
