import { describe, expect, it } from 'vitest';
import { hasCode } from '../../src/lib/errors.js';
import { hostPlatform, type Platform, parsePlatform, selectPlatform } from '../../src/oci/platform.js';

const entry = (platform: Platform | undefined, id: string) => ({ id, ...(platform ? { platform } : {}) });
const INDEX = [
  entry({ os: 'linux', architecture: 'amd64' }, 'amd64'),
  entry({ os: 'linux', architecture: 'arm', variant: 'v6' }, 'armv6'),
  entry({ os: 'linux', architecture: 'arm', variant: 'v7' }, 'armv7'),
  entry({ os: 'linux', architecture: 'arm64', variant: 'v8' }, 'arm64'),
  entry({ os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763' }, 'win'),
  entry(undefined, 'attestation'),
];

describe('selectPlatform', () => {
  it.each([
    ['linux/amd64', 'amd64'],
    ['linux/arm64', 'arm64'],
    ['linux/arm64/v8', 'arm64'],
    ['linux/arm/v7', 'armv7'],
    ['linux/arm/v6', 'armv6'],
    ['windows/amd64', 'win'],
  ])('%s picks %s', (want, id) => {
    expect(selectPlatform(parsePlatform(want), INDEX)?.id).toBe(id);
  });

  it('an armv7 host falls back to v6 when v7 is missing', () => {
    const only6 = INDEX.filter((e) => e.id !== 'armv7');
    expect(selectPlatform(parsePlatform('linux/arm/v7'), only6)?.id).toBe('armv6');
  });

  it('an armv6 host never takes v7', () => {
    const only7 = INDEX.filter((e) => e.id !== 'armv6');
    expect(selectPlatform(parsePlatform('linux/arm/v5'), only7)).toBeUndefined();
  });

  it('arm64 without a variant matches arm64/v8', () => {
    const noVariant = [entry({ os: 'linux', architecture: 'arm64' }, 'a')];
    expect(selectPlatform(parsePlatform('linux/arm64/v8'), noVariant)?.id).toBe('a');
  });

  it('nothing for s390x', () => {
    expect(selectPlatform(parsePlatform('linux/s390x'), INDEX)).toBeUndefined();
  });
});

describe('platform strings', () => {
  it('maps Node architectures to OCI ones', () => {
    expect(hostPlatform('linux', 'x64')).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(hostPlatform('linux', 'arm64')).toEqual({ os: 'linux', architecture: 'arm64', variant: 'v8' });
    expect(hostPlatform('linux', 'arm', '7')).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' });
  });

  it('accepts aliases and rejects garbage', () => {
    expect(parsePlatform('linux/x86_64')).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(parsePlatform('linux/aarch64')).toEqual({ os: 'linux', architecture: 'arm64' });
    for (const bad of ['linux', 'linux/', 'a/b/c/d', 'Linux/AMD64']) {
      expect(() => parsePlatform(bad)).toThrow();
      try {
        parsePlatform(bad);
      } catch (err) {
        expect(hasCode(err, 'ERR_PLATFORM_INVALID')).toBe(true);
      }
    }
  });
});
