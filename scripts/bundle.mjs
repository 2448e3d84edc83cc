// Bundles the compiled CLI (dist/cli/main.js) into one file, dist/cli/berth.mjs: a cold start then
// reads one file instead of a few hundred (measured here: `image ls` cold 0.28 s → 0.16 s). The
// unpack worker thread's entry is bundled beside it (dist/cli/unpack-worker.mjs), where the CLI
// looks for it. Each schema of schemas/ is built into a chunk of its own with its validator (see
// below), so a schema edit takes effect at the next build; the files stay beside the bundle for the
// tools (the CRD generator) and for runs from source (dist/cli → ../../schemas). Shared code and
// lazily imported modules live in dist/cli/chunks/.
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

// Node's built-in modules are loaded with require(), not import: an ESM import of a built-in
// builds its module facade by reading every export, which runs the lazy getters Node keeps for
// rarely used parts (node:http's WebSocket loads Node's own undici: 30 ms; node:crypto's webcrypto
// and node:fs's streams a few ms each, on every command). require() returns the object as is.
// Each built-in becomes one ES module exporting its plain values, listed here at build time from
// this same Node (getters are left out: reading them is what costs; importing one by name fails
// the build). One module per built-in: its exports are read once, not once per importing file.
// A plain value whose first read still loads more of Node (util.diff: util's diff and colours;
// util.setTraceSigInt: worker_threads; ~5 ms of every command) is read when called instead: a
// function that calls it (the only kind found so far; a class, which a wrapper would break for
// `new` and `instanceof`, or any other value, is read at load, as before).
// Found by reading each in a fresh node, in both orders (two exports loading one module are both
// caught). Each read is marked pure, so esbuild drops those no module of the output uses: a command
// reads only what it imports (the thin `container run`: 14 of node:fs, node:path, node:net… not
// 159, and fs.Dir, a class whose read loads internal/fs/dir, not at all); 157 reads in all the
// chunks, were 715.
const nodeRequire = createRequire(import.meta.url);
const readsThatLoad = (path, names) => {
  const probe = `const m = require(${JSON.stringify(path)}); const out = [];
for (const n of JSON.parse(process.argv[1])) { const k = process.moduleLoadList.length; const v = m[n]; if (typeof v === 'function' && !/^class\\b/.test(Function.prototype.toString.call(v)) && process.moduleLoadList.length > k) out.push(n); }
process.stdout.write(JSON.stringify(out));`;
  const run = (order) => JSON.parse(execFileSync(process.execPath, ['-e', probe, JSON.stringify(order)], { encoding: 'utf8' }));
  return new Set([...run(names), ...run([...names].reverse())]);
};
const builtinsByRequire = {
  name: 'builtins-by-require',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) =>
      args.kind === 'import-statement' || args.kind === 'dynamic-import'
        ? { path: args.path, namespace: 'builtin' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => {
      const made = facades.get(args.path);
      if (made) return made;
      const mod = nodeRequire(args.path);
      const names = Object.keys(mod).filter(
        (k) => /^[A-Za-z_$][\w$]*$/.test(k) && k !== 'default' && 'value' in Object.getOwnPropertyDescriptor(mod, k),
      );
      const onCall = readsThatLoad(args.path, names);
      const lines = [`const m = require(${JSON.stringify(args.path)});`, 'export default m;'];
      for (const n of names) {
        lines.push(
          onCall.has(n)
            ? `export function ${n}(...args) { return m.${n}.apply(this, args); }`
            : `export const ${n} = /* @__PURE__ */ (() => m.${n})();`,
        );
      }
      const facade = { contents: lines.join('\n'), loader: 'js' };
      facades.set(args.path, facade); // the thin client's build (below) needs them again
      return facade;
    });
  },
};
const facades = new Map();

// Each schema's validator compiled here, at build time (src/lib/precompiled-validators.ts imports
// `berth:validator/NAME`): ajv's standalone code for schemas/NAME, with the options the run-time
// compile uses (AJV_OPTIONS, from the just compiled dist/lib/yaml-validate.js). A command then
// validates without compiling the schema (the Pod schema: ~90 ms of every apply, plan and
// validate). An unknown name fails the build.
const { AJV_OPTIONS } = await import('../dist/lib/yaml-validate.js');
const { Ajv } = nodeRequire('ajv');
const standaloneCode = nodeRequire('ajv/dist/standalone').default;
const repo = fileURLToPath(new URL('..', import.meta.url));
const precompiledValidators = {
  name: 'precompiled-validators',
  setup(b) {
    b.onResolve({ filter: /^berth:validator\// }, (args) => ({
      path: args.path.slice('berth:validator/'.length),
      namespace: 'berth-validator',
    }));
    b.onLoad({ filter: /.*/, namespace: 'berth-validator' }, async (args) => {
      if (!/^[a-z0-9-]+\.schema\.json$/.test(args.path)) throw new Error(`no schema named ${args.path}`);
      const schema = JSON.parse(await readFile(join(repo, 'schemas', args.path), 'utf8'));
      const ajv = new Ajv({ ...AJV_OPTIONS, code: { source: true, esm: true } });
      // Its require() of ajv's run-time helpers is bundled like any CommonJS dependency. The schema
      // goes with it: the diagnostics' words (x-pattern-message…) come from the copy the rules came from.
      const code = `${standaloneCode(ajv, ajv.compile(schema))}\nexport const schema = ${JSON.stringify(schema)};\n`;
      return { contents: code, loader: 'js', resolveDir: repo };
    });
  },
};

// The thin `container run` (dist/cli/thin-run.js, a command a daemon serves) is a file of its own,
// dist/cli/thin-run.mjs, with everything it imports: loaded as one module, not as the 17 chunks it
// shares with the other commands (each a module to resolve, read and link: ~10 ms of the
// command's start here). main.js imports it by that name; the code it shares is there twice.
const thinRunApart = {
  name: 'thin-run-apart',
  setup(b) {
    b.onResolve({ filter: /^\.\/thin-run\.js$/ }, (args) =>
      args.importer.endsWith(join('dist', 'cli', 'main.js')) ? { path: './thin-run.mjs', external: true } : undefined,
    );
  },
};
const banner = {
  js: "import { createRequire as __berthRequire } from 'node:module'; const require = __berthRequire(import.meta.url);",
};

await build({
  entryPoints: { berth: 'dist/cli/main.js', 'unpack-worker': 'dist/snapshot/unpack-worker.js' },
  outdir: 'dist/cli',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  // What a command imports lazily (the registry client, the host config's schema validation) goes
  // to chunks it loads only when used: `container start` does not pay for undici or ajv.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  platform: 'node',
  format: 'esm',
  target: 'node24',
  sourcemap: 'linked',
  logLevel: 'warning',
  plugins: [thinRunApart, builtinsByRequire, precompiledValidators],
  // CommonJS dependencies (undici, ajv) call require(); give the ESM bundle one.
  banner,
});

await build({
  entryPoints: { 'thin-run': 'dist/cli/thin-run.js' },
  outdir: 'dist/cli',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  sourcemap: 'linked',
  logLevel: 'warning',
  plugins: [builtinsByRequire],
  banner,
});
