// Registry authentication against the hostile registry: Bearer tokens (anonymous, with Basic
// credentials at the realm, refresh, sharing), Basic-only registries, and where credentials go.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseCredentials } from '../../src/registry/credentials.js';
import {
  failure,
  type HostileRegistry,
  putSimpleImage,
  RecordingSink,
  redirectTo,
  requireBasic,
  requireBearer,
  startHostileRegistry,
} from '../helpers/hostile-registry.js';
import { type Closeable, clientFactory, layerDescriptor } from '../helpers/registry-client.js';

let reg: HostileRegistry;
let other: HostileRegistry;
const cleanup: Closeable[] = [];

beforeEach(async () => {
  reg = await startHostileRegistry();
  other = await startHostileRegistry();
  cleanup.push(reg, other);
});
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c.close();
});

const client = clientFactory(cleanup, 2);

const repo = () => ({ registry: reg.host, repository: 'test/app' });
const creds = (host: string, entry: Record<string, string>) =>
  parseCredentials(JSON.stringify({ auths: { [host]: entry } }), 'auth.json');
const blobDesc = layerDescriptor;

describe('Bearer tokens', () => {
  it('fetches one token anonymously and reuses it for manifests and blobs of the repository', async () => {
    const img = putSimpleImage(reg, 'test/app', 'v1', Buffer.from('layer'));
    const auth = requireBearer(reg);
    const c = client();
    await c.getManifest(repo(), 'v1');
    await c.getManifest(repo(), img.digest);
    await c.fetchBlob(repo(), blobDesc(img.layer), new RecordingSink());
    expect(auth.tokenRequests).toBe(1);
    const token = reg.requestsTo('/token')[0];
    expect(token?.path).toBe('/token?service=hostile&scope=repository%3Atest%2Fapp%3Apull');
    expect(token?.headers.authorization).toBeUndefined();
  });

  it('shares one token request between concurrent fetches', async () => {
    const blobs = [1, 2, 3, 4, 5].map((i) => reg.putBlob('test/app', `blob ${i}`));
    const auth = requireBearer(reg);
    const c = client();
    await Promise.all(blobs.map((b) => c.fetchBlob(repo(), blobDesc(b), new RecordingSink())));
    expect(auth.tokenRequests).toBe(1);
  });

  it('fetches a new token once the old one expires', async () => {
    putSimpleImage(reg, 'test/app', 'v1', Buffer.from('layer'));
    const auth = requireBearer(reg, { expiresIn: 60 });
    let now = 1_000_000;
    const c = client({ now: () => now });
    await c.getManifest(repo(), 'v1');
    now += 30_000;
    await c.getManifest(repo(), 'v1');
    expect(auth.tokenRequests).toBe(1);
    now += 60_000;
    await c.getManifest(repo(), 'v1');
    expect(auth.tokenRequests).toBe(2);
  });

  it('accepts access_token and pings with a token', async () => {
    requireBearer(reg, { field: 'access_token' });
    await client().ping(reg.host);
    expect(reg.requestsTo('/v2/').at(-1)?.headers.authorization).toMatch(/^Bearer tok-/);
  });

  it('sends Basic credentials to the token realm named by the registry, never to the registry', async () => {
    putSimpleImage(reg, 'test/app', 'v1', Buffer.from('layer'));
    requireBearer(reg, { tokenServer: other, basic: 'alice:s3cret' });
    const credentials = creds(`https://${reg.host}`, { username: 'alice', password: 's3cret' });
    await client({ credentials }).getManifest(repo(), 'v1');
    const basic = `Basic ${Buffer.from('alice:s3cret').toString('base64')}`;
    expect(other.requestsTo('/token')[0]?.headers.authorization).toBe(basic);
    expect(reg.requests.every((r) => !r.headers.authorization?.startsWith('Basic'))).toBe(true);
  });

  it('reports refused credentials as ERR_UNAUTHORIZED without the secret', async () => {
    requireBearer(reg, { basic: 'alice:s3cret' });
    const credentials = creds(reg.host, { username: 'alice', password: 'wrong-pw' });
    const err = await failure(client({ credentials }).getManifest(repo(), 'v1'));
    expect(err).toMatchObject({ code: 'ERR_UNAUTHORIZED', kind: 'unauthorized' });
    expect(err.message).toContain(reg.host);
    expect(err.message).toContain('test/app');
    expect(err.message).not.toMatch(/wrong-pw|d3Jvbmct|alice/);
  });

  it('refuses a token realm on plain http to a host not allowed it, sending it nothing', async () => {
    requireBearer(reg, { tokenServer: other });
    const c = client({ isPlainHttpAllowed: (h) => h === reg.host });
    const err = await failure(c.getManifest(repo(), 'v1'));
    expect(err.code).toBe('ERR_AUTH_REALM_INVALID');
    expect(err.message).toContain(reg.host);
    expect(other.requests).toHaveLength(0);
  });

  it('never sends the token to a redirect target on another host', async () => {
    const blob = other.putBlob('test/app', 'on the cdn');
    requireBearer(reg);
    reg.on('/blobs/', redirectTo(`${other.url}/v2/test/app/blobs/${blob.digest}`));
    const sink = new RecordingSink();
    await client().fetchBlob(repo(), blobDesc(blob), sink);
    expect(sink.bytes().toString()).toBe('on the cdn');
    expect(reg.requestsTo('/blobs/').at(-1)?.headers.authorization).toMatch(/^Bearer /);
    expect(other.requests.map((r) => r.headers.authorization)).toEqual([undefined]);
  });
});

describe('Basic-only registries', () => {
  it('answers a Basic challenge with the credentials for that registry', async () => {
    putSimpleImage(reg, 'test/app', 'v1', Buffer.from('layer'));
    requireBasic(reg, 'bob:hunter2');
    const credentials = creds(reg.host, { auth: Buffer.from('bob:hunter2').toString('base64') });
    const c = client({ credentials });
    await c.getManifest(repo(), 'v1');
    await c.getManifest(repo(), 'v1');
    // The first request learns the scheme; later ones send credentials straight away.
    expect(reg.requests.map((r) => r.headers.authorization === undefined)).toEqual([true, false, false]);
  });

  it.each([
    ['no credentials', undefined],
    ['wrong credentials', 'bob:wrong'],
  ])('reports %s as ERR_UNAUTHORIZED naming the reference, after one try', async (_name, userPass) => {
    requireBasic(reg, 'bob:hunter2');
    const credentials = userPass
      ? creds(reg.host, { auth: Buffer.from(userPass).toString('base64') })
      : undefined;
    const err = await failure(client({ credentials }).getManifest(repo(), 'v1'));
    expect(err.code).toBe('ERR_UNAUTHORIZED');
    expect(err.message).toMatch(new RegExp(`^${reg.host}/test/app:v1: `));
    expect(err.message).not.toContain('wrong');
    expect(reg.requests).toHaveLength(userPass ? 2 : 1);
  });

  it("never sends one registry's credentials to another", async () => {
    requireBasic(other, 'bob:hunter2');
    const credentials = creds(reg.host, { username: 'bob', password: 'hunter2' });
    const err = await failure(
      client({ credentials }).getManifest({ registry: other.host, repository: 'test/app' }, 'v1'),
    );
    expect(err.code).toBe('ERR_UNAUTHORIZED');
    expect(other.requests.map((r) => r.headers.authorization)).toEqual([undefined]);
  });
});
