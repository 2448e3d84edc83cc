// Reaching the daemon from the CLI: one request over the unix socket. No daemon (no socket, or a
// stale one that refuses connections) is `undefined`, so the caller works on the store directly;
// an error the daemon reports comes back as the same coded error; silence past the timeout is one.
import { join } from 'node:path';
import { BerthError, type ErrorKind, errnoCode } from '../lib/errors.js';

export const socketPath = (state: string) => join(state, 'berth.sock');

/** Another daemon serves this --state (`pid` when it answered). */
export function daemonRunning(socketPath: string, pid?: number): BerthError {
  return new BerthError(
    'ERR_DAEMON_RUNNING',
    'conflict',
    `a berth daemon${pid ? ` (pid ${pid})` : ''} already serves ${socketPath}`,
    { hint: 'one daemon per --state directory' },
  );
}

const NO_DAEMON = new Set(['ENOENT', 'ECONNREFUSED', 'ENOTSOCK']);

export async function callDaemon<T>(
  socketPath: string,
  method: 'GET' | 'POST',
  path: string,
  timeoutMs = 10_000,
): Promise<T | undefined> {
  // Loaded on use: an ESM import of node:http also loads Node's undici (~20 ms on every command).
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          if (res.statusCode === 200) return resolve(body as T);
          const e = body.error ?? {};
          reject(
            new BerthError(
              String(e.code ?? 'ERR_API'),
              (e.kind ?? 'internal') as ErrorKind,
              String(e.message ?? `HTTP ${res.statusCode}`),
              e.hint ? { hint: String(e.hint) } : {},
            ),
          );
        } catch (err) {
          reject(
            new BerthError('ERR_API', 'internal', `the daemon answered ${path} with no JSON`, { cause: err }),
          );
        }
      });
    });
    req.on('timeout', () =>
      req.destroy(
        new BerthError(
          'ERR_DAEMON_TIMEOUT',
          'unavailable',
          `the daemon at ${socketPath} did not answer ${path} in ${timeoutMs / 1000} s`,
        ),
      ),
    );
    req.on('error', (err) => {
      if (err instanceof BerthError) return reject(err);
      if (NO_DAEMON.has(errnoCode(err) ?? '')) resolve(undefined);
      else
        reject(
          new BerthError('ERR_API', 'unavailable', `daemon socket ${socketPath}: ${err.message}`, {
            cause: err,
          }),
        );
    });
    req.end();
  });
}
