import { describe, expect, it } from 'vitest';
import { hasCode } from '../../src/lib/errors.js';
import {
  amd64Level,
  hostPlatform,
  type Platform,
  parsePlatform,
  selectPlatform,
} from '../../src/oci/platform.js';

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

  // A variant says which instructions the binaries use: an amd64/v3 image on a host without AVX2
  // dies of SIGILL. Only levels the wanted one includes match, best first; no variant is v1.
  const AMD64 = [
    entry({ os: 'linux', architecture: 'amd64', variant: 'v3' }, 'v3'),
    entry({ os: 'linux', architecture: 'amd64', variant: 'v2' }, 'v2'),
    entry({ os: 'linux', architecture: 'amd64' }, 'v1'),
  ];
  it.each([
    ['linux/amd64', 'v1'],
    ['linux/amd64/v1', 'v1'],
    ['linux/amd64/v2', 'v2'],
    ['linux/amd64/v3', 'v3'],
    ['linux/amd64/v4', 'v3'],
  ])('amd64 variants: %s picks %s, whatever their order', (want, id) => {
    expect(selectPlatform(parsePlatform(want), AMD64)?.id).toBe(id);
    expect(selectPlatform(parsePlatform(want), [...AMD64].reverse())?.id).toBe(id);
  });

  it('an amd64 host below v3 never takes a v3-only image', () => {
    expect(selectPlatform(parsePlatform('linux/amd64/v2'), AMD64.slice(0, 1))).toBeUndefined();
    expect(selectPlatform(parsePlatform('linux/amd64'), AMD64.slice(0, 1))).toBeUndefined();
    const v1 = [entry({ os: 'linux', architecture: 'amd64', variant: 'v1' }, 'v1')];
    expect(selectPlatform(parsePlatform('linux/amd64'), v1)?.id).toBe('v1');
  });

  it('linux/arm alone means arm/v7, as containerd normalises it: v7 first, then v6, never v8', () => {
    const arm = [
      entry({ os: 'linux', architecture: 'arm', variant: 'v6' }, 'armv6'),
      entry({ os: 'linux', architecture: 'arm', variant: 'v8' }, 'armv8'),
      entry({ os: 'linux', architecture: 'arm', variant: 'v7' }, 'armv7'),
    ];
    expect(selectPlatform(parsePlatform('linux/arm'), arm)?.id).toBe('armv7');
    expect(selectPlatform(parsePlatform('linux/arm'), arm.slice(0, 2))?.id).toBe('armv6');
  });

  it('an index entry is read as containerd normalises it: any case, x86_64, aarch64, armhf, arm variant 7', () => {
    const pick = (want: Platform, candidates: Platform[]) =>
      selectPlatform(
        want,
        candidates.map((p, i) => entry(p, String(i))),
      )?.id;
    const v3: Platform = { os: 'linux', architecture: 'amd64', variant: 'v3' };
    expect(pick(v3, [{ os: 'Linux', architecture: 'AMD64', variant: 'V3' }])).toBe('0');
    expect(pick(v3, [{ os: 'linux', architecture: 'x86_64' }])).toBe('0');
    expect(
      pick({ os: 'linux', architecture: 'arm64', variant: 'v8' }, [{ os: 'linux', architecture: 'aarch64' }]),
    ).toBe('0');
    const v7: Platform = { os: 'linux', architecture: 'arm', variant: 'v7' };
    expect(pick(v7, [{ os: 'linux', architecture: 'armhf' }])).toBe('0');
    expect(pick(v7, [{ os: 'linux', architecture: 'arm', variant: '7' }])).toBe('0');
    // Normalised, the rules stay: a v4 entry never runs on a v3 host, an armel one (v6) does on v7.
    expect(pick(v3, [{ os: 'linux', architecture: 'amd64', variant: 'V4' }])).toBeUndefined();
    expect(pick(v7, [{ os: 'linux', architecture: 'armel' }])).toBe('0');
  });

  it('a 64-bit host takes its 32-bit architecture after all of its own, as containerd and Docker match it: arm64 arm/v8 down to v5, amd64 386', () => {
    const arm32 = [
      entry({ os: 'linux', architecture: 'arm', variant: 'v6' }, 'armv6'),
      entry({ os: 'linux', architecture: 'arm', variant: 'v7' }, 'armv7'),
      entry({ os: 'linux', architecture: '386' }, '386'),
    ];
    // An armhf-only image on a Raspberry Pi's 64-bit OS: berth refused it (no image for arm64).
    expect(selectPlatform(parsePlatform('linux/arm64'), arm32)?.id).toBe('armv7');
    expect(selectPlatform(parsePlatform('linux/arm64/v8'), arm32.slice(0, 1))?.id).toBe('armv6');
    // arm64 v8.x and v9 hosts take arm v8 and below too (v8.2 is no arm variant of its own).
    expect(selectPlatform(parsePlatform('linux/arm64/v8.2'), arm32)?.id).toBe('armv7');
    expect(selectPlatform(parsePlatform('linux/arm64/v9'), arm32)?.id).toBe('armv7');
    expect(selectPlatform(parsePlatform('linux/amd64'), arm32)?.id).toBe('386');
    expect(selectPlatform(parsePlatform('linux/amd64/v3'), arm32)?.id).toBe('386');
    // The host's own architecture first, whatever the order; never the other way round.
    const both = [...arm32, entry({ os: 'linux', architecture: 'arm64' }, 'arm64')];
    expect(selectPlatform(parsePlatform('linux/arm64'), both)?.id).toBe('arm64');
    expect(
      selectPlatform(parsePlatform('linux/arm/v7'), [entry({ os: 'linux', architecture: 'arm64' }, 'a')]),
    ).toBeUndefined();
    expect(
      selectPlatform(parsePlatform('linux/386'), [entry({ os: 'linux', architecture: 'amd64' }, 'a')]),
    ).toBeUndefined();
    expect(
      selectPlatform(parsePlatform('linux/arm64'), [
        entry({ os: 'windows', architecture: 'arm', variant: 'v7' }, 'w'),
      ]),
    ).toBeUndefined();
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
    // amd64: the level the CPU supports (v1 says nothing).
    expect(hostPlatform('linux', 'x64', '3')).toEqual({ os: 'linux', architecture: 'amd64', variant: 'v3' });
    expect(hostPlatform('linux', 'x64', '1')).toEqual({ os: 'linux', architecture: 'amd64' });
  });

  it('reads the amd64 level from the CPU flags, as glibc does', () => {
    const v2 = 'cx16 lahf_lm popcnt pni sse4_1 sse4_2 ssse3';
    const v3 = `${v2} avx avx2 bmi1 bmi2 f16c fma abm movbe xsave`;
    const v4 = `${v3} avx512f avx512bw avx512cd avx512dq avx512vl`;
    expect([amd64Level('fpu sse sse2'), amd64Level(v2), amd64Level(v3), amd64Level(v4)]).toEqual([
      1, 2, 3, 4,
    ]);
    expect(amd64Level(v3.replace('avx2', ''))).toBe(2);
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
