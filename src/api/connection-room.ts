// The connection bound, kept so that sockets asking nothing cannot hold it. A socket with no answer
// under way (connected and silent, a head or a body still arriving, a kept-alive connection gone
// quiet) costs the daemon nothing to close, and its client nothing it was promised: a body of at
// most 64 KiB on a local socket arrives at once unless its client holds it back. One with an answer
// under way (a route running, a follower, an answer being read) is never closed here. So at the bound the oldest silent socket
// makes room for the new connection, and only when every connection has a request under way is the
// new one refused (closed at once: the CLI says ERR_API_BUSY, client.ts).
//
// Invariant: at most `max` sockets are open; node:net's own bound is one above it, so the
// connection over the bound reaches this listener, which keeps it or closes it before it is read.
import type { Server, Socket } from 'node:net';
import { pendingAnswers } from './pipelining.js';

const receiving = new WeakMap<Socket, number>();

/** A request body is arriving on `socket` until the returned function is called. */
export function bodyArriving(socket: Socket): () => void {
  receiving.set(socket, (receiving.get(socket) ?? 0) + 1);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    receiving.set(socket, (receiving.get(socket) ?? 1) - 1);
  };
}

/** No answer under way: every request admitted on it (if any) is still receiving its body. */
const isSilent = (s: Socket) => pendingAnswers(s) <= (receiving.get(s) ?? 0);

export function keepConnectionRoom(server: Server, max: number): void {
  server.maxConnections = max + 1;
  const open = new Set<Socket>(); // in the order they came: the oldest first
  // Before node:http's own listener, so a connection closed here is never parsed.
  server.prependListener('connection', (socket: Socket) => {
    if (open.size >= max) {
      let silent: Socket | undefined;
      for (const s of open)
        if (isSilent(s)) {
          silent = s;
          break;
        }
      if (!silent) {
        socket.destroy();
        return;
      }
      open.delete(silent);
      silent.destroy();
    }
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
}
