// Loading the manifests folder: every *.yaml, *.yml and *.json (dotfiles, editor and backup files
// ignored; any other file that defines an object is a warning: unread-files.ts), several documents
// per file (parse.ts: schema and per-document checks), then what only the whole folder can tell:
// dependencies between pods (dependencies.ts), duplicates across files.
// Every problem of every file comes back at once.
//
// Invariant: a file that cannot be used, whatever the reason (unreadable, empty, a syntax, schema or
// value error, a dependency error, or still being written and, as read, smaller or dropping a pod or
// image: settle.ts), contributes its last good content instead (last-good.ts), or, without one,
// nothing, and what it defined is kept as it runs. Only deleting a file forgets its last good content.
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BerthError, errnoCode, isBerthError } from '../lib/errors.js';
import { type FileIdentity, identityOf, isStillValid } from '../lib/file-cache.js';
import { preloadValidators } from '../lib/precompiled-validators.js';
import type { Diagnostic } from '../lib/yaml-validate.js';
import { ManifestEncodingError } from './decode-text.js';
import type { LoadedDoc } from './kinds.js';
import type { LastGood, LastGoodFiles } from './last-good.js';
import { checkDocuments, type Source } from './load-checks.js';
import { createWriterScan, type WriterScan } from './open-writers.js';
import { MANIFEST_SCHEMAS, type ParsedFile, parseFile } from './parse.js';
import { at, type ParsedDoc } from './position.js';
import { readManifestFile } from './read-file.js';
import { type Defines, endsLine, goneSettlesAt, keyOf, SETTLE_MS, settlesAt } from './settle.js';
import { isError } from './severity.js';
import { unreadFileWarnings } from './unread-files.js';
import { fileWriters, folderChain, folderWriters, linkedFileWriters } from './writers.js';

export { DEPENDS_ON, dependsOn } from './dependencies.js';

export interface LoadResult {
  /** Documents of files without errors, or their last good content (duplicates left out). */
  docs: LoadedDoc[];
  diagnostics: Diagnostic[];
  /** Files with an error and no usable last good content: what they define keeps running as it is. */
  brokenFiles: string[];
  /** Files with an error, or settling, whose last good content (last-good.ts) is applied instead. */
  fromLastGood: string[];
  /**
   * Files still changing that would lose what they defined, or just gone (`gone`, the daemon's:
   * settle.ts): read again at `until`.
   */
  settling: Array<{ file: string; until: number; gone?: true }>;
  /** `Kind/name` defined more than once: neither definition changes what runs. */
  duplicates: string[];
  files: string[];
  /** With `saveLater`: the last good write under way (awaited by the caller once it has planned). */
  saving?: Promise<void>;
}

/** Whether a file name is one berth never looks at: a dotfile, an editor swap or a backup file. */
function isIgnoredFile(name: string): boolean {
  return name.startsWith('.') || name.endsWith('~') || name.endsWith('.swp') || name.endsWith('.bak');
}

/** Whether a file name is a manifest (not a dotfile, editor swap or backup file). */
export function isManifestFile(name: string): boolean {
  return !isIgnoredFile(name) && /\.(ya?ml|json)$/.test(name);
}

/**
 * Parsed files by path (the daemon keeps one), reused while a stat vouches for the text read
 * (file-cache.ts' rule: same identity, changed clearly before `readAt`); a last good text is keyed
 * by its file and reused while the text is the same.
 */
export type ParseCache = Map<
  string,
  {
    key: string;
    text: string;
    result: ParsedFile;
    id?: FileIdentity;
    readAt?: number;
    mtimeMs?: number;
    /** Who may write the file, as its last stat said (writers.ts). */
    access?: { uid: number; gid: number; mode: number };
  }
>;

/** Text parsed once per content (a last good text, keyed by its file). */
function parseCached(cache: ParseCache | undefined, key: string, text: string, file: string) {
  const hit = cache?.get(key);
  if (hit?.text === text) return hit.result;
  const result = parseFile(text, file);
  cache?.set(key, { key, text, result });
  return result;
}

/** What a last good text defines; no keys when it no longer parses (only its size can hold then). */
function lastGoodDefines(cache: ParseCache | undefined, file: string, text: string): Defines {
  const result = parseCached(cache, `${file}\0last-good`, text, file);
  const keys = !result.diagnostics.some(isError) ? result.parsed.map((p) => keyOf(p.value)) : [];
  return { bytes: Buffer.byteLength(text), keys, endsLine: endsLine(text) };
}

