// src/events/: what berth did and saw, as events (this file: the vocabulary and the one interface
// every emitter depends on), the bounded on-disk ring that keeps them across daemon restarts
// (ring.ts), how they are selected (filter.ts), the events of a reconcile pass (from-reconcile.ts),
// and the daemon's metrics (metrics.ts, counters.ts, host-metrics.ts, state-metrics.ts, store-bytes.ts).
// Emitters import only this file: `emit` never throws and never waits, so an action's outcome
// never depends on whether its event was recorded.

/** What an event is about. */
export type EventType = 'pod' | 'container' | 'image' | 'manifest' | 'daemon';

export interface BerthEventInput {
  type: EventType;
  /**
   * The object, named as berth names it elsewhere: `default/web` (pod), `default/web/app`
   * (container), a reference or digest (image), a manifest file path, `berth` (daemon).
   */
  object: string;
  /** CamelCase, as Kubernetes' event reasons: Pulled, Started, Died, Restarted, GarbageCollected, Imported… */
  reason: string;
  /** One line for people. */
  message?: string;
  /** Flat details for filters and scripts (`pod: 'default/web'`, `exitCode: 137`, `bytes: 1234`). */
  attributes?: Record<string, string | number | boolean>;
}

/** An event as recorded: the time it was emitted (RFC 3339, UTC, ms) added. */
export interface BerthEvent extends BerthEventInput {
  time: string;
}

export interface EventSink {
  /** Record an event. Never throws, never blocks: a sink that cannot record drops it. */
  emit(event: BerthEventInput): void;
}

/** For callers with nowhere to record (a test, a command run without a store). */
export const NO_EVENTS: EventSink = { emit() {} };
