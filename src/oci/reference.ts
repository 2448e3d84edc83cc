// Image references: `registry/repository[:tag][@digest]`, normalised as Docker does
// (`busybox` → `docker.io/library/busybox:latest`). Pure: no I/O.
import { BerthError } from '../lib/errors.js';
import { type Digest, isDigest } from './digest.js';

export const DEFAULT_REGISTRY = 'docker.io';
export const DEFAULT_TAG = 'latest';

export interface Reference {
  /** host[:port] as written (lower-cased), `docker.io` for Docker Hub. */
  registry: string;
  repository: string;
  tag?: string;
  digest?: Digest;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const HOST_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const MAX_NAME_LENGTH = 255;

function invalid(input: string, why: string): BerthError {
  return new BerthError('ERR_REFERENCE_INVALID', 'invalid', `invalid reference "${input}": ${why}`);
}

/** Parse and normalise; a reference with neither tag nor digest gets `:latest`. */
export function parseReference(input: string): Reference {
  const ref = parseReferenceLoose(input);
  if (ref.tag === undefined && ref.digest === undefined) return { ...ref, tag: DEFAULT_TAG };
  return ref;
}

/** Parse without adding the default tag (a repository name alone stays bare). */
export function parseReferenceLoose(input: string): Reference {
  if (input.length === 0) throw invalid(input, 'empty');
  if (input !== input.trim()) throw invalid(input, 'contains white space');
  let rest = input;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const d = rest.slice(at + 1);
    if (!isDigest(d)) throw invalid(input, `bad digest "${d}"`);
    digest = d;
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    if (!TAG.test(tag)) throw invalid(input, `bad tag "${tag}"`);
    rest = rest.slice(0, colon);
  }
  const { registry, path } = splitRegistry(rest, input);
  let repository = path;
  if (registry === DEFAULT_REGISTRY && !repository.includes('/')) repository = `library/${repository}`;
  for (const component of repository.split('/')) {
    if (!COMPONENT.test(component)) {
      const why = /[A-Z]/.test(component)
        ? `repository must be lowercase ("${component}")`
        : `bad path component "${component}"`;
      throw invalid(input, why);
    }
  }
  if (registry.length + 1 + repository.length > MAX_NAME_LENGTH) {
    throw invalid(input, `name longer than ${MAX_NAME_LENGTH} characters`);
  }
  const ref: Reference = { registry, repository };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

function splitRegistry(name: string, input: string): { registry: string; path: string } {
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  const isHost = first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!isHost) {
    if (name === '') throw invalid(input, 'missing repository');
    return { registry: DEFAULT_REGISTRY, path: name };
  }
  const path = name.slice(slash + 1);
  if (path === '') throw invalid(input, 'missing repository');
  let registry = first.toLowerCase();
  validateHost(registry, input);
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = DEFAULT_REGISTRY;
  return { registry, path };
}

function validateHost(host: string, input: string): void {
  let hostname = host;
  let port: string | undefined;
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    if (end < 0) throw invalid(input, `bad registry host "${host}"`);
    hostname = host.slice(1, end);
    if (!/^[0-9a-f:.]+$/.test(hostname)) throw invalid(input, `bad IPv6 address "${hostname}"`);
    const after = host.slice(end + 1);
    if (after !== '') {
      if (!after.startsWith(':')) throw invalid(input, `bad registry host "${host}"`);
      port = after.slice(1);
    }
  } else {
    const c = host.lastIndexOf(':');
    if (c >= 0) {
      port = host.slice(c + 1);
      hostname = host.slice(0, c);
    }
    if (!hostname.split('.').every((part) => HOST_COMPONENT.test(part))) {
      throw invalid(input, `bad registry host "${host}"`);
    }
  }
  if (port !== undefined && (!/^\d{1,5}$/.test(port) || Number(port) > 65535 || Number(port) === 0)) {
    throw invalid(input, `bad port "${port}"`);
  }
}

/** The canonical string: `registry/repository[:tag][@digest]`. */
export function formatReference(ref: Reference): string {
  let out = `${ref.registry}/${ref.repository}`;
  if (ref.tag !== undefined) out += `:${ref.tag}`;
  if (ref.digest !== undefined) out += `@${ref.digest}`;
  return out;
}

/** What to ask the registry for: the digest when pinned, else the tag. */
export function referenceTarget(ref: Reference): string {
  return ref.digest ?? ref.tag ?? DEFAULT_TAG;
}

/** The host to connect to: Docker Hub's API lives elsewhere than its name. */
export function registryApiHost(registry: string): string {
  return registry === DEFAULT_REGISTRY ? 'registry-1.docker.io' : registry;
}

/** The hostname without port or IPv6 brackets. */
export function registryHostname(registry: string): string {
  if (registry.startsWith('[')) return registry.slice(1, registry.indexOf(']'));
  const c = registry.lastIndexOf(':');
  return c < 0 ? registry : registry.slice(0, c);
}

/** Loopback registries may speak plain HTTP without configuration. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registryHostname(registry);
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
