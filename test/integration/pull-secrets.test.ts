// A pod's imagePullSecrets against a registry that demands Basic auth: the Secret's credentials go
// to the registry it names, and only there; another registry gets the host's own credentials.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseCredentials } from '../../src/registry/credentials.js';
import { pullSecretCredentials } from '../../src/registry/pull-secrets.js';
import {
  failure,
  type HostileRegistry,
  putSimpleImage,
  requireBasic,
  startHostileRegistry,
} from '../helpers/hostile-registry.js';
import { type Closeable, clientFactory } from '../helpers/registry-client.js';

let reg: HostileRegistry;
let other: HostileRegistry;
const cleanup: Closeable[] = [];
const client = clientFactory(cleanup, 1);
const dockerConfig = (host: string, userPass: string) =>
  JSON.stringify({ auths: { [host]: { auth: Buffer.from(userPass).toString('base64') } } });
const basic = (userPass: string) => `Basic ${Buffer.from(userPass).toString('base64')}`;

beforeEach(async () => {
  reg = await startHostileRegistry();
  other = await startHostileRegistry();
  cleanup.push(reg, other);
});
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c.close();
});

describe("a pod's imagePullSecrets", () => {
  it('are used for the registry they name, the host credentials for any other', async () => {
    putSimpleImage(reg, 'team/app', 'v1', Buffer.from('layer'));
    putSimpleImage(other, 'team/app', 'v1', Buffer.from('layer'));
    requireBasic(reg, 'pod:from-secret');
    requireBasic(other, 'host:from-config');
    const host = parseCredentials(dockerConfig(other.host, 'host:from-config'), 'auth.json');
    const credentials = pullSecretCredentials(
      ['{not json', dockerConfig(reg.host, 'pod:from-secret'), dockerConfig(reg.host, 'second:loses')],
      host,
    );
    const c = client({ credentials });
    await c.getManifest({ registry: reg.host, repository: 'team/app' }, 'v1');
    await c.getManifest({ registry: other.host, repository: 'team/app' }, 'v1');
    expect(reg.requests.map((r) => r.headers.authorization)).toEqual([undefined, basic('pod:from-secret')]);
    expect(other.requests.map((r) => r.headers.authorization)).toEqual([
      undefined,
      basic('host:from-config'),
    ]);
  });

  it('without a pull secret for it, a registry that wants auth refuses, and no secret is sent there', async () => {
    requireBasic(other, 'host:from-config');
    const credentials = pullSecretCredentials([dockerConfig(reg.host, 'pod:from-secret')], () => undefined);
    const err = await failure(
      client({ credentials }).getManifest({ registry: other.host, repository: 'a' }, 'v1'),
    );
    expect(err.code).toBe('ERR_UNAUTHORIZED');
    expect(other.requests.map((r) => r.headers.authorization)).toEqual([undefined]);
  });
});
