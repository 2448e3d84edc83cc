// A throwaway local account for tests of what a non-root user on berth's host can do: made with
// useradd under a unique name (no home, no login shell), removed by remove(). Commands run as it
// through setpriv with only its own group (or with extra groups given), never through a login.
import { execFileSync, type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface LocalUser {
  name: string;
  uid: number;
  gid: number;
  /** Run `command` as the user, to its end; `groups`: supplementary gids it holds besides its own. */
  run(
    command: string,
    args: string[],
    options?: { groups?: number[]; input?: string },
  ): SpawnSyncReturns<string>;
  /** Node (the running one) evaluating `script` (CommonJS) as the user; its stdout. */
  node(script: string, args?: string[]): string;
  remove(): void;
}

export function createLocalUser(): LocalUser {
  const name = `bt${randomBytes(5).toString('hex')}`;
  execFileSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', '--user-group', name]);
  const id = (flag: string) => Number(execFileSync('id', [flag, name]).toString().trim());
  const uid = id('-u');
  const gid = id('-g');
  const run: LocalUser['run'] = (command, args, options = {}) => {
    const groups = options.groups?.length ? ['--groups', options.groups.join(',')] : ['--clear-groups'];
    return spawnSync(
      'setpriv',
      ['--reuid', String(uid), '--regid', String(gid), ...groups, '--', command, ...args],
      { encoding: 'utf8', input: options.input ?? '', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } },
    );
  };
  return {
    name,
    uid,
    gid,
    run,
    node(script, args = []) {
      const r = run(process.execPath, ['-e', script, '--', ...args]);
      if (r.status !== 0) throw new Error(`node as ${name} failed (${r.status}): ${r.stderr}`);
      return r.stdout;
    },
    remove() {
      spawnSync('userdel', [name], { stdio: 'ignore' });
    },
  };
}

/** What the user gets trying each path: `ok` or the errno code (node's fs names). */
export const TRY_PATHS = `
const fs = require('node:fs');
const { spawnSync } = require('node:child_process');
const attempt = (fn) => { try { fn(); return 'ok'; } catch (e) { return e.code; } };
const ops = {
  list: (p) => fs.readdirSync(p),
  read: (p) => fs.readFileSync(p),
  open: (p) => fs.closeSync(fs.openSync(p, 'r')),
  write: (p) => fs.closeSync(fs.openSync(p, 'a')),
  exec: (p) => { const r = spawnSync(p, ['true']); if (r.error) throw r.error; },
};
const out = {};
for (const arg of process.argv.slice(1)) {
  const [op, p] = [arg.slice(0, arg.indexOf(':')), arg.slice(arg.indexOf(':') + 1)];
  out[arg] = attempt(() => ops[op](p));
}
console.log(JSON.stringify(out));
`;

/** `ops`: `list:PATH`, `read:PATH`, `open:PATH`, `write:PATH`, `exec:PATH`; what each gave the user. */
export function tryAs(user: LocalUser, ops: string[]): Record<string, string> {
  return JSON.parse(user.node(TRY_PATHS, ops)) as Record<string, string>;
}
