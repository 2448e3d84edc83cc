// Requests pipelined on one connection: each is parsed and handed to the server as soon as its bytes
// arrive, whether or not the answers before it were read, and each answer waits in memory for the
// client. So a connection may have at most `max` answers pending: a request beyond that closes it
// (and every request it had pipelined behind is dropped unanswered). Clients that wait for an
// answer before asking again (berth's own, Prometheus) never come near it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

const pending = new WeakMap<Socket, number>();

/** The answers admitted on `socket` and not yet finished (0: nothing is being said on it). */
export function pendingAnswers(socket: Socket): number {
  return pending.get(socket) ?? 0;
}

/** True when the request may be answered; false when its connection is (or is now) closed. */
export function admitRequest(req: IncomingMessage, res: ServerResponse, max: number): boolean {
  const socket = req.socket;
  const n = pending.get(socket) ?? 0;
  if (socket.destroyed || n >= max) {
    socket.destroy();
    return false;
  }
  pending.set(socket, n + 1);
  let settled = false;
  const settle = () => {
    if (settled) return;
    settled = true;
    pending.set(socket, (pending.get(socket) ?? 1) - 1);
  };
  res.once('finish', settle);
  res.once('close', settle);
  return true;
}
