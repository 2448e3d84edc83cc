// Loading the manifests folder: every *.yaml, *.yml and *.json (dotfiles, editor and backup files
// ignored), several documents per file, each validated against its kind's schema, plus the checks a
// schema cannot make (names unique within a pod, mounts naming declared volumes, dependencies on
// pods that exist, duplicates across files). Every problem of every file comes back at once.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type Document, isMap, LineCounter, parseAllDocuments } from 'yaml';
import { BerthError, errnoCode } from '../lib/errors.js';
import { loadSchema } from '../lib/schemas.js';
import { type Diagnostic, syntaxDiagnostics, validateDocument } from '../lib/yaml-validate.js';
import { findCycles } from './cycles.js';
import type { LoadedDoc, ManifestDoc, PodManifest } from './kinds.js';
import type { LastGood, LastGoodFiles } from './last-good.js';
import { unsupportedField } from './unsupported.js';

export const DEPENDS_ON = 'berth.dev/depends-on';

/** The pods named by a `berth.dev/depends-on` annotation. */
export function dependsOn(annotations: Record<string, string> | undefined): string[] {
  return (annotations?.[DEPENDS_ON] ?? '')
    .split(',')
    .map((d) => d.trim())
    .filter(Boolean);
}

export interface LoadResult {
  /** Documents of files without errors (duplicates left out). */
  docs: LoadedDoc[];
  diagnostics: Diagnostic[];
  /** Files with an error and no last good content: what they define keeps running as it is. */
  brokenFiles: string[];
  /** Files with an error whose last good content (last-good.ts) is applied instead. */
  fromLastGood: string[];
  /** `Kind/name` defined more than once: neither definition changes what runs. */
  duplicates: string[];
  files: string[];
}

/** Whether a file name is a manifest (not a dotfile, editor swap or backup file). */
export function isManifestFile(name: string): boolean {
  if (name.startsWith('.') || name.endsWith('~') || name.endsWith('.swp') || name.endsWith('.bak'))
    return false;
  return /\.(ya?ml|json)$/.test(name);
}

const KINDS: Record<string, { schema: string }> = {
  'v1/Pod': { schema: 'pod.schema.json' },
  'berth.dev/v1alpha1/Image': { schema: 'image.schema.json' },
};

interface ParsedDoc {
  doc: Document;
  value: ManifestDoc;
  file: string;
  lc: LineCounter;
}

function at(p: ParsedDoc, path: Array<string | number>, code: string, message: string): Diagnostic {
  const node = p.doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
  const pos = p.lc.linePos(node?.range?.[0] ?? 0);
  return { file: p.file, line: pos.line, col: pos.col, code, message };
}

/** The checks a schema cannot make inside one pod. */
function checkPod(p: ParsedDoc): Diagnostic[] {
  const pod = p.value as PodManifest;
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  const volumes = new Set((pod.spec.volumes ?? []).map((v) => v.name));
  for (const list of ['initContainers', 'containers'] as const) {
    for (const [i, c] of (pod.spec[list] ?? []).entries()) {
      if (seen.has(c.name)) {
        out.push(
          at(
            p,
            ['spec', list, i, 'name'],
            'ERR_MANIFEST_INVALID',
            `container name "${c.name}" is used twice in pod ${pod.metadata.name}`,
          ),
        );
      }
      seen.add(c.name);
      for (const [j, m] of (c.volumeMounts ?? []).entries()) {
        if (!volumes.has(m.name)) {
          out.push(
            at(
              p,
              ['spec', list, i, 'volumeMounts', j, 'name'],
              'ERR_MANIFEST_INVALID',
              `volume "${m.name}" is not declared in spec.volumes`,
            ),
          );
        }
      }
    }
  }
  return out;
}

