// A tiny gRPC health server for tests (node:http2, plaintext): answers grpc.health.v1.Health/Check
// with the status set for each service ('' is the server as a whole); unknown services get
// grpc-status 5 (NOT_FOUND), as grpc-go's health server does.
import { createServer, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { decodeCheckRequest, encodeCheckResponse } from '../../src/health/actions/grpc-health.js';

export interface GrpcHealthServer {
  port: number;
  statuses: Map<string, number>;
  close(): Promise<void>;
}

export async function startGrpcHealthServer(host = '127.0.0.1'): Promise<GrpcHealthServer> {
  const statuses = new Map<string, number>([['', 1]]);
  const server: Http2Server = createServer();
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      if (headers[':path'] !== '/grpc.health.v1.Health/Check') {
        stream.respond(
          { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12' },
          { endStream: true },
        );
        return;
      }
      const service = decodeCheckRequest(Buffer.concat(chunks)) ?? '';
      const status = statuses.get(service);
      if (status === undefined) {
        stream.respond(
          {
            ':status': 200,
            'content-type': 'application/grpc',
            'grpc-status': '5',
            'grpc-message': 'unknown service',
          },
          { endStream: true },
        );
        return;
      }
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(encodeCheckResponse(status));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    statuses,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
