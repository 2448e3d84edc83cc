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
      registries: {},
      authFile: '/etc/berth/auth.json',
      pull: { maxConcurrentDownloads: 3, retries: 4, idleTimeoutMs: 30_000, alwaysRefreshMs: 300_000 },
      seccompProfile: undefined,
      createTimeoutMs: 60_000,
      images: { gcHighPercent: 85, gcLowPercent: 80 },
      logs: { maxBytes: 10 * 2 ** 20, maxFiles: 3 },
      network: { name: 'berth', bridge: 'berth0', subnet: '10.89.0.0/16' },
      networkSpares: 1,
      unpack: {
        maxLayerBytes: 64 * 2 ** 30,
        maxImageBytes: 128 * 2 ** 30,
        reserveBytes: 256 * 2 ** 20,
        maxConcurrentLayers: 1,
        snapshotter: 'auto',
      },
      events: { maxBytes: 4 * 2 ** 20 },
      metrics: { listen: undefined },
      userNamespaces: { firstId: 1073741824, ranges: 16384 },
    });
  });

  it('reads image GC thresholds and the log size, and refuses a low threshold not below the high one', () => {
    const config = parseHostConfig('images: { gcHighPercent: 95 }\nlogs: { maxBytes: 65536 }', 'c.yaml');
    expect([config.images, config.logs]).toEqual([
      { gcHighPercent: 95, gcLowPercent: 80 },
      { maxBytes: 65536, maxFiles: 3 },
    ]);
    expect(parseHostConfig('images: { gcHighPercent: 50 }', 'c.yaml').images).toEqual({
      gcHighPercent: 50,
      gcLowPercent: 45,
    });
    expect(() => parseHostConfig('images: { gcHighPercent: 70, gcLowPercent: 70 }', 'c.yaml')).toThrow(
      'images.gcLowPercent (70) must be less than images.gcHighPercent (70)',
    );
  });

  it("a value no schema can check is an error at its section's FILE:LINE:COL, as the schema's are", () => {
    const lines = (text: string) => {
      try {
        parseHostConfig(text, 'c.yaml');
      } catch (err) {
        if (isBerthError(err)) return [err.code, err.lines];
        throw err;
      }
      return undefined;
    };
    expect(lines('# host\npull: {retries: 2}\nnetwork:\n  subnet: 10.300.0.0/16\n')).toEqual([
      'ERR_NETWORK_CONFIG',
      [
        'c.yaml:3:1: ERR_NETWORK_CONFIG: network subnet "10.300.0.0/16" must be an IPv4 CIDR with a prefix from /8 to /30',
      ],
    ]);
    expect(lines('logs: {maxFiles: 2}\nimages: {gcHighPercent: 50, gcLowPercent: 60}\n')).toEqual([
      'ERR_CONFIG_INVALID',
      [
        'c.yaml:2:1: ERR_CONFIG_INVALID: images.gcLowPercent (60) must be less than images.gcHighPercent (50)',
      ],
    ]);
    expect(lines('{"userNamespaces": {"firstId": 4294000000}}')?.[1]).toEqual([
      expect.stringMatching(/^c\.yaml:1:2: ERR_CONFIG_INVALID: userNamespaces: firstId 4294000000 /),
    ]);
    expect(lines('registries:\n  a.lan: {clientCert: /c.pem}\n')?.[1]).toEqual([
      expect.stringMatching(/^c\.yaml:1:1: ERR_CONFIG_INVALID: .*clientCert and clientKey go together/),
    ]);
  });

  it('network.bridge is a Linux interface name of at most 15 characters: 15 taken, 16 refused at its node', () => {
    // README (Host config): `bridge: berth0  # a Linux bridge, at most 15 characters` (IFNAMSIZ less
    // its NUL): a longer one would fail every pod's attach in the bridge plugin instead of the config.
    expect(parseHostConfig('network:\n  bridge: br-abcdefghijkl\n', 'c.yaml').network.bridge).toBe(
      'br-abcdefghijkl',
    );
    let thrown: unknown;
    try {
      parseHostConfig('network:\n  bridge: br-abcdefghijklm\n', 'c.yaml');
    } catch (err) {
      thrown = err;
    }
    expect(isBerthError(thrown) ? [thrown.code, thrown.lines] : thrown).toEqual([
      'ERR_CONFIG_INVALID',
      [expect.stringMatching(/^c\.yaml:2:11: ERR_CONFIG_INVALID: network\.bridge must match pattern /)],
    ]);
  });

  it('network.spares: 0 to 8, kept apart from the settings recorded with the network; 9 refused at its node', () => {
    const c = parseHostConfig('network:\n  subnet: 10.42.0.0/24\n  spares: 0\n', 'c.yaml');
    expect([c.networkSpares, c.network]).toEqual([
      0,
      { name: 'berth', bridge: 'berth0', subnet: '10.42.0.0/24' },
    ]);
    expect(parseHostConfig('network: {spares: 8}\n', 'c.yaml').networkSpares).toBe(8);
    expect(errorOf('network: {spares: 9}\n')).toMatch(/ERR_CONFIG_INVALID\n.*network\.spares must be <= 8/);
    expect(errorOf('network: {spares: -1}\n')).toMatch(/network\.spares must be >= 0/);
  });

  it('reads mirrors (hosts.toml model): order, capabilities, TLS files, headers, rewrites, _default', () => {
    const text = [
      'registries:',
      '  docker.io:',
      '    ca: /etc/berth/hub-ca.pem',
      '    mirrors:',
      '      - host: mirror.lan:5000',
      '        plainHttp: true',
      '        capabilities: [pull]',
      '        headers: { X-Token: t }',
      '        rewrite: { "^library/(.*)$": "hub/$1" }',
      '      - { host: cache.lan, clientCert: /c.pem, clientKey: /c.key, skipVerify: true }',
      '  _default:',
      '    mirrors: [{ host: everything.lan }]',
    ].join('\n');
    const c = parseHostConfig(text, 'c.yaml');
    expect(c.plainHttpRegistries).toEqual([]);
    expect(c.registries).toEqual({
      'docker.io': {
        origin: {
          host: 'docker.io',
          plainHttp: false,
          ca: '/etc/berth/hub-ca.pem',
          skipVerify: false,
          headers: {},
        },
        mirrors: [
          {
            host: 'mirror.lan:5000',
            plainHttp: true,
            skipVerify: false,
            headers: { 'X-Token': 't' },
            capabilities: ['pull'],
            rewrite: [['^library/(.*)$', 'hub/$1']],
          },
          {
            host: 'cache.lan',
            plainHttp: false,
            clientCert: '/c.pem',
            clientKey: '/c.key',
            skipVerify: true,
            headers: {},
            capabilities: ['pull', 'resolve'],
            rewrite: [],
          },
        ],
      },
      _default: {
        origin: { host: '_default', plainHttp: false, skipVerify: false, headers: {} },
        mirrors: [
          {
            host: 'everything.lan',
            plainHttp: false,
            skipVerify: false,
            headers: {},
            capabilities: ['pull', 'resolve'],
            rewrite: [],
          },
        ],
      },
    });
    expect(() =>
      parseHostConfig('registries:\n  r.lan:\n    mirrors: [{ host: m, rewrite: { "(": x } }]', 'c.yaml'),
    ).toThrow('registries.r.lan.mirrors[0].rewrite: "(" is not a regular expression');
    expect(() => parseHostConfig('registries:\n  r.lan: { clientCert: /c.pem }', 'c.yaml')).toThrow(
      'registries.r.lan: clientCert and clientKey go together',
    );
    expect(() =>
      parseHostConfig('registries:\n  r.lan:\n    mirrors: [{ host: m, capabilities: [push] }]', 'c.yaml'),
    ).toThrow(/ERR_CONFIG_INVALID/);
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
      registries: {
        'registry.lan:5000': {
          origin: { host: 'registry.lan:5000', plainHttp: true, skipVerify: false, headers: {} },
          mirrors: [],
        },
        'secure.example.com': {
          origin: { host: 'secure.example.com', plainHttp: false, skipVerify: false, headers: {} },
          mirrors: [],
        },
      },
      authFile: '/root/.docker/config.json',
      pull: { maxConcurrentDownloads: 8, retries: 0, idleTimeoutMs: 2500, alwaysRefreshMs: 300_000 },
      seccompProfile: undefined,
      createTimeoutMs: 500,
      images: { gcHighPercent: 85, gcLowPercent: 80 },
      logs: { maxBytes: 10 * 2 ** 20, maxFiles: 3 },
      network: { name: 'berth', bridge: 'br-test', subnet: '10.42.0.0/24' },
      networkSpares: 1,
      unpack: {
        maxLayerBytes: 64 * 2 ** 30,
        maxImageBytes: 128 * 2 ** 30,
        reserveBytes: 256 * 2 ** 20,
        maxConcurrentLayers: 1,
        snapshotter: 'auto',
      },
      events: { maxBytes: 4 * 2 ** 20 },
      metrics: { listen: undefined },
      userNamespaces: { firstId: 1073741824, ranges: 16384 },
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
        'F:2:3: ERR_CONFIG_INVALID: registries must match pattern "^_default$|^[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^\\[[0-9a-fA-F:.]+\\](:[0-9]{1,5})?$"',
      ],
    ],
    [
      'pull: [1\n',
      [
        'F:2:1: ERR_YAML_SYNTAX: Flow sequence in block collection must be sufficiently indented and end with a ]',
      ],
    ],
    [
      'unpack: { snapshotter: btrfs }\n',
      ['F:1:24: ERR_CONFIG_INVALID: unpack.snapshotter must be one of auto, overlay, native'],
    ],
    [
      'pull:\n  retries: -1\n  color: red\n',
      [
        'F:3:3: ERR_CONFIG_INVALID: unknown field pull.color',
        'F:2:12: ERR_CONFIG_INVALID: pull.retries must be >= 0',
      ],
    ],
  ])('%j is reported one line per problem at its position, the code once per line', (text, lines) => {
    const expected = ['ERR_CONFIG_INVALID', ...lines.map((l) => l.replace(/^F:/, '/etc/berth/config.yaml:'))];
    expect(errorOf(text)).toBe(expected.join('\n'));
  });
});
