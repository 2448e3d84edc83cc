// Waiting in e2e tests for what a daemon does in its own time: `until` polls a probe until it holds
// and fails naming what never happened; `containerStates` is the host's containers as one
// comparable map (a restart or recreate changes an entry, an untouched container keeps it).
import type { CliResult } from './cli.js';

/** Polls `probe` every `everyMs` (100), `polls` (200) times at most; throws `never: <what>`. */
export async function until(
  what: string,
  probe: () => Promise<boolean> | boolean,
  polls = 200,
  everyMs = 100,
): Promise<void> {
  for (let i = 0; i < polls; i++) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`never: ${what}`);
}

/** `container ls -o json` as `{ name: "id:state" }`. */
export async function containerStates(
  berth: (...args: string[]) => Promise<CliResult>,
): Promise<Record<string, string>> {
  const listed = JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout) as Array<{
    name: string;
    id: string;
    state: string;
  }>;
  return Object.fromEntries(listed.map((c) => [c.name, `${c.id}:${c.state}`]));
}
