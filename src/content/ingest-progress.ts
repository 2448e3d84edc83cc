// A download others can follow while it runs: how many bytes of the ingest file are written, and
// how it ended. An unpacker reads the growing file as the bytes land and learns whether the blob
// was verified and committed (only then may its snapshot be published). It lives in a
// SharedArrayBuffer so the follower may be in any thread, with no message round trip.
//
// Layout (BigInt64 slots): 0 written bytes, 1 state, 2 sequence (bumped on every change; waiters
// wait on it). A download that starts over (a server ignored Range) publishes 0 written bytes and
// rewrites the same bytes: a follower ahead of it waits until they are back, and if they turn out
// different the digest check fails and the follower is told Failed.

export const IngestState = {
  /** Bytes are still arriving. */
  Writing: 0n,
  /** Size and digest verified, blob renamed into blobs/. */
  Committed: 1n,
  /** Aborted or failed verification: the bytes must not be used. */
  Failed: 2n,
} as const;

const WRITTEN = 0;
const STATE = 1;
const SEQ = 2;

export function createProgressBuffer(written: number): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(3 * 8);
  new BigInt64Array(sab)[WRITTEN] = BigInt(written);
  return sab;
}

/** The writer's side. */
export class ProgressPublisher {
  private readonly view: BigInt64Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.view = new BigInt64Array(buffer);
  }

  written(bytes: number): void {
    Atomics.store(this.view, WRITTEN, BigInt(bytes));
    this.bump();
  }

  /** Final states are sticky: a later `end` does not undo Committed or Failed. */
  end(state: bigint): void {
    if (Atomics.compareExchange(this.view, STATE, IngestState.Writing, state) === IngestState.Writing) {
      this.bump();
    }
  }

  private bump(): void {
    Atomics.add(this.view, SEQ, 1n);
    Atomics.notify(this.view, SEQ);
  }
}

export interface ProgressSnapshot {
  written: number;
  state: bigint;
  seq: bigint;
}

/** The follower's side. */
export class ProgressReader {
  private readonly view: BigInt64Array;

  constructor(buffer: SharedArrayBuffer) {
    this.view = new BigInt64Array(buffer);
  }

  read(): ProgressSnapshot {
    // Sequence first: a change after this read bumps it, so waiting on it cannot miss the change.
    const seq = Atomics.load(this.view, SEQ);
    return {
      seq,
      state: Atomics.load(this.view, STATE),
      written: Number(Atomics.load(this.view, WRITTEN)),
    };
  }

  /** Resolves once anything changes after `seen` (or after `timeoutMs`, to look again). */
  async changed(seen: bigint, timeoutMs = 1000): Promise<void> {
    const w = Atomics.waitAsync(this.view, SEQ, seen, timeoutMs);
    if (!w.async) return;
    // A pending waitAsync does not keep Node's event loop alive (a worker would just exit): a timer does.
    const keepAlive = setTimeout(() => undefined, timeoutMs + 100);
    try {
      await w.value;
    } finally {
      clearTimeout(keepAlive);
    }
  }
}
