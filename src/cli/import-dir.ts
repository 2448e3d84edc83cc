// The daemon's import directory (host config images.importDir), as k3s has: every archive there is
// imported when the daemon starts and whenever one is dropped or replaced (once its size has
// settled), one at a time; then a pass is asked for, so pods waiting for those images start.
// A file that did not change since its last import is not read again. Whoever else can write the
// directory, one above it or the archive is named before each import (import-dir-writers.ts), and
// the directory's at the start: they choose what runs as root.
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { watch } from 'chokidar';
import { type ImportResult, importImages } from '../archive/import-images.js';
import type { CommandContext } from './command.js';
import { archiveWriters, importDirWriters } from './import-dir-writers.js';
import { createPullSetup } from './puller.js';

export interface ImportDirHooks {
  onImported(file: string, result: ImportResult): void;
  onError(file: string, err: unknown): void;
  /** A WARN_IMPORT_DIR_WRITABLE line. */
  onWarning(line: string): void;
}

/** Dotfiles, editor leftovers and downloads in progress are not archives (yet). */
export function isArchiveName(name: string): boolean {
  return !name.startsWith('.') && !/(~|\.swp|\.part|\.tmp|\.crdownload)$/.test(name);
}

export function watchImportDir(
  ctx: CommandContext,
  dir: string,
  hooks: ImportDirHooks,
): { close(): Promise<void> } {
  const setUp = createPullSetup(ctx);
  const seen = new Map<string, string>(); // file → size:mtime of its last import
  let queue = Promise.resolve();
  // The directory's lines are said when they change (at the start, then before an import).
  let saidDir = '';
  const sayDir = async () => {
    const lines = await importDirWriters(dir).catch(() => []);
    if (lines.join('\n') === saidDir) return;
    saidDir = lines.join('\n');
    for (const line of lines) hooks.onWarning(line);
  };
  const importFile = async (file: string) => {
    const st = await stat(file).catch(() => undefined);
    if (!st?.isFile() || !isArchiveName(basename(file))) return;
    const key = `${st.size}:${st.mtimeMs}`;
    if (seen.get(file) === key) return;
    seen.set(file, key);
    await sayDir();
    for (const line of archiveWriters(file, st)) hooks.onWarning(line);
    try {
      const { deps, options } = await setUp({});
      const config = await ctx.hostConfig();
      const result = await importImages(deps, file, {
        ...options,
        scratchDir: join(ctx.flags.root, 'ingest'),
        maxExpandedBytes: config.unpack.maxImageBytes,
      });
      hooks.onImported(file, result);
    } catch (err) {
      hooks.onError(file, err);
    }
  };
  const watcher = watch(dir, {
    depth: 0,
    awaitWriteFinish: { stabilityThreshold: 500, pollInterval: 100 },
  });
  const enqueue = (file: string) => {
    queue = queue.then(() => importFile(file));
  };
  queue = queue.then(sayDir);
  watcher.on('add', enqueue);
  watcher.on('change', enqueue);
  watcher.on('error', (err) => hooks.onError(dir, err));
  return {
    async close() {
      await watcher.close();
      await queue;
    },
  };
}
