// The daemon's import directory (host config images.importDir), as k3s has: every archive there is
// imported when the daemon starts and whenever one is dropped or replaced (once its size has
// settled), one at a time; then a pass is asked for, so pods waiting for those images start.
// A file that did not change since its last import is not read again.
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { watch } from 'chokidar';
import { type ImportResult, importImages } from '../archive/import-images.js';
import type { CommandContext } from './command.js';
import { createPullSetup } from './puller.js';

export interface ImportDirHooks {
  onImported(file: string, result: ImportResult): void;
  onError(file: string, err: unknown): void;
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
  const importFile = async (file: string) => {
    const st = await stat(file).catch(() => undefined);
    if (!st?.isFile() || !isArchiveName(basename(file))) return;
    const key = `${st.size}:${st.mtimeMs}`;
    if (seen.get(file) === key) return;
    seen.set(file, key);
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
