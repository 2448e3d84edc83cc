// Registry credentials from a docker-style config.json (`auths`), looked up by registry host.
// Keys may be bare hosts or URLs (`https://index.docker.io/v1/` means docker.io). Credential
// helpers (`credsStore`, `credHelpers`) are not run: berth reads only what the file holds.
import { readFile } from 'node:fs/promises';
import { BerthError, errnoCode } from '../lib/errors.js';
import { isObject } from '../oci/descriptor.js';

export interface Credential {
  username?: string;
  password?: string;
  /** An OAuth2 refresh token (`identitytoken`), exchanged at the token endpoint. */
  identityToken?: string;
}

export type CredentialLookup = (registry: string) => Credential | undefined;

export const NO_CREDENTIALS: CredentialLookup = () => undefined;

/** `https://index.docker.io/v1/` → `docker.io`; `https://host:5000/` → `host:5000`. */
export function normalizeAuthKey(key: string): string {
  let host = key.replace(/^[a-z]+:\/\//i, '');
  host = host.split('/')[0] ?? host;
  host = host.toLowerCase();
  if (host === 'index.docker.io' || host === 'registry-1.docker.io' || host === 'registry.hub.docker.com') {
    return 'docker.io';
  }
  return host;
}

export function parseCredentials(text: string, file: string): CredentialLookup {
  const bad = (why: string, cause?: unknown) =>
    new BerthError('ERR_CREDENTIALS_INVALID', 'invalid', `${file}: ${why}`, { cause });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw bad('malformed JSON', err);
  }
  if (!isObject(json)) throw bad('not a JSON object');
  const auths = json.auths ?? {};
  if (!isObject(auths)) throw bad('"auths" is not an object');
  const table = new Map<string, Credential>();
  for (const [key, value] of Object.entries(auths)) {
    if (!isObject(value)) throw bad(`auths["${key}"] is not an object`);
    const cred: Credential = {};
    if (typeof value.username === 'string') cred.username = value.username;
    if (typeof value.password === 'string') cred.password = value.password;
    // As docker does: `auth`, when present, wins over `username`/`password`.
    if (typeof value.auth === 'string' && value.auth !== '') {
      const decoded = Buffer.from(value.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) throw bad(`auths["${key}"].auth is not base64 of user:password`);
      cred.username = decoded.slice(0, colon);
      cred.password = decoded.slice(colon + 1);
    }
    if (typeof value.identitytoken === 'string' && value.identitytoken !== '')
      cred.identityToken = value.identitytoken;
    table.set(normalizeAuthKey(key), cred);
  }
  return (registry) => table.get(normalizeAuthKey(registry));
}

/** A missing file means no credentials; an unreadable or malformed one is an error naming it. */
export async function loadCredentials(file: string): Promise<CredentialLookup> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return NO_CREDENTIALS;
    throw new BerthError(
      'ERR_CREDENTIALS_UNREADABLE',
      'invalid',
      `cannot read credentials ${file}: ${errnoCode(err)}`,
      {
        cause: err,
      },
    );
  }
  return parseCredentials(text, file);
}
