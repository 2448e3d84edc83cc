// The connection bound, kept so that sockets asking nothing cannot hold it. A socket with no answer
// under way (connected and silent, a head still arriving, a kept-alive connection gone quiet) costs
// the daemon nothing to close, and its client nothing it was promised; one with a request under way
// (a follower, an answer being read) is never closed here. So at the bound the oldest silent socket
// makes room for the new connection, and only when every connection has a request under way is the
// new one refused (closed at once: the CLI says ERR_API_BUSY, client.ts).
//
// Invariant: at most `max` sockets are open; node:net's own bound is one above it, so the
// connection over the bound reaches this listener, which keeps it or closes it before it is read.
import type { Server, Socket } from 'node:net';
import { pendingAnswers } from './pipelining.js';

export function keepConnectionRoom(server: Server, max: number): void {
  server.maxConnections = max + 1;
  const open = new Set<Socket>(); // in the order they came: the oldest first
  // Before node:http's own listener, so a connection closed here is never parsed.
  server.prependListener('connection', (socket: Socket) => {
    if (open.size >= max) {
      let silent: Socket | undefined;
      for (const s of open)
        if (pendingAnswers(s) === 0) {
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
