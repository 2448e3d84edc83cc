import { describe, expect, it } from 'vitest';
import { parseHostConfig } from '../../src/config/host-config.js';
import { formatErrorLines, isBerthError } from '../../src/lib/errors.js';
import { chooseSnapshotForm } from '../../src/snapshot/form.js';

function errorOf(text: string): string {
  try {
    parseHostConfig(text, '/etc/berth/config.yaml');
  } catch (err) {
    if (isBerthError(err)) return [err.code, ...formatErrorLines(err)].join('\n');
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
      pull: { maxConcurrentDownloads: 3, retries: 4, idleTimeoutMs: 30_000, alwaysRefreshMs: 300_000 },
      seccompProfile: undefined,
      createTimeoutMs: 60_000,
      unpack: {
        maxLayerBytes: 64 * 2 ** 30,
        maxImageBytes: 128 * 2 ** 30,
        reserveBytes: 256 * 2 ** 20,
        maxConcurrentLayers: 1,
        snapshotter: 'auto',
      },
      events: { maxBytes: 4 * 2 ** 20 },
      metrics: { listen: undefined },
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
    ].join('\n');
    expect(parseHostConfig(text, 'c.yaml')).toEqual({
      plainHttpRegistries: ['registry.lan:5000'],
      authFile: '/root/.docker/config.json',
      pull: { maxConcurrentDownloads: 8, retries: 0, idleTimeoutMs: 2500, alwaysRefreshMs: 300_000 },
      seccompProfile: undefined,
      createTimeoutMs: 500,
      unpack: {
        maxLayerBytes: 64 * 2 ** 30,
        maxImageBytes: 128 * 2 ** 30,
        reserveBytes: 256 * 2 ** 20,
        maxConcurrentLayers: 1,
        snapshotter: 'auto',
      },
      events: { maxBytes: 4 * 2 ** 20 },
      metrics: { listen: undefined },
    });
  });

  it.each([
    [
      'pull:\n  maxConcurrentDownloads: 0\n',
      ['F:2:27: ERR_CONFIG_INVALID: pull.maxConcurrentDownloads must be >= 1'],
    ],
    ['pull:\n  retries: 1\n  color: red\n', ['F:3:3: ERR_CONFIG_INVALID: unknown field pull.color']],
    [
      'registries:\n  "bad host!": {}\n',
      [
        'F:2:3: ERR_CONFIG_INVALID: registries must match pattern "^[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^\\[[0-9a-fA-F:.]+\\](:[0-9]{1,5})?$"',
        'F:2:3: ERR_CONFIG_INVALID: registries property name must be valid',
      ],
    ],
    [
      'pull: [1\n',
      ['F:2:1: ERR_YAML_SYNTAX: Flow sequence in block collection must be sufficiently indented and end with a ]'],
    ],
    [
      'unpack: { snapshotter: btrfs }\n',
      ['F:1:24: ERR_CONFIG_INVALID: unpack.snapshotter must be one of auto, overlay, native'],
    ],
    [
      'pull:\n  retries: -1\n  color: red\n',
      ['F:3:3: ERR_CONFIG_INVALID: unknown field pull.color', 'F:2:12: ERR_CONFIG_INVALID: pull.retries must be >= 0'],
    ],
  ])('%j is reported one line per problem at its position, the code once per line', (text, lines) => {
    const expected = ['ERR_CONFIG_INVALID', ...lines.map((l) => l.replace(/^F:/, '/etc/berth/config.yaml:'))];
    expect(errorOf(text)).toBe(expected.join('\n'));
  });
});
