// Node's on-disk compile cache (V8 code cache) for the CLI: a warm start then skips compiling the
// bundle (~14 ms of a 60 ms `berth --help` here). The cache holds code that runs as berth's user,
// so it lives where only that user can write: `<state>/compile-cache`, 0700, inside a --state
// directory this user owns and nobody else may write to (a tmpfs under /run for root: emptied at
// boot, and never grows without bound as the bundle's chunk names change with each build). When
// --state cannot be made, is another user's, or is writable by others, berth runs without a cache
// (`berth --help` as a user other than root). Unlike Node's default (os.tmpdir()/node-compile-cache),
// no other user can plant code in it.
//
// Imported by main.ts before anything else, so this file uses node: built-ins only, and those
// through process.getBuiltinModule, not import: the bundle's entry then loads no chunk of shared
// code (scripts/bundle.mjs makes an imported built-in a module of its own) before the thin
// `container run` (thin-run.ts, one file of its own). Looked up when called, after main.ts has
// checked the Node version (an older Node has no getBuiltinModule).
import type { Stats } from 'node:fs';

const fs = () => process.getBuiltinModule('node:fs');

export const COMPILE_CACHE_DIR = 'compile-cache';

/**
 * The --state directory argv and env name, as args.ts would read it: the last `--state DIR` or
 * `--state=DIR` before `--`, else $BERTH_STATE, else /run/berth. Pure.
 */
export function stateDirOf(argv: readonly string[], env: Record<string, string | undefined>): string {
  let state: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') break;
    if (a === '--state' && i + 1 < argv.length) state = argv[++i];
    else if (a.startsWith('--state=')) state = a.slice('--state='.length);
  }
  return state || env.BERTH_STATE || '/run/berth';
}

/** Nobody but `uid` may write: owned by uid, no group/other write bit. Pure. */
export function isWritableOnlyBy(st: Pick<Stats, 'uid' | 'mode'>, uid: number): boolean {
  return st.uid === uid && (st.mode & 0o022) === 0;
}

/** `<state>/compile-cache`, made 0700 if missing; undefined where it would not be private. */
export function privateCacheDir(state: string, uid: number): string | undefined {
  const { chmodSync, lstatSync, statSync } = fs();
  try {
    // Made as context.ts makes it (0711; its parent must exist), so the first command of a boot
    // already has a cache. --state may be a symlink an administrator made; its target is checked.
    makeDir(state, 0o711);
    const top = statSync(state);
    if (!top.isDirectory() || !isWritableOnlyBy(top, uid)) return undefined;
    const dir = process.getBuiltinModule('node:path').join(state, COMPILE_CACHE_DIR);
    makeDir(dir, 0o700);
    const st = lstatSync(dir);
    if (!st.isDirectory() || st.uid !== uid) return undefined;
    if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
    return dir;
  } catch {
    return undefined;
  }
}

/** mkdir that is content with what exists (checked by the caller); other errors throw. */
function makeDir(dir: string, mode: number): void {
  try {
    fs().mkdirSync(dir, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/**
 * Turn the cache on for this process and the unpack worker threads it starts (they inherit
 * NODE_COMPILE_CACHE). NODE_COMPILE_CACHE set by the caller wins; NODE_DISABLE_COMPILE_CACHE=1
 * turns it off. Never throws: a cache is an optimisation.
 */
export function enableCliCompileCache(argv: readonly string[], env: NodeJS.ProcessEnv): string | undefined {
  if (env.NODE_DISABLE_COMPILE_CACHE || env.NODE_COMPILE_CACHE) return undefined;
  const uid = process.geteuid?.();
  if (uid === undefined) return undefined;
  const dir = privateCacheDir(stateDirOf(argv, env), uid);
  if (dir === undefined) return undefined;
  const result = process.getBuiltinModule('node:module').enableCompileCache(dir);
  if (result.directory === undefined) return undefined;
  env.NODE_COMPILE_CACHE = result.directory;
  return result.directory;
}
