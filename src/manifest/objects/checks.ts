// What a schema cannot say about a ConfigMap, Secret, PersistentVolumeClaim or Service: a key in
// both `data` and `binaryData`, a size over Kubernetes' 1 MiB bound (a folder is read on every
// pass), a `kubernetes.io/dockerconfigjson` Secret whose `.dockerconfigjson` is not docker's
// config.json, a typed Secret without the keys its type requires (tls.crt and tls.key, …), a
// service-account-token Secret without the annotation naming its service account; a claim's spec a
// cluster refuses (claim-checks.ts); and a Service, which is accepted and ignored with a warning
// once its spec passes what a cluster checks of it (service-checks.ts). Messages never quote a
// Secret's value. Pure.
import type { Diagnostic } from '../../lib/yaml-validate.js';
import { isObj } from '../plain.js';
import { at, type ParsedDoc } from '../position.js';
import { checkClaim } from './claim-checks.js';
import { type ConfigMapDoc, DOCKER_CONFIG_JSON, DOCKER_CONFIG_KEY, type SecretDoc } from './kinds.js';
import { checkService } from './service-checks.js';
import { objectData } from './store.js';

/** Kubernetes refuses a ConfigMap or Secret whose data is larger (etcd's object bound). */
export const MAX_OBJECT_BYTES = 1024 * 1024;

function checkDockerConfig(p: ParsedDoc, s: SecretDoc, data: Map<string, Buffer>): Diagnostic[] {
  const where = s.stringData?.[DOCKER_CONFIG_KEY] !== undefined ? 'stringData' : 'data';
  const value = data.get(DOCKER_CONFIG_KEY);
  const bad = (why: string) => [
    at(
      p,
      value === undefined ? ['type'] : [where, DOCKER_CONFIG_KEY],
      'ERR_SECRET_INVALID',
      `Secret ${s.metadata.name} of type ${DOCKER_CONFIG_JSON}${why.startsWith(':') ? '' : ' '}${why}`,
    ),
  ];
  if (value === undefined) return bad(`has no ${DOCKER_CONFIG_KEY} key`);
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch {
    return bad(`: ${DOCKER_CONFIG_KEY} is not JSON`); // the parser's message could quote the value
  }
  const auths = (json as { auths?: unknown } | null)?.auths;
  if (!auths || typeof auths !== 'object' || Array.isArray(auths))
    return bad(`: ${DOCKER_CONFIG_KEY} has no "auths" object`);
  return [];
}

/** The keys a cluster requires of a Secret of a built-in type: all of them (`all`) or one of them. */
const TYPED_KEYS: Record<string, { keys: string[]; all: boolean }> = {
  'kubernetes.io/tls': { keys: ['tls.crt', 'tls.key'], all: true },
  'kubernetes.io/ssh-auth': { keys: ['ssh-privatekey'], all: true },
  'kubernetes.io/dockercfg': { keys: ['.dockercfg'], all: true },
  'kubernetes.io/basic-auth': { keys: ['username', 'password'], all: false },
};

function checkTypedKeys(p: ParsedDoc, s: SecretDoc, data: Map<string, Buffer>): Diagnostic[] {
  const rule = s.type === undefined ? undefined : TYPED_KEYS[s.type];
  if (!rule) return [];
  const missing = rule.keys.filter((k) => !data.has(k));
  if (rule.all ? missing.length === 0 : missing.length < rule.keys.length) return [];
  const what = rule.all ? missing.join(' and ') : rule.keys.join(' or ');
  return [
    at(
      p,
      ['type'],
      'ERR_SECRET_INVALID',
      `Secret ${s.metadata.name} of type ${s.type} has no ${what} key, which a cluster requires of that type`,
    ),
  ];
}

/** The annotation a service-account-token Secret must carry (ValidateSecret: ServiceAccountNameKey). */
const SERVICE_ACCOUNT_NAME = 'kubernetes.io/service-account.name';

function checkServiceAccountToken(p: ParsedDoc, s: SecretDoc): Diagnostic[] {
  if (s.type !== 'kubernetes.io/service-account-token') return [];
  if (s.metadata.annotations?.[SERVICE_ACCOUNT_NAME]) return [];
  return [
    at(
      p,
      ['type'],
      'ERR_SECRET_INVALID',
      `Secret ${s.metadata.name} of type ${s.type} has no ${SERVICE_ACCOUNT_NAME} annotation naming its service account, which a cluster requires of that type`,
    ),
  ];
}

export function checkObject(p: ParsedDoc): Diagnostic[] {
  const doc = p.value;
  if (doc.kind === 'Service') {
    return [
      ...checkService(p, isObj(doc.spec) ? doc.spec : undefined),
      at(
        p,
        ['kind'],
        'WARN_SERVICE_IGNORED',
        `Service ${doc.metadata.name} is ignored: berth runs one host, where ports are published by a container's hostPort`,
      ),
    ];
  }
  if (doc.kind === 'PersistentVolumeClaim') return checkClaim(p, doc.spec);
  if (doc.kind !== 'ConfigMap' && doc.kind !== 'Secret') return [];
  const out: Diagnostic[] = [];
  if (doc.kind === 'ConfigMap') {
    const cm = doc as ConfigMapDoc;
    for (const key of Object.keys(cm.binaryData ?? {}))
      if (cm.data?.[key] !== undefined)
        out.push(
          at(p, ['binaryData', key], 'ERR_CONFIGMAP_INVALID', `key ${key} is in both data and binaryData`),
        );
  }
  const data = objectData(doc);
  const bytes = [...data].reduce((n, [k, v]) => n + k.length + v.length, 0);
  if (bytes > MAX_OBJECT_BYTES)
    out.push(
      at(
        p,
        ['metadata', 'name'],
        doc.kind === 'Secret' ? 'ERR_SECRET_INVALID' : 'ERR_CONFIGMAP_INVALID',
        `${doc.kind} ${doc.metadata.name} holds ${bytes} bytes; at most ${MAX_OBJECT_BYTES} (1 MiB), as in Kubernetes`,
      ),
    );
  if (doc.kind === 'Secret' && doc.type === DOCKER_CONFIG_JSON) out.push(...checkDockerConfig(p, doc, data));
  if (doc.kind === 'Secret') out.push(...checkTypedKeys(p, doc, data), ...checkServiceAccountToken(p, doc));
  return out;
}
