// One request to the daemon whose answer is NDJSON, read line by line as it comes (the thin
// `container run`: its container's output), over a plain socket as exchange.ts does, not node:http.
// An answer other than 200 is kept whole and given at the end; a 200's body is cut into lines,
// de-chunked as it arrives. The caller may pause and resume the socket (its own output is slow).
import type { Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { parseHead, parseResponse, type RawResponse, requestBytes } from './exchange.js';
import { connectSocket } from './socket-address.js';

/** Cuts a chunked body into its data as bytes arrive; `push` gives the data so far, ended at the last chunk. */
export function chunkReader(): { push(bytes: Buffer): { data: Buffer; ended: boolean; bad: boolean } } {
  let pending: Buffer = Buffer.alloc(0);
  let ended = false;
  return {
    push(bytes) {
      pending = pending.length ? Buffer.concat([pending, bytes]) : bytes;
      const parts: Buffer[] = [];
      let bad = false;
      while (!ended) {
        const eol = pending.indexOf('\r\n');
        if (eol === -1) break;
        const size = Number.parseInt(pending.subarray(0, eol).toString('latin1').split(';')[0] ?? '', 16);
        if (!Number.isInteger(size) || size < 0) {
          bad = true;
          break;
        }
        if (size === 0) {
          ended = true;
          break;
        }
        if (pending.length < eol + 2 + size + 2) break;
        parts.push(pending.subarray(eol + 2, eol + 2 + size));
        pending = pending.subarray(eol + 2 + size + 2);
      }
      return { data: Buffer.concat(parts), ended, bad };
    },
  };
}

export interface LineExchange {
  socket: Socket;
  /**
   * Resolves at the end of the connection: the status (and for any status but 200, the whole
   * answer's body), or undefined when nothing that is HTTP came back (the daemon went).
   */
  done: Promise<RawResponse | undefined>;
}

/**
 * Rejects `done` with the socket's error as it is (ENOENT, ECONNREFUSED…), as exchange.ts does,
 * when it comes before the answer's head; after it, the answer ends there. With `headTimeoutMs`,
 * an answer whose head has not come by then is given up: the connection closed, `done` undefined.
 */
export function lineExchange(o: {
  socketPath: string;
  path: string;
  text: string;
  headTimeoutMs?: number;
  onLine(line: string): void;
}): LineExchange {
  let head: ReturnType<typeof parseHead>;
  let early: Buffer = Buffer.alloc(0); // bytes before the head was whole, and a non-200's whole answer
  const chunks = chunkReader();
  let chunked = false;
  const decoder = new StringDecoder('utf8');
  let partial = '';
  const body = (bytes: Buffer) => {
    const text = partial + decoder.write(chunked ? chunks.push(bytes).data : bytes);
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (line) o.onLine(line);
  };
  const socket = connectSocket(o.socketPath, () => socket.write(requestBytes('POST', o.path, o.text)));
  const done = new Promise<RawResponse | undefined>((resolve, reject) => {
    const waited =
      o.headTimeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            socket.destroy();
            resolve(undefined);
          }, o.headTimeoutMs);
    socket.on('data', (c: Buffer) => {
      if (head?.status === 200) return body(c);
      early = Buffer.concat([early, c]);
      if (head) return;
      head = parseHead(early);
      if (head) clearTimeout(waited);
      if (head?.status !== 200) return;
      chunked = head.headers.get('transfer-encoding')?.toLowerCase() === 'chunked';
      const rest = early.subarray(head.bodyAt);
      early = Buffer.alloc(0);
      body(rest);
    });
    // Once the head came, a reset is the end of the answer (the daemon went mid-stream), not a
    // failure to reach it: the caller must not take it for "no daemon" and start over.
    socket.on('error', (err) => (head ? ended() : reject(err)));
    socket.on('end', () => ended());
    socket.on('close', () => clearTimeout(waited));
    const ended = () => {
      if (!head) return resolve(undefined);
      if (head.status !== 200) return resolve(parseResponse(early));
      const last = partial + decoder.end();
      if (last) o.onLine(last);
      resolve({ status: 200, body: Buffer.alloc(0) });
    };
  });
  return { socket, done };
}