export interface LoadOptions {
  cache?: ParseCache;
  /** Where each file's last clean content is kept; a broken file falls back on it. */
  lastGood?: LastGood;
  /** Record this load's clean files as the last good ones (apply and the daemon; not plan). */
  keepLastGood?: boolean;
  /**
   * Return before that record is on disk (`saving`): it is one file for the whole folder, and the
   * daemon plans (and starts a new pod) meanwhile instead of waiting for its fsyncs.
   */
  saveLater?: boolean;
  /**
   * Files no trigger named since the last load (a daemon's scoped pass): their cached read stands,
   * without a stat. A change no trigger named is seen at the daemon's next full pass.
   */
  unchanged?(file: string): boolean;
  /** The clock (ms epoch) the settle rule reads file ages against; Date.now() by default. */
  now?: number;
  settleMs?: number;
  /**
   * A watching daemon's loads: a file gone from the folder keeps its last good content until the
   * folder has been still for the settle time (settle.ts). `apply` and `plan` take a deletion at once.
   */
  holdDeleted?: boolean;
  /**
   * Read this one file of the folder and no other, whatever its name ends with (`berth validate
   * FILE`: someone else's Pod file checked alone).
   */
  only?: string;
  /**
   * The problems of documents that cannot be built (desired state's unusable pods: reconcile's
   * loads): a file with one falls back on its last good content as a broken file does, and is not
   * recorded as good.
   */
  buildable?(docs: LoadedDoc[]): Diagnostic[];
  /**
   * Who still writes a file changed a moment ago (open-writers.ts): the daemon keeps one, whose
   * look at /proc goes on across its loads, a poll's budget at a time. Without it: one whole look.
   */
  writers?: WriterScan;
}

/** The folder's manifests, and the other files it holds that are not ignored (unread-files.ts). */
async function listFolder(dir: string): Promise<{ files: string[]; others: string[] }> {
  try {
    if (!(await stat(dir)).isDirectory())
      throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    const names = (await readdir(dir)).sort();
    return {
      files: names.filter(isManifestFile),
      others: names.filter((n) => !isManifestFile(n) && !isIgnoredFile(n)),
    };
  } catch (err) {
    throw new BerthError(
      'ERR_MANIFESTS_UNREADABLE',
      'invalid',
      `manifests folder ${dir}: ${errnoCode(err) ?? String(err)}`,
      { hint: 'a folder that cannot be read never means "remove everything"' },
    );
  }
}

