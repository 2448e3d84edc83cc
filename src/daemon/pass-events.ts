// What the daemon records in the event ring as it goes: each action as it finishes, each container
// that died between two passes, each new manifest problem. The first pass compares with nothing:
// a daemon (re)started reports no exits it did not see happen.
import type { EventSink } from '../events/event.js';
import { eventOfAction, eventsOfDiagnostics, eventsOfExits } from '../events/from-reconcile.js';
import { formatDiagnostic } from '../lib/yaml-validate.js';
import type { PassResult } from '../reconcile/loop.js';
import type { Action, ObservedContainer } from '../reconcile/plan-types.js';

export interface PassEvents {
  onDone(action: Action, error?: unknown): void;
  onPass(result: PassResult): void;
}

export function recordPassEvents(sink: EventSink): PassEvents {
  let containers: ObservedContainer[] | undefined;
  let diagnostics = new Set<string>();
  return {
    onDone(action, error) {
      const e = eventOfAction(action, error);
      if (e) sink.emit(e);
    },
    onPass(result) {
      const seen = result.containers ?? [];
      if (containers) for (const e of eventsOfExits(containers, seen)) sink.emit(e);
      containers = seen;
      for (const e of eventsOfDiagnostics(diagnostics, result.diagnostics)) sink.emit(e);
      diagnostics = new Set(result.diagnostics.map(formatDiagnostic));
    },
  };
}
