// Streamed answers (`GET /v1/events`: followers) have their own budget, below the API's connection
// bound: a follower reads all it is sent, so no stream bound ever cuts it off, and as many of them
// as the API has connections would leave no connection for `berth ps`, `apply` or `container run`.
// Past the budget a stream is refused (503 ERR_API_BUSY) and ordinary requests always get in.
import type { ServerResponse } from 'node:http';
import { BerthError } from '../lib/errors.js';

export interface StreamBudget {
  /** Takes a place for the stream answered on `res` (freed when it closes); the refusal when none is left. */
  admit(res: ServerResponse): BerthError | undefined;
}

export function streamBudget(max: number): StreamBudget {
  let open = 0;
  return {
    admit(res) {
      if (open >= max)
        return new BerthError(
          'ERR_API_BUSY',
          'unavailable',
          `the daemon already serves ${max} event followers, the most it takes at once`,
          { hint: 'end a follower, or read the events without following: berth events --until 0s' },
        );
      open++;
      res.once('close', () => open--);
      return undefined;
    },
  };
}
