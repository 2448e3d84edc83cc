// What only the documents in use together can tell, after each file was read and parsed: whether
// the pods' dependencies hold (dependencies.ts) and, in reconcile's loads, whether every pod can be
// built (`buildable`: desired state's unusable pods, an expansion past its bound for one). A file at
// fault falls back on its last good content like any broken file, so its last good record is not
// replaced by content that never ran, and the checks run again on the new set. A file whose last
// good content is at fault too is kept as it runs. Each file moves at most twice (its text → its
// last good content → kept as it runs), so this ends.
import type { Diagnostic } from '../lib/yaml-validate.js';
import { DEPENDS_ON, dependencyProblems } from './dependencies.js';
import type { LoadedDoc } from './kinds.js';
import { at, type ParsedDoc } from './position.js';

/** Where a file's documents come from in this load. */
export interface Source {
  name: string;
  docs: ParsedDoc[];
  from: 'file' | 'last-good';
}

interface Checks {
  brokenFiles: string[];
  diagnostics: Diagnostic[];
  fallBack: (name: string, file: string) => void;
  buildable?: ((docs: LoadedDoc[]) => Diagnostic[]) | undefined;
}

/** A problem of `file`, each at its place in its text; of its last good content, at the file's start. */
interface Problem {
  file: string;
  diagnostic: Diagnostic;
}

export function checkDocuments(sources: Map<string, Source>, c: Checks): void {
  for (;;) {
    const problems = dependencyFaults(sources, c.brokenFiles);
    if (problems.length === 0 && c.buildable) problems.push(...buildFaults(sources, c.buildable));
    if (problems.length === 0) return;
    for (const file of new Set(problems.map((x) => x.file))) {
      const source = sources.get(file) as Source;
      const mine = problems.filter((x) => x.file === file).map((x) => x.diagnostic);
      sources.delete(file);
      if (source.from === 'file') {
        c.diagnostics.push(...mine);
        c.fallBack(source.name, file);
      } else {
        // Positions would point into the last good text, not the file: the file's start instead.
        for (const d of mine)
          c.diagnostics.push({
            file,
            line: 1,
            col: 1,
            code: d.code,
            message: `its last good content cannot be used either: ${d.message}`,
          });
        c.brokenFiles.push(file);
      }
    }
  }
}

function dependencyFaults(sources: Map<string, Source>, brokenFiles: string[]): Problem[] {
  const pods = [...sources.values()].flatMap((s) => s.docs).filter((p) => p.value.kind === 'Pod');
  return dependencyProblems(pods, brokenFiles.length === 0).map((x) => ({
    file: x.pod.file,
    diagnostic: at(x.pod, ['metadata', 'annotations', DEPENDS_ON], 'ERR_MANIFEST_INVALID', x.message),
  }));
}

function buildFaults(
  sources: Map<string, Source>,
  buildable: (docs: LoadedDoc[]) => Diagnostic[],
): Problem[] {
  const docs = [...sources.values()]
    .flatMap((s) => s.docs)
    .map((p) => ({ doc: p.value, file: p.file, line: at(p, [], '', '').line }));
  return buildable(docs)
    .filter((d) => sources.has(d.file))
    .map((d) => ({ file: d.file, diagnostic: d }));
}
