// httpGet, as the kubelet's HTTP prober: no keep-alive, no certificate checks for HTTPS, the Host
// header and others from httpHeaders, `Accept: */*` unless given, 200–399 success. Redirects are
// followed only to the same host name and at most 10 times; a redirect to another host is not
// followed and counts as success with a warning (the kubelet's probe.Warning). The body is read to
// 10 KiB at most and the socket closed; headers are bounded by Node's parser (16 KiB); the whole
// exchange, redirects included, by the deadline.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ActionResult, HttpHeader } from '../action.js';
import type { Deadline } from './deadline.js';
import { describeSocketError, urlHost } from './endpoint.js';

export const MAX_BODY_BYTES = 10 * 1024;
export const MAX_REDIRECTS = 10;

export interface HttpProbe {
  scheme: 'HTTP' | 'HTTPS';
  host: string;
  port: number;
  path: string;
  headers: HttpHeader[];
  userAgent: string;
}

export async function probeHttp(p: HttpProbe, deadline: Deadline): Promise<ActionResult> {
  const path = p.path.startsWith('/') ? p.path : `/${p.path}`;
  let url: URL;
  try {
    url = new URL(`${p.scheme.toLowerCase()}://${urlHost(p.host)}:${p.port}${path}`);
  } catch {
    return { ok: false, message: `invalid URL for path "${p.path}"` };
  }
  const first = url.hostname;
  let host = p.headers.find((h) => h.name.toLowerCase() === 'host')?.value;
  for (let redirects = 0; ; redirects++) {
    const r = await getOnce(url, host, p, deadline);
    if ('message' in r) return r;
    const { status, location } = r;
    if (status >= 300 && status < 400 && location !== undefined) {
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        return { ok: true, message: `HTTP ${status} (redirect to an invalid location not followed)` };
      }
      if ((next.protocol !== 'http:' && next.protocol !== 'https:') || next.hostname !== first)
        return { ok: true, message: `HTTP ${status} (warning: redirect to ${next.host} not followed)` };
      if (redirects + 1 >= MAX_REDIRECTS)
        return { ok: false, message: `stopped after ${MAX_REDIRECTS} redirects` };
      // A relative redirect keeps the Host header given; an absolute one names its own (as Go's client).
      if (/^[a-z][a-z0-9+.-]*:/i.test(location.trim()) || location.trim().startsWith('//')) host = undefined;
      url = next;
      continue;
    }
    if (status >= 200 && status < 400) return { ok: true, message: `HTTP ${status}` };
    return { ok: false, message: `HTTP ${status}` };
  }
}

type Answer = { status: number; location?: string } | ActionResult;

function getOnce(url: URL, host: string | undefined, p: HttpProbe, deadline: Deadline): Promise<Answer> {
  return new Promise((resolve) => {
    if (deadline.signal.aborted) return resolve(deadline.reason());
    const headers: Record<string, string | string[]> = { 'user-agent': p.userAgent, accept: '*/*' };
    for (const h of p.headers) {
      const k = h.name.toLowerCase();
      if (k === 'host') continue;
      // Given headers replace the defaults; a header given twice is sent twice.
      const prev = headers[k];
      headers[k] =
        prev === undefined || k === 'user-agent' || k === 'accept'
          ? h.value
          : [...(Array.isArray(prev) ? prev : [prev]), h.value];
    }
    if (host !== undefined) headers.host = host;
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    let settled = false;
    const finish = (a: Answer, res?: IncomingMessage) => {
      if (settled) return;
      settled = true;
      deadline.signal.removeEventListener('abort', onAbort);
      res?.destroy();
      req.destroy();
      resolve(a);
    };
    const onAbort = () => finish(deadline.reason());
    let req: ReturnType<typeof httpRequest>;
    try {
      req = request(url, {
        method: 'GET',
        headers,
        agent: false,
        rejectUnauthorized: false,
        maxHeaderSize: 16 * 1024,
      });
    } catch (err) {
      return resolve({ ok: false, message: err instanceof Error ? err.message : String(err) });
    }
    deadline.signal.addEventListener('abort', onAbort, { once: true });
    req.once('error', (err) => finish({ ok: false, message: describeSocketError(err) }));
    req.once('response', (res) => {
      const status = res.statusCode ?? 0;
      const location = typeof res.headers.location === 'string' ? res.headers.location : undefined;
      const answer: Answer = { status, ...(location !== undefined ? { location } : {}) };
      // The body is read (to the cap) so a server that writes it before closing is not cut off
      // mid-write needlessly, but never held: the status decides.
      let read = 0;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read >= MAX_BODY_BYTES) finish(answer, res);
      });
      res.once('end', () => finish(answer, res));
      res.once('error', () => finish(answer, res));
      res.once('aborted', () => finish(answer, res));
    });
    req.end();
  });
}
