#!/usr/bin/env node
// The `berth` executable. Only the compile cache is set up here, before the rest of the CLI is
// loaded (a static import would be compiled before the cache is on): see compile-cache.ts.
import { enableCliCompileCache } from './compile-cache.js';

enableCliCompileCache(process.argv.slice(2), process.env);
await import('./wire-process.js');