function parseFile(text: string, file: string): { parsed: ParsedDoc[]; diagnostics: Diagnostic[] } {
  const lc = new LineCounter();
  const parsed: ParsedDoc[] = [];
  const diagnostics: Diagnostic[] = [];
  const docs = parseAllDocuments(text, { lineCounter: lc, prettyErrors: false }); // JSON is YAML too
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    if (doc.errors.length > 0) {
      diagnostics.push(...syntaxDiagnostics(doc, lc, file));
      continue;
    }
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) continue; // an empty document
    const p = { doc, value: value as ManifestDoc, file, lc };
    if (!isMap(doc.contents)) {
      diagnostics.push(
        at(p, [], 'ERR_MANIFEST_INVALID', 'a manifest must be a mapping with apiVersion and kind'),
      );
      continue;
    }
    const { apiVersion, kind } = value as { apiVersion?: unknown; kind?: unknown };
    const known = KINDS[`${String(apiVersion)}/${String(kind)}`];
    if (!known) {
      diagnostics.push(
        at(
          p,
          kind === undefined ? [] : ['kind'],
          'ERR_MANIFEST_KIND',
          `apiVersion ${String(apiVersion)}, kind ${String(kind)} is not a kind berth runs (v1 Pod, berth.dev/v1alpha1 Image)`,
        ),
      );
      continue;
    }
    const problems = validateDocument(
      doc,
      value,
      lc,
      file,
      loadSchema(known.schema),
      'ERR_MANIFEST_SCHEMA',
      unsupportedField,
    );
    if (problems.length === 0 && p.value.kind === 'Pod') problems.push(...checkPod(p));
    diagnostics.push(...problems);
    if (problems.length === 0) parsed.push(p);
  }
  return { parsed, diagnostics };
}

/** Parsed files by path, reused while a file's size and mtime stay the same (the daemon keeps one). */
export type ParseCache = Map<string, { key: string; text: string; result: ReturnType<typeof parseFile> }>;

/** Text parsed once per content (a last good text, keyed by its file). */
function parseCached(cache: ParseCache | undefined, key: string, text: string, file: string) {
  const hit = cache?.get(key);
  if (hit?.text === text) return hit.result;
  const result = parseFile(text, file);
  cache?.set(key, { key, text, result });
  return result;
}

export interface LoadOptions {
  cache?: ParseCache;
  /** Where each file's last clean content is kept; a broken file falls back on it. */
  lastGood?: LastGood;
  /** Record this load's clean files as the last good ones (apply and the daemon; not plan). */
  keepLastGood?: boolean;
}

