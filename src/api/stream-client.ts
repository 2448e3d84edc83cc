// Following a streamed answer of the daemon (NDJSON: `GET /v1/events`): each line as it comes,
// until the daemon ends the stream or `signal` aborts. False when no daemon serves the socket
// (the caller reads the store directly); an error answer comes back as its coded error.
import { BerthError, type ErrorKind, errnoCode } from '../lib/errors.js';

const NO_DAEMON = new Set(['ENOENT', 'ECONNREFUSED', 'ENOTSOCK']);
const MAX_LINE = 1 << 20;

export async function followDaemon(
  socketPath: string,
  path: string,
  onLine: (line: string) => void,
  signal: AbortSignal,
): Promise<boolean> {
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method: 'GET', path, signal }, (res) => {
      let pending = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        pending += chunk;
        if (res.statusCode !== 200) return;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        if (pending.length > MAX_LINE)
          req.destroy(new BerthError('ERR_API', 'internal', `a line over ${MAX_LINE} bytes from ${path}`));
        for (const line of lines) if (line) onLine(line);
      });
      res.on('error', () => resolve(true)); // cut: the daemon stopped or we were interrupted
      res.on('end', () => {
        if (res.statusCode === 200) return resolve(true);
        let e: { code?: string; kind?: string; message?: string; hint?: string } = {};
        try {
          e = JSON.parse(pending).error ?? {};
        } catch {}
        reject(
          new BerthError(
            String(e.code ?? 'ERR_API'),
            (e.kind ?? 'internal') as ErrorKind,
            String(e.message ?? `HTTP ${res.statusCode}`),
            e.hint ? { hint: e.hint } : {},
          ),
        );
      });
    });
    req.on('error', (err) => {
      if (signal.aborted) return resolve(true);
      if (err instanceof BerthError) return reject(err);
      if (NO_DAEMON.has(errnoCode(err) ?? '')) return resolve(false);
      reject(
        new BerthError('ERR_API', 'unavailable', `daemon socket ${socketPath}: ${err.message}`, {
          cause: err,
        }),
      );
    });
    req.end();
  });
}
