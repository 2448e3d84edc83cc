// Dependency cycles between pods (`berth.dev/depends-on`): pods on a cycle would each wait for the
// other forever, so a cycle is a manifest error. Pure.

/**
 * Cycles as the path that closes them (`a → b → a` is `['a', 'b', 'a']`), each from its least name;
 * at least one per knot of pods that wait for each other (a depth-first search: linear, not every
 * elementary cycle).
 */
export function findCycles(deps: Map<string, string[]>): string[][] {
  const cycles = new Map<string, string[]>();
  const done = new Set<string>();
  const visit = (node: string, path: string[]) => {
    if (done.has(node)) return;
    const at = path.indexOf(node);
    if (at >= 0) {
      const loop = path.slice(at);
      if (loop.length < 2) return; // depending on itself has its own message
      const least = loop.indexOf([...loop].sort()[0] as string);
      const ordered = [...loop.slice(least), ...loop.slice(0, least)];
      cycles.set(ordered.join('\0'), [...ordered, ordered[0] as string]);
      return;
    }
    for (const next of deps.get(node) ?? []) visit(next, [...path, node]);
    done.add(node);
  };
  for (const node of [...deps.keys()].sort()) visit(node, []);
  return [...cycles.values()].sort((a, b) => a.join().localeCompare(b.join()));
}