export async function loadManifests(dir: string, o: LoadOptions = {}): Promise<LoadResult> {
  const { cache } = o;
  let names: string[];
  try {
    if (!(await stat(dir)).isDirectory())
      throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    names = await readdir(dir);
  } catch (err) {
    throw new BerthError(
      'ERR_MANIFESTS_UNREADABLE',
      'invalid',
      `manifests folder ${dir}: ${errnoCode(err) ?? String(err)}`,
      {
        hint: 'a folder that cannot be read never means "remove everything"',
      },
    );
  }
  const files = names.filter(isManifestFile).sort();
  const base = resolve(dir);
  const diagnostics: Diagnostic[] = [];
  const brokenFiles: string[] = [];
  const fromLastGood: string[] = [];
  const good: ParsedDoc[] = [];
  const saved = (await o.lastGood?.read(base)) ?? {};
  const clean: LastGoodFiles = {};
  /** A broken file: its last good content if that still loads, else it is kept as it runs. */
  const fallBack = (name: string, file: string) => {
    const text = saved[name];
    const result = text === undefined ? undefined : parseCached(cache, `${file}\0last-good`, text, file);
    if (result && result.diagnostics.length === 0) {
      good.push(...result.parsed);
      fromLastGood.push(file);
      clean[name] = text as string;
    } else brokenFiles.push(file);
  };
  for (const name of files) {
    const file = join(base, name);
    let text: string;
    let key = '';
    try {
      const st = await stat(file);
      key = `${st.size}:${st.mtimeMs}:${st.ino}`;
      const hit = cache?.get(file);
      text = hit?.key === key ? hit.text : await readFile(file, 'utf8');
    } catch (err) {
      diagnostics.push({
        file,
        line: 1,
        col: 1,
        code: 'ERR_MANIFEST_UNREADABLE',
        message: `cannot read: ${errnoCode(err) ?? err}`,
      });
      fallBack(name, file);
      continue;
    }
    const hit = cache?.get(file);
    const result = hit?.key === key ? hit.result : parseFile(text, file);
    cache?.set(file, { key, text, result });
    const { parsed, diagnostics: found } = result;
    if (found.length > 0) {
      diagnostics.push(...found);
      fallBack(name, file);
    } else {
      good.push(...parsed);
      clean[name] = text;
    }
  }
  // Duplicates across (and within) files: an error at each definition; neither is used.
  const byKey = new Map<string, ParsedDoc[]>();
  for (const p of good) {
    const key = `${p.value.kind}/${p.value.metadata.name}`;
    byKey.set(key, [...(byKey.get(key) ?? []), p]);
  }
  const duplicates = [...byKey].filter(([, ps]) => ps.length > 1).map(([k]) => k);
  for (const key of duplicates) {
    const ps = byKey.get(key) ?? [];
    for (const p of ps) {
      const others = ps
        .filter((o) => o !== p)
        .map((o) => `${o.file}:${at(o, ['metadata', 'name'], '', '').line}`);
      diagnostics.push(
        at(
          p,
          ['metadata', 'name'],
          'ERR_MANIFEST_DUPLICATE',
          `${key} is also defined at ${others.join(', ')}`,
        ),
      );
    }
  }
  // Dependencies must name pods that are defined (in a broken file too: what it defines still runs).
  const pods = good.filter((p) => p.value.kind === 'Pod');
  const podNames = new Set(pods.map((p) => p.value.metadata.name));
  for (const p of pods) {
    const deps = p.value.metadata.annotations?.[DEPENDS_ON];
    if (deps === undefined) continue;
    for (const d of deps.split(',').map((x) => x.trim())) {
      const problem =
        d === p.value.metadata.name
          ? `pod ${d} cannot depend on itself`
          : !podNames.has(d) && brokenFiles.length === 0
            ? `pod ${p.value.metadata.name} depends on "${d}", which no manifest defines`
            : undefined;
      if (!problem) continue;
      diagnostics.push(at(p, ['metadata', 'annotations', DEPENDS_ON], 'ERR_MANIFEST_INVALID', problem));
      if (!brokenFiles.includes(p.file)) brokenFiles.push(p.file);
    }
  }
  const graph = new Map(
    pods.map((p) => [
      p.value.metadata.name,
      dependsOn(p.value.metadata.annotations).filter((d) => d !== p.value.metadata.name),
    ]),
  );
  for (const cycle of findCycles(graph)) {
    for (const name of new Set(cycle)) {
      const p = pods.find((x) => x.value.metadata.name === name) as ParsedDoc;
      const message = `pods ${cycle.join(' → ')} depend on each other: none of them would ever start`;
      diagnostics.push(at(p, ['metadata', 'annotations', DEPENDS_ON], 'ERR_MANIFEST_INVALID', message));
      if (!brokenFiles.includes(p.file)) brokenFiles.push(p.file);
    }
  }
  for (const file of brokenFiles) delete clean[file.slice(base.length + 1)];
  if (o.keepLastGood && o.lastGood && JSON.stringify(clean) !== JSON.stringify(saved))
    await o.lastGood.write(base, clean);
  const docs = good
    .filter(
      (p) =>
        !brokenFiles.includes(p.file) && !duplicates.includes(`${p.value.kind}/${p.value.metadata.name}`),
    )
    .map((p) => ({ doc: p.value, file: p.file, line: at(p, [], '', '').line }));
  return {
    docs,
    diagnostics,
    brokenFiles,
    fromLastGood,
    duplicates,
    files: files.map((n) => join(base, n)),
  };
}