export async function loadManifests(dir: string, o: LoadOptions = {}): Promise<LoadResult> {
  const { cache } = o;
  const now = o.now ?? Date.now();
  const { files, others } = o.only === undefined ? await listFolder(dir) : { files: [o.only], others: [] };
  if (files.length > 0) await preloadValidators(MANIFEST_SCHEMAS);
  const base = resolve(dir);
  // Who else can write what the folder runs: not asked of someone's file checked alone.
  const folder = o.only === undefined ? await folderChain(base) : undefined;
  const diagnostics: Diagnostic[] = [
    ...(folder ? await folderWriters(folder) : []),
    ...(await unreadFileWarnings(base, others)),
  ];
  const brokenFiles: string[] = [];
  /** Directories the writers checks looked at: the folder's chain (folderWriters'), then links'. */
  const linkSeen = new Set(folder?.dirs);
  const settling: LoadResult['settling'] = [];
  const sources = new Map<string, Source>();
  const saved = (await o.lastGood?.read(base)) ?? {};
  const clean: LastGoodFiles = {};
  /** A file that cannot be used: its last good content if that still loads, else kept as it runs. */
  const fallBack = (name: string, file: string) => {
    const text = saved[name];
    if (text === undefined) delete clean[name];
    else clean[name] = text; // kept, whether it loads now or not: only deleting the file forgets it
    const result = text === undefined ? undefined : parseCached(cache, `${file}\0last-good`, text, file);
    if (result && !result.diagnostics.some(isError))
      sources.set(file, { name, docs: result.parsed, from: 'last-good' });
    else brokenFiles.push(file);
  };
  const writer = (o.writers ?? createWriterScan({ budgetMs: Number.POSITIVE_INFINITY })).poll(
    files.map((n) => join(base, n)),
  );
  for (const name of files) {
    const file = join(base, name);
    let text: string;
    let id: FileIdentity;
    let readAt: number;
    let mtimeMs = 0;
    let access: { uid: number; gid: number; mode: number };
    const hit = cache?.get(file);
    // The last read's, unstated (a scoped pass: no trigger named the file).
    const lastRead =
      hit?.id !== undefined && hit.mtimeMs !== undefined && hit.access && o.unchanged?.(file) === true
        ? { id: hit.id, mtimeMs: hit.mtimeMs, ...hit.access }
        : undefined;
    try {
      const read = lastRead
        ? { stat: lastRead, text: undefined, readAt: 0 }
        : await readManifestFile(
            file,
            (now) => hit?.id !== undefined && isStillValid({ id: hit.id, readAt: hit.readAt ?? 0 }, now),
          );
      id = read.stat.id;
      // Vouched for by the stat: the text and the time of the read it came from are kept.
      text = read.text ?? (hit?.text as string);
      readAt = read.text === undefined ? (hit?.readAt ?? 0) : read.readAt;
      mtimeMs = read.stat.mtimeMs;
      access = { uid: read.stat.uid, gid: read.stat.gid, mode: read.stat.mode };
      if (folder)
        diagnostics.push(...fileWriters(file, access), ...(await linkedFileWriters(file, linkSeen)));
    } catch (err) {
      diagnostics.push(
        err instanceof ManifestEncodingError
          ? { file, line: err.line, col: err.col, code: err.code, message: err.message }
          : {
              file,
              line: 1,
              col: 1,
              code: 'ERR_MANIFEST_UNREADABLE',
              message: `cannot read: ${isBerthError(err) ? err.message : (errnoCode(err) ?? err)}`,
            },
      );
      cache?.delete(file); // no earlier read of it stands for a later load
      fallBack(name, file);
      continue;
    }
    const result = hit?.text === text ? hit.result : parseFile(text, file);
    cache?.set(file, { key: file, text, result, id, readAt, mtimeMs, access });
    diagnostics.push(...result.diagnostics); // warnings too: a file with only warnings is used
    if (result.diagnostics.some(isError)) {
      fallBack(name, file);
      continue;
    }
    const last = saved[name];
    const settleAt = settlesAt({
      read: {
        bytes: Buffer.byteLength(text),
        keys: result.parsed.map((p) => keyOf(p.value)),
        endsLine: endsLine(text),
      },
      mtimeMs,
      lastGood: last === undefined ? undefined : lastGoodDefines(cache, file, last),
      now,
      settleMs: o.settleMs ?? SETTLE_MS,
      // Taken as last read, it is asked of as it is now: whether a process writes it still (a
      // change since is the next pass's to read).
      writer: () => writer(file, lastRead ? (identityOf(file) ?? id) : id),
    });
    if (settleAt !== undefined) {
      settling.push({ file, until: settleAt });
      fallBack(name, file);
    } else {
      sources.set(file, { name, docs: result.parsed, from: 'file' });
      clean[name] = text;
    }
  }
  const gone = o.holdDeleted ? await goneFiles(base, files, saved, now, o.settleMs ?? SETTLE_MS) : [];
  for (const { name, until } of gone) {
    const file = join(base, name);
    settling.push({ file, until, gone: true });
    fallBack(name, file);
  }
  const listed = gone.length === 0 ? files : [...files, ...gone.map((g) => g.name)].sort();
  checkDocuments(sources, { brokenFiles, diagnostics, fallBack, buildable: o.buildable });
  const duplicates = reportDuplicates(
    [...sources.values()].flatMap((s) => s.docs),
    diagnostics,
  );
  const saving =
    o.keepLastGood && o.lastGood && !sameFiles(clean, saved) ? o.lastGood.write(base, clean) : undefined;
  if (saving && !o.saveLater) await saving;
  saving?.catch(() => undefined); // the caller awaits it (saveLater): never an unhandled rejection
  const docs = listed
    .flatMap((n) => sources.get(join(base, n))?.docs ?? [])
    .filter((p) => !duplicates.includes(keyOf(p.value)))
    .map((p) => ({ doc: p.value, file: p.file, line: at(p, [], '', '').line }));
  return {
    docs,
    diagnostics,
    brokenFiles,
    fromLastGood: listed.map((n) => join(base, n)).filter((f) => sources.get(f)?.from === 'last-good'),
    settling,
    duplicates,
    files: files.map((n) => join(base, n)),
    ...(saving && o.saveLater ? { saving } : {}),
  };
}

/** Files with last good content that are gone from the folder, held until the folder settles. */
async function goneFiles(
  base: string,
  files: string[],
  saved: LastGoodFiles,
  now: number,
  settleMs: number,
): Promise<Array<{ name: string; until: number }>> {
  const listed = new Set(files);
  const names = Object.keys(saved).filter((n) => !listed.has(n) && isManifestFile(n));
  if (names.length === 0) return [];
  const folder = await stat(base).catch(() => undefined);
  const until = folder ? goneSettlesAt(folder.mtimeMs, now, settleMs) : undefined;
  return until === undefined ? [] : names.map((name) => ({ name, until }));
}

/** Whether two last good records hold the same texts (their order aside: a JSON of each was compared). */
function sameFiles(a: LastGoodFiles, b: LastGoodFiles): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

/** `Kind/name` defined more than once (within or across files): an error at each definition. */
function reportDuplicates(good: ParsedDoc[], diagnostics: Diagnostic[]): string[] {
  const byKey = new Map<string, ParsedDoc[]>();
  for (const p of good) {
    const key = keyOf(p.value);
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
  return duplicates;
}
