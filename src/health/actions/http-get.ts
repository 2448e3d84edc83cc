// httpGet, as the kubelet's HTTP prober: no keep-alive, no certificate checks for HTTPS, the Host
// header and others from httpHeaders, `Accept: */*` unless given, 200–399 success. Redirects are
// followed only to the same host name and at most 10 times; a redirect to another host is not
// followed and counts as success with a warning (the kubelet's probe.Warning). The body is read to
// 10 KiB at most and the socket closed; the head is bounded (16 KiB); the whole exchange,
// redirects included, by the deadline. One request is written on a plain socket (TLS for HTTPS)
// and the answer read by http-response.ts: node's http client cost twice the CPU per probe, and
// the daemon makes hundreds a second.
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { ActionResult, HttpHeader } from '../action.js';
import type { Deadline } from './deadline.js';
import { describeSocketError, urlHost } from './endpoint.js';
import { formatRequest } from './http-request.js';
import { createResponseReader, type ReadState, type ResponseHead } from './http-response.js';

export { MAX_BODY_BYTES } from './http-response.js';
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
  // The kubelet's URL always names the port, and Go sends the URL's host:port as Host.
  // An empty Host given is none (Go's req.Host "").
  let host = p.headers.find((h) => h.name.toLowerCase() === 'host')?.value || `${urlHost(p.host)}:${p.port}`;
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
      if (/^[a-z][a-z0-9+.-]*:/i.test(location.trim()) || location.trim().startsWith('//')) host = next.host;
      url = next;
      continue;
    }
    if (status >= 200 && status < 400) return { ok: true, message: `HTTP ${status}` };
    return { ok: false, message: `HTTP ${status}` };
  }
}

type Answer = ResponseHead | ActionResult;

const READ_BUFFER = Buffer.alloc(16 * 1024);

function getOnce(url: URL, host: string, p: HttpProbe, deadline: Deadline): Promise<Answer> {
  return new Promise((resolve) => {
    if (deadline.signal.aborted) return resolve(deadline.reason());
    const request = formatRequest({
      target: `${url.pathname}${url.search}`,
      host,
      headers: p.headers,
      userAgent: p.userAgent,
    });
    if ('message' in request) return resolve({ ok: false, message: request.message });
    const reader = createResponseReader();
    // net and tls take an IPv6 address without the URL's brackets.
    const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    let socket: Socket;
    try {
      // Plain sockets read into one shared buffer (the reader copies what it keeps): no stream
      // machinery and no allocation per read.
      socket =
        url.protocol === 'https:'
          ? tlsConnect({ host: hostname, port, rejectUnauthorized: false })
          : netConnect({
              host: hostname,
              port,
              onread: {
                buffer: READ_BUFFER,
                callback: (n) => {
                  take(reader.feed(READ_BUFFER.subarray(0, n)));
                  return true;
                },
              },
            });
    } catch (err) {
      return resolve({ ok: false, message: err instanceof Error ? err.message : String(err) });
    }
    let settled = false;
    const finish = (a: Answer) => {
      if (settled) return;
      settled = true;
      deadline.signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(a);
    };
    const onAbort = () => finish(deadline.reason());
    const take = (s: ReadState) => {
      if (s.kind === 'done') finish(s.head);
      else if (s.kind === 'error') finish({ ok: false, message: s.message });
    };
    deadline.signal.addEventListener('abort', onAbort, { once: true });
    if (url.protocol === 'https:') socket.on('data', (chunk: Buffer) => take(reader.feed(chunk)));
    socket.once('end', () => take(reader.end()));
    socket.once('close', () => take(reader.end()));
    // After a whole head, a broken connection is the end of a body the status already decided.
    socket.once('error', (err) => {
      const s = reader.end();
      finish(s.kind === 'done' ? s.head : { ok: false, message: describeSocketError(err) });
    });
    socket.write(request.text, 'latin1');
  });
}
