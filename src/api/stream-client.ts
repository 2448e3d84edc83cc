// Following a streamed answer of the daemon (NDJSON: `GET /v1/events`): each line as it comes,
// until the daemon ends the stream or `signal` aborts. False when no daemon serves the socket
// (the caller reads the store directly); an error answer comes back as its coded error, and so does
// a stream the daemon ends with a reason (a last line that is an error body: responses.ts).
import { BerthError, errnoCode } from '../lib/errors.js';
import { apiBusy, errorOfBody, isRefusedForRoom, NO_DAEMON } from './client.js';
import { connectSocket } from './socket-address.js';

const MAX_LINE = 1 << 20;

interface ErrorBody {
  code?: unknown;
  kind?: unknown;
  message?: unknown;
  hint?: unknown;
}

function berthErrorOf(e: ErrorBody, status: number | undefined): BerthError {
  return errorOfBody(e as Record<string, unknown>, `HTTP ${status}`);
}

/** The reason a stream's last line gives for its end; undefined for any other line (an event). */
function endOf(line: string): ErrorBody | undefined {
  if (!line.startsWith('{"error":')) return undefined;
  try {
    const v = JSON.parse(line) as { error?: ErrorBody };
    return Object.keys(v).length === 1 && typeof v.error === 'object' && v.error ? v.error : undefined;
  } catch {
    return undefined;
  }
}

export async function followDaemon(
  socketPath: string,
  path: string,
  onLine: (line: string) => void,
  signal: AbortSignal,
): Promise<boolean> {
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    let answered = false; // a reset after the answer began is a cut stream, not a refusal
    // Its own connection (no agent): one that reaches a socket of any length (socket-address.ts).
    const createConnection = () => connectSocket(socketPath);
    const req = request({ createConnection, method: 'GET', path, signal }, (res) => {
      answered = true;
      let pending = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        pending += chunk;
        if (res.statusCode !== 200) return;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        if (pending.length > MAX_LINE)
          req.destroy(new BerthError('ERR_API', 'internal', `a line over ${MAX_LINE} bytes from ${path}`));
        for (const line of lines) {
          const end = line ? endOf(line) : undefined;
          if (end) {
            reject(berthErrorOf(end, res.statusCode)); // settled first: the destroy's errors change nothing
            return req.destroy();
          }
          if (line) onLine(line);
        }
      });
      res.on('error', () => resolve(true)); // cut: the daemon stopped or we were interrupted
      res.on('end', () => {
        if (res.statusCode === 200) return resolve(true);
        let e: ErrorBody = {};
        try {
          e = JSON.parse(pending).error ?? {};
        } catch {}
        reject(berthErrorOf(e, res.statusCode));
      });
    });
    req.on('error', (err) => {
      if (signal.aborted) return resolve(true);
      if (err instanceof BerthError) return reject(err);
      if (NO_DAEMON.has(errnoCode(err) ?? '')) return resolve(false);
      if (!answered && isRefusedForRoom(err)) return reject(apiBusy(socketPath));
      reject(
        new BerthError('ERR_API', 'unavailable', `daemon socket ${socketPath}: ${err.message}`, {
          cause: err,
        }),
      );
    });
    req.end();
  });
}
