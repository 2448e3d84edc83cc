import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasCode } from '../../src/lib/errors.js';
import { loadCredentials, normalizeAuthKey, parseCredentials } from '../../src/registry/credentials.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('docker config.json credentials', () => {
  it.each([
    ['https://index.docker.io/v1/', 'docker.io'],
    ['index.docker.io', 'docker.io'],
    ['registry-1.docker.io', 'docker.io'],
    ['https://registry.example.com:5000/v2/', 'registry.example.com:5000'],
    ['http://127.0.0.1:5000', '127.0.0.1:5000'],
    ['Registry.Example.COM', 'registry.example.com'],
    ['127.0.0.1:5000', '127.0.0.1:5000'],
  ])('key %s → %s', (key, host) => {
    expect(normalizeAuthKey(key)).toBe(host);
  });

  it('reads auth, username/password and identitytoken, looked up by registry host', () => {
    const lookup = parseCredentials(
      JSON.stringify({
        auths: {
          'https://index.docker.io/v1/': { auth: b64('hub:pa:ss') },
          'ghcr.io': { username: 'u', password: 'p' },
          'quay.io': { identitytoken: 'refresh' },
          'both.io': { auth: b64('a:b'), username: 'c' },
        },
        credsStore: 'desktop',
      }),
      'config.json',
    );
    expect(lookup('docker.io')).toEqual({ username: 'hub', password: 'pa:ss' });
    expect(lookup('registry-1.docker.io')).toEqual({ username: 'hub', password: 'pa:ss' });
    expect(lookup('ghcr.io')).toEqual({ username: 'u', password: 'p' });
    expect(lookup('GHCR.io')).toEqual({ username: 'u', password: 'p' });
    expect(lookup('quay.io')).toEqual({ identityToken: 'refresh' });
    expect(lookup('both.io')).toEqual({ username: 'a', password: 'b' }); // auth wins, as in docker
    expect(lookup('other.io')).toBeUndefined();
    expect(parseCredentials('{}', 'config.json')('docker.io')).toBeUndefined();
  });

  it.each([
    ['{', 'malformed JSON'],
    ['[]', 'not a JSON object'],
    ['{"auths": 3}', '"auths" is not an object'],
    ['{"auths": {"x": "y"}}', 'auths["x"] is not an object'],
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

describe('loadCredentials', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-credentials-'));
    await writeFile(join(dir, 'good.json'), JSON.stringify({ auths: { 'ghcr.io': { auth: b64('u:p') } } }));
    await writeFile(join(dir, 'bad.json'), '{"auths": {');
    await mkdir(join(dir, 'a-directory.json'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['good.json', 'ghcr.io', { username: 'u', password: 'p' }],
    ['missing.json', 'ghcr.io', undefined],
  ])('%s: lookup(%s)', async (file, host, expected) => {
    const lookup = await loadCredentials(join(dir, file));
    expect(lookup(host)).toEqual(expected);
  });

  it.each([
    ['bad.json', 'ERR_CREDENTIALS_INVALID'],
    ['a-directory.json', 'ERR_CREDENTIALS_UNREADABLE'],
  ])('%s is %s naming the file', async (file, code) => {
    const err = await loadCredentials(join(dir, file)).catch((e: unknown) => e);
    expect(hasCode(err, code)).toBe(true);
    expect((err as Error).message).toContain(join(dir, file));
  });
});
