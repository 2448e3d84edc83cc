// grpc: grpc.health.v1.Health/Check over plaintext HTTP/2 (node:http2), as the kubelet's gRPC
// prober: SERVING is success; another status, a grpc-status other than 0 or no answer is failure.
// The response read is bounded (64 KiB), the whole call by the deadline.
import { connect, constants } from 'node:http2';
import type { ActionResult } from '../action.js';
import type { Deadline } from './deadline.js';
import { describeSocketError, urlHost } from './endpoint.js';
import { decodeCheckResponse, encodeCheckRequest, SERVING_STATUS } from './grpc-health.js';

const MAX_RESPONSE_BYTES = 64 * 1024;

export interface GrpcProbe {
  host: string;
  port: number;
  service: string;
  userAgent: string;
}

export function probeGrpc(p: GrpcProbe, deadline: Deadline): Promise<ActionResult> {
  return new Promise((resolve) => {
    if (deadline.signal.aborted) return resolve(deadline.reason());
    let settled = false;
    const session = connect(`http://${urlHost(p.host)}:${p.port}`, {
      maxHeaderListPairs: 64,
      settings: { maxHeaderListSize: 16 * 1024 },
    });
    const finish = (r: ActionResult) => {
      if (settled) return;
      settled = true;
      deadline.signal.removeEventListener('abort', onAbort);
      session.destroy();
      resolve(r);
    };
    const onAbort = () => finish(deadline.reason());
    deadline.signal.addEventListener('abort', onAbort, { once: true });
    session.once('error', (err) => finish({ ok: false, message: describeSocketError(err) }));
    const stream = session.request({
      [constants.HTTP2_HEADER_METHOD]: 'POST',
      [constants.HTTP2_HEADER_PATH]: '/grpc.health.v1.Health/Check',
      [constants.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
      [constants.HTTP2_HEADER_USER_AGENT]: p.userAgent,
      te: 'trailers',
    });
    stream.once('error', (err) => finish({ ok: false, message: describeSocketError(err) }));
    const chunks: Buffer[] = [];
    let size = 0;
    let grpcStatus: string | undefined;
    let grpcMessage: string | undefined;
    const takeStatus = (h: Record<string, unknown>) => {
      if (h['grpc-status'] !== undefined) grpcStatus = String(h['grpc-status']);
      if (h['grpc-message'] !== undefined) grpcMessage = decodePercent(String(h['grpc-message']));
    };
    stream.once('response', (headers) => {
      const status = Number(headers[constants.HTTP2_HEADER_STATUS]);
      if (status !== 200) finish({ ok: false, message: `HTTP ${status}` });
      takeStatus(headers);
    });
    stream.once('trailers', (trailers) => takeStatus(trailers));
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_RESPONSE_BYTES) return finish({ ok: false, message: 'response too large' });
      chunks.push(chunk);
    });
    stream.once('end', () => {
      if (grpcStatus !== undefined && grpcStatus !== '0')
        return finish({
          ok: false,
          message: `rpc error: code ${grpcStatus}${grpcMessage ? `: ${grpcMessage}` : ''}`,
        });
      const status = decodeCheckResponse(Buffer.concat(chunks));
      if (status === undefined) return finish({ ok: false, message: 'malformed health response' });
      const name = SERVING_STATUS[status] ?? String(status);
      finish(
        status === 1
          ? { ok: true, message: 'SERVING' }
          : { ok: false, message: `service unhealthy (responded with "${name}")` },
      );
    });
    stream.end(encodeCheckRequest(p.service));
  });
}

function decodePercent(s: string): string {
  try {
    return decodeURIComponent(s).slice(0, 200);
  } catch {
    return s.slice(0, 200);
  }
}
