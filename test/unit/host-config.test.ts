import { describe, expect, it } from 'vitest';
import { parseHostConfig } from '../../src/config/host-config.js';
import { isBerthError } from '../../src/lib/errors.js';
import { chooseSnapshotForm } from '../../src/snapshot/form.js';

function errorOf(text: string): string {
  try {
    parseHostConfig(text, '/etc/berth/config.yaml');
  } catch (err) {
    if (isBerthError(err)) return `${err.code} ${err.message}`;
    throw err;
  }
  throw new Error('expected an error');
}

describe('snapshot form', () => {
  const withOverlay = 'nodev\tsysfs\nnodev\ttmpfs\n\text4\nnodev\toverlay\n';
  it('auto is overlay when the kernel lists overlay, native otherwise; a setting wins', () => {
    expect(chooseSnapshotForm('auto', withOverlay)).toBe('overlay');
    expect(chooseSnapshotForm('auto', 'nodev\tsysfs\n\text4\nnodev\toverlayfs-not\n')).toBe('native');
    expect(chooseSnapshotForm('native', withOverlay)).toBe('native');
    expect(chooseSnapshotForm('overlay', '')).toBe('overlay');
  });
});

describe('host config', () => {
  it('applies defaults to an empty file', () => {
    expect(parseHostConfig('', 'c.yaml')).toEqual({
      plainHttpRegistries: [],
      authFile: '/etc/berth/auth.json',
      pull: { maxConcurrentDownloads: 3, retries: 4, idleTimeoutMs: 30_000 },
      seccompProfile: undefined,
      createTimeoutMs: 60_000,
      network: { name: 'berth', bridge: 'berth0', subnet: '10.89.0.0/16' },
      unpack: {
        maxLayerBytes: 64 * 2 ** 30,
        maxImageBytes: 128 * 2 ** 30,
        reserveBytes: 256 * 2 ** 20,
        maxConcurrentLayers: 1,
        snapshotter: 'auto',
      },
    });
  });

  it('reads registries, auth and pull limits', () => {
    const text = [
      'registries:',
      '  registry.lan:5000: { plainHttp: true }',
      '  secure.example.com: { plainHttp: false }',
      'auth: { configFile: /root/.docker/config.json }',
      'pull: { maxConcurrentDownloads: 8, retries: 0, idleTimeoutSeconds: 2.5 }',
      'containers: { createTimeoutSeconds: 0.5 }',
      'network: { bridge: br-test, subnet: 10.42.0.0/24 }',
    ].join('\n');
    expect(parseHostConfig(text, 'c.yaml')).toEqual({
      plainHttpRegistries: ['registry.lan:5000'],
      authFile: '/root/.docker/config.json',
      pull: { maxConcurrentDownloads: 8, retries: 0, idleTimeoutMs: 2500 },
      seccompProfile: undefined,
      createTimeoutMs: 500,
      network: { name: 'berth', bridge: 'br-test', subnet: '10.42.0.0/24' },
      unpack: {
        maxLayerBytes: 64 * 2 ** 30,
        maxImageBytes: 128 * 2 ** 30,
        reserveBytes: 256 * 2 ** 20,
        maxConcurrentLayers: 1,
        snapshotter: 'auto',
      },
    });
  });

  it.each([
    [
      'pull:\n  maxConcurrentDownloads: 0\n',
      '/etc/berth/config.yaml:2:27: ERR_CONFIG_INVALID: pull.maxConcurrentDownloads must be >= 1',
    ],
    [
      'pull:\n  retries: 1\n  color: red\n',
      '/etc/berth/config.yaml:3:3: ERR_CONFIG_INVALID: unknown field pull.color',
    ],
    ['registries:\n  "bad host!": {}\n', 'ERR_CONFIG_INVALID'],
    ['pull: [1\n', '/etc/berth/config.yaml:2:1: ERR_YAML_SYNTAX'],
    [
      'unpack: { snapshotter: btrfs }\n',
      '/etc/berth/config.yaml:1:24: ERR_CONFIG_INVALID: unpack.snapshotter',
    ],
  ])('%j is reported at its position', (text, expected) => {
    expect(errorOf(text)).toContain(expected);
  });
});
