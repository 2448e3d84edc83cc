#!/usr/bin/env node
// The `berth` executable. Only the Node version is checked and the compile cache set up here, before
// the rest of the CLI is loaded (a static import would be compiled before the cache is on): see
// compile-cache.ts.
import { enableCliCompileCache } from './compile-cache.js';
import { nodeTooOld } from './node-version.js';

const old = nodeTooOld(process.versions.node, process.execPath);
if (old !== undefined) {
  process.stderr.write(`${old}\n`);
  process.exit(1);
}
// The umask berth was started with (a unit's UMask=0000, a user's shell) never decides a mode: every
// file, directory, FIFO and socket berth, conmon and runc make gets the mode it has under the usual 022
// (a container's /etc/hosts is not left writable by its non-root user). Modes meant otherwise are set.
process.umask(0o022);
enableCliCompileCache(process.argv.slice(2), process.env);
const argv = process.argv.slice(2);
// `container run` with a daemon serving its root: handed to it whole, with a few modules (thin-run.ts).
const thin =
  argv.includes('container') && argv.includes('run')
    ? await (await import('./thin-run.js')).thinRun(argv, process)
    : undefined;
if (thin === undefined) await import('./wire-process.js');
else process.exitCode = thin;
