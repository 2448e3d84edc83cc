// Response bodies: read one whole with a hard bound, drain one we will not read, or drop one
// mid-way. Every body the client opens ends in exactly one of these (or in blob.ts's stream).
import type { Dispatcher } from 'undici';
import { transportError } from './errors.js';

type Body = Dispatcher.ResponseData['body'];

/** Drop a response body mid-way (the connection closes); its abort error is expected, not news. */
export function abandon(res: { body: Body }): void {
  res.body.on('error', () => undefined);
  res.body.destroy();
}

/** Discard a response body we will not read, so the connection can be reused. */
export async function discard(res: { body: Body }): Promise<void> {
  await res.body.dump().catch(() => undefined);
}

/**
 * Read a whole body, but never more than `limit` bytes: at the first byte past it the connection
 * is dropped and `tooLarge()` is thrown. Socket errors and stalls become coded errors about `what`.
 */
export async function readBounded(
  res: { body: Body },
  limit: number,
  what: string,
  tooLarge: () => Error,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      n += chunk.length;
      if (n > limit) {
        abandon(res);
        throw tooLarge();
      }
      chunks.push(chunk);
    }
  } catch (err) {
    throw transportError(err, what);
  }
  return Buffer.concat(chunks);
}
