// The daemon's spare places on the bridge network (spares.ts): a `--network bridge` container it
// creates takes a spare's namespace, veth and address instead of waiting for the bridge plugin and
// host-local (runtime/container-network.ts), and the pool makes the next one a little after, off
// that container's start path. Filled only once such a container was asked for (a daemon of pods
// alone keeps none), `size` at most (host config `network.spares`, default 1). The spares are the
// daemon's own: `close` (its stop) takes them away, and one a killed daemon left is swept by the
// next daemon's first fill, its rule checks (adapter.repairRules) or `berth network rm`.
import { hasCode } from '../lib/errors.js';
import { type Later, later } from '../lib/later.js';
import type { AttachRequest, NetworkAdapter } from './adapter.js';
import type { Attachment } from './attachments.js';

/** How long after a take the next spare is made: after the taking container's start, not beside it. */
export const SPARE_FILL_DELAY_MS = 400;

export interface SparePool {
  /**
   * `req` attached with a spare (its namespace bound at `req.netns`, which must not exist yet);
   * undefined when none was ready (one is made for the next), and the caller attaches as before.
   * `inPlace` is called once the namespace is at `req.netns` (its port rules still to come).
   */
  take(req: AttachRequest, inPlace?: () => void): Promise<Attachment | undefined>;
  /** No more spares made; this pool's taken away. */
  close(): Promise<void>;
}

export interface SparePoolOptions {
  network(): Promise<NetworkAdapter>;
  size: number;
  delayMs?: number;
  /** A spare that could not be made (the pool tries again at the next take). */
  onError?(err: unknown): void;
}

export function sparePoolOf(o: SparePoolOptions): SparePool {
  const ready: string[] = [];
  let closed = false;
  let swept = false;
  const fill: Later = later(
    async () => {
      const spares = (await o.network()).spares;
      if (!spares) return;
      if (!swept) {
        swept = true; // a killed daemon's, once (a failure is said; the rule checks sweep again)
        await spares.drop().catch((err) => o.onError?.(err));
      }
      while (!closed && ready.length < o.size) ready.push(await spares.make());
    },
    { delayMs: o.delayMs ?? SPARE_FILL_DELAY_MS, ...(o.onError ? { onError: o.onError } : {}) },
  );
  return {
    async take(req, inPlace) {
      if (closed || o.size === 0) return undefined;
      const key = ready.shift();
      fill.ask();
      if (!key) return undefined;
      const spares = (await o.network()).spares;
      try {
        return await spares?.claim(key, req, inPlace);
      } catch (err) {
        // Its ports refused before anything was touched: the spare is still one.
        if (hasCode(err, 'ERR_PORT_CONFLICT')) ready.unshift(key);
        throw err;
      }
    },
    async close() {
      closed = true;
      await fill.settled();
      if (ready.length === 0) return;
      const keys = ready.splice(0);
      await (await o.network()).spares?.drop(keys);
    },
  };
}
