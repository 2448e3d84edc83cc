// The one request an httpGet probe sends, as bytes for the socket: `GET <path> HTTP/1.1`, the Host
// header, User-Agent and `Accept: */*` unless given, the given headers (one given twice is sent
// twice), `Connection: close` (the kubelet keeps no connection alive). Pure. A header name that is
// no token or a value with a control byte (CR, LF, NUL…) is refused, never written: a manifest
// cannot add header lines or a second request.
import type { HttpHeader } from '../action.js';

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// What Node's http refuses in a header value: all but tab, printable ASCII and Latin-1.
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

export interface RequestParts {
  /** The path and query, as the URL gives them (already percent-encoded). */
  target: string;
  /** The Host header's value. */
  host: string;
  headers: HttpHeader[];
  userAgent: string;
}

/** The request's text (to be written as latin1), or why it cannot be sent. */
export function formatRequest(r: RequestParts): { text: string } | { message: string } {
  let userAgent = r.userAgent;
  let accept = '*/*';
  let others = '';
  for (const h of r.headers) {
    if (!TOKEN.test(h.name))
      return { message: `invalid HTTP header name "${JSON.stringify(h.name).slice(1, -1)}"` };
    if (BAD_VALUE.test(h.value))
      return { message: `invalid character in the value of HTTP header "${h.name}"` };
    const k = h.name.toLowerCase();
    // Given headers replace the defaults (the last one given), Host is the caller's, others add up.
    if (k === 'host' || k === 'connection') continue;
    if (k === 'user-agent') userAgent = h.value;
    else if (k === 'accept') accept = h.value;
    else others += `${h.name}: ${h.value}\r\n`;
  }
  if (BAD_VALUE.test(r.host)) return { message: 'invalid character in the Host header' };
  return {
    text:
      `GET ${r.target} HTTP/1.1\r\nHost: ${r.host}\r\nUser-Agent: ${userAgent}\r\nAccept: ${accept}\r\n` +
      `${others}Connection: close\r\n\r\n`,
  };
}
