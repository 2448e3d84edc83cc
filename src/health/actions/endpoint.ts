// Where a network action goes: its own `host` or the pod's address, and its port by number or by
// the name of one of the container's ports (as the kubelet resolves them). Pure.
import type { ActionTarget, PortRef } from '../action.js';

export type Endpoint = { ok: true; host: string; port: number } | { ok: false; message: string };

export function resolveEndpoint(host: string | undefined, port: PortRef, target: ActionTarget): Endpoint {
  const h = host || target.address;
  if (!h) return { ok: false, message: 'the pod has no address to probe' };
  const p = typeof port === 'number' ? port : target.namedPorts[port];
  if (p === undefined) return { ok: false, message: `the container has no port named "${port}"` };
  if (!Number.isInteger(p) || p < 1 || p > 65535) return { ok: false, message: `invalid port ${p}` };
  return { ok: true, host: h, port: p };
}

/** A host as it goes in a URL: IPv6 addresses bracketed. */
export function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/**
 * A socket error as people read it: `connection refused`, else its message. An HTTP/2 stream
 * cancelled by its session's failure (a gRPC probe) says it through its cause.
 */
export function describeSocketError(err: unknown): string {
  const own = (err as NodeJS.ErrnoException)?.code;
  const cause = ((err as { cause?: unknown })?.cause as NodeJS.ErrnoException | undefined)?.code;
  const code = own === 'ERR_HTTP2_STREAM_CANCEL' && cause ? cause : own;
  const known: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    ENOTFOUND: 'host not found',
    EPIPE: 'connection closed',
  };
  if (code && known[code]) return known[code];
  return err instanceof Error ? err.message : String(err);
}
