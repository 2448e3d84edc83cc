// The host config in effect through the CLI (unit/host-config.test.ts only parses it): the credentials
// file `auth.configFile` names is the one used, a registry beyond loopback is spoken to over plain
// HTTP only when `registries.<host>.plainHttp` says so; and a 403 exits 5 with ERR_FORBIDDEN.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import {
  failTimes,
  type HostileRegistry,
  putSimpleImage,
  requireBasic,
  startHostileRegistry,
} from '../helpers/hostile-registry.js';

/** An IPv4 address of this host that is not loopback, if it has one. */
const outside = Object.values(networkInterfaces())
  .flat()
  .find((a) => a?.family === 'IPv4' && !a.internal)?.address;

describe('the host config in effect', () => {
  let dir: string;
  let reg: HostileRegistry;
  /** The same registry's content, served on a non-loopback address (when the host has one). */
  let far: HostileRegistry | undefined;
  const pull = (config: string, ref: string) =>
    runBerth(['--root', join(dir, 'root'), '--config', config, 'image', 'pull', '--no-unpack', ref]);
  const config = async (name: string, text: string) => {
    const file = join(dir, name);
    await writeFile(file, text);
    return file;
  };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-config-effect-'));
    reg = await startHostileRegistry();
    putSimpleImage(reg, 'test/app', 'v1', Buffer.from('layer'));
    putSimpleImage(reg, 'test/secret', 'v1', Buffer.from('layer'));
    requireBasic(reg, 'alice:s3cret');
    if (outside) {
      far = await startHostileRegistry({ address: outside });
      putSimpleImage(far, 'test/app', 'v1', Buffer.from('layer'));
    }
  });
  afterAll(async () => {
    await reg?.close();
    await far?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('the credentials of the file auth.configFile names are used; without them, 401 exits 5', async () => {
    const ref = `${reg.host}/test/app:v1`;
    const none = await pull(
      await config('none.yaml', `auth: {configFile: ${join(dir, 'missing.json')}}\n`),
      ref,
    );
    expect([none.code, none.stderr.split(':').slice(0, 2).join(':')]).toEqual([5, 'berth: ERR_UNAUTHORIZED']);
    const auths = join(dir, 'auths.json');
    const auth = Buffer.from('alice:s3cret').toString('base64');
    await writeFile(auths, JSON.stringify({ auths: { [reg.host]: { auth } } }));
    const res = await pull(await config('auth.yaml', `auth: {configFile: ${auths}}\n`), ref);
    expect([res.code, res.stderr]).toEqual([0, '']);
    expect(reg.requestsTo('/manifests/v1').at(-1)?.headers.authorization).toBe(`Basic ${auth}`);
  });

  it('a 403 is ERR_FORBIDDEN, exit 5, naming the reference', async () => {
    reg.on('/v2/test/secret/', failTimes(403, 99), { first: true });
    const ref = `${reg.host}/test/secret:v1`;
    const res = await pull(
      await config('none2.yaml', `auth: {configFile: ${join(dir, 'missing.json')}}\n`),
      ref,
    );
    expect(res.code).toBe(5);
    expect(res.stderr).toMatch(new RegExp(`^berth: ERR_FORBIDDEN: ${ref}: [^\\n]*\\n$`));
  });

  it.skipIf(!outside)(
    'beyond loopback: HTTPS unless registries.<host>.plainHttp allows plain HTTP',
    async () => {
      const registry = far as HostileRegistry;
      const ref = `${registry.host}/test/app:v1`;
      const https = await pull(await config('https.yaml', 'pull: {retries: 0}\n'), ref);
      expect([https.code, https.stderr]).toEqual([
        2,
        `berth: ERR_TLS: ${ref}: TLS failed (ERR_SSL_WRONG_VERSION_NUMBER) (for a plain-HTTP registry, set registries.<host>.plainHttp in the host config)\n`,
      ]);
      expect(registry.requests).toEqual([]); // no plain HTTP request reached it
      const plain = await pull(
        await config('plain.yaml', `registries: {"${registry.host}": {plainHttp: true}}\n`),
        ref,
      );
      expect([plain.code, plain.stderr]).toEqual([0, '']);
      expect(registry.requestsTo('/manifests/v1')).toHaveLength(1);
    },
  );
});
