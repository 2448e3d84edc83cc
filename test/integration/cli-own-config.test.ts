// Tests run berth against their own host config, never the host's: a broken /etc/berth/config.yaml,
// BERTH_CONFIG or auth file on the machine running the suite must not change what a test sees.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runBerth, spawnBerth, testConfigFile } from '../helpers/cli.js';
import { missingPrereqs } from '../helpers/prereqs.js';

describe('the CLI in tests reads the tests’ own host config', () => {
  let dir: string;
  let broken: string;
  const saved = process.env.BERTH_CONFIG;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-own-config-'));
    broken = join(dir, 'host.yaml');
    await writeFile(broken, 'pull:\n  color: red\n');
    process.env.BERTH_CONFIG = broken; // what a host with a config of its own would point at
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env.BERTH_CONFIG;
    else process.env.BERTH_CONFIG = saved;
    await rm(dir, { recursive: true, force: true });
  });

  it('runBerth and spawnBerth ignore BERTH_CONFIG and pass a config whose auth file is its own', async () => {
    const res = await runBerth(['--root', join(dir, 'root'), 'image', 'ls', '-o', 'json']);
    expect([res.code, res.stdout, res.stderr]).toEqual([0, '[]\n', '']);
    const child = spawnBerth(['--root', join(dir, 'root'), 'image', 'ls', '-o', 'json']);
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const code = await new Promise((r) => child.once('close', r));
    expect([code, out]).toEqual([0, '[]\n']);
    const config = await readFile(testConfigFile(), 'utf8');
    const auth = join(testConfigFile(), '..', 'auth.json');
    expect(config).toBe(`auth:\n  configFile: ${JSON.stringify(auth)}\n`);
    expect(await readFile(auth, 'utf8')).toBe('{"auths": {}}\n');
  });

  it('a --config the test names is the one used', async () => {
    const res = await runBerth(['--root', join(dir, 'root'), '--config', broken, 'image', 'ls']);
    expect(res.code).toBe(2);
    expect(res.stderr).toBe(`berth: ${broken}:2:3: ERR_CONFIG_INVALID: unknown field pull.color\n`);
  });
});

// The README's global flags and their defaults, end to end: with no --root, --state or --config (and no
// BERTH_* variable), berth uses /var/lib/berth, /run/berth and /etc/berth/config.yaml. Run in a mount
// namespace of its own where those three are empty tmpfs, so the host's are neither read nor touched.
const noUnshare = missingPrereqs(['unshare', 'mount'], { root: true });
describe.skipIf(noUnshare)('global flags default to the README’s paths', () => {
  const bare = (script: string) => {
    const env = { ...process.env };
    for (const k of ['BERTH_CONFIG', 'BERTH_ROOT', 'BERTH_STATE']) delete env[k];
    const berth = `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)}`;
    return spawnSync(
      'unshare',
      [
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-c',
        `mount -t tmpfs none /var/lib && mount -t tmpfs none /run && mount -t tmpfs none /etc && mkdir /etc/berth && ${script.replaceAll('BERTH', berth)}`,
      ],
      { env, encoding: 'utf8' },
    );
  };

  it('--root /var/lib/berth, --state /run/berth, --config /etc/berth/config.yaml, -o table', () => {
    const res = bare(
      'BERTH image ls -o json && BERTH container ls && ls /var/lib/berth && echo --- && ls /run/berth && ' +
        "printf 'pull: [\\n' > /etc/berth/config.yaml && BERTH image ls",
    );
    expect(res.stdout).toBe(
      '[]\nNAME   ID   IMAGE   STATE   PID   CREATED\n' +
        'containers\ncontent\ningest\nlast-good\nlocks\npods\nsnapshots\nvolumes\n---\n' +
        'compile-cache\nexits\nlocks\nnetns\noverlay-probe\nrunc\nsockets\n',
    );
    expect(res.stderr).toMatch(/^berth: \/etc\/berth\/config\.yaml:2:1: ERR_YAML_SYNTAX: /);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.status).toBe(2);
  });
});
