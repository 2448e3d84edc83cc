// tcpSocket: a connection that opens is success; it is closed at once (as the kubelet's).
import { connect } from 'node:net';
import type { ActionResult } from '../action.js';
import type { Deadline } from './deadline.js';
import { describeSocketError } from './endpoint.js';

export function probeTcp(host: string, port: number, deadline: Deadline): Promise<ActionResult> {
  return new Promise((resolve) => {
    if (deadline.signal.aborted) return resolve(deadline.reason());
    const socket = connect({ host, port });
    const finish = (r: ActionResult) => {
      deadline.signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(r);
    };
    const onAbort = () => finish(deadline.reason());
    deadline.signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish({ ok: true, message: 'connected' }));
    socket.once('error', (err) => finish({ ok: false, message: describeSocketError(err) }));
  });
}
