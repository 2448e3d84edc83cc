// The part of undici the client uses: its connection pool (Agent) and its request API. Importing
// 'undici' itself loads all of it (fetch, WebSocket, mock agents, caches, proxies: 1.4 MB bundled),
// ~25 ms of CPU on every pull; these two modules are what its `request()` runs. `requestVia` is
// undici's `request(url, { dispatcher, ... })` without the global-dispatcher fallback.
import type { Agent as AgentClass, Dispatcher } from 'undici';
import apiRequest from 'undici/lib/api/api-request.js';
import AgentImpl from 'undici/lib/dispatcher/agent.js';

export const Agent: typeof AgentClass = AgentImpl;
export type Agent = AgentClass;

export type RequestOptions = Omit<Dispatcher.RequestOptions, 'origin' | 'path'>;

/** One request through `dispatcher` (an Agent, or a MockAgent in tests). */
export function requestVia(
  dispatcher: Dispatcher,
  url: URL,
  options: RequestOptions,
): Promise<Dispatcher.ResponseData> {
  return apiRequest.call(dispatcher, {
    ...options,
    origin: url.origin,
    path: url.search ? `${url.pathname}${url.search}` : url.pathname,
  });
}
