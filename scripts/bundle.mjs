// Bundles the compiled CLI (dist/cli/main.js) into one file, dist/cli/berth.mjs: a cold start then
// reads one file instead of a few hundred (measured here: `image ls` cold 0.28 s → 0.16 s). The
// unpack worker thread's entry is bundled beside it (dist/cli/unpack-worker.mjs), where the CLI
// looks for it. schemas/ stays outside and is found relative to both (dist/cli → ../../schemas).
// Shared code and lazily imported modules live in dist/cli/chunks/.
import { createRequire } from 'node:module';
import { build } from 'esbuild';

// Node's built-in modules are loaded with require(), not import: an ESM import of a built-in
// builds its module facade by reading every export, which runs the lazy getters Node keeps for
// rarely used parts (node:http's WebSocket loads Node's own undici: 30 ms; node:crypto's webcrypto
// and node:fs's streams a few ms each, on every command). require() returns the object as is.
// Each built-in becomes one ES module exporting its plain values, listed here at build time from
// this same Node (getters are left out: reading them is what costs; importing one by name fails
// the build). One module per built-in: its exports are read once, not once per importing file.
const nodeRequire = createRequire(import.meta.url);
const builtinsByRequire = {
  name: 'builtins-by-require',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) =>
      args.kind === 'import-statement' || args.kind === 'dynamic-import'
        ? { path: args.path, namespace: 'builtin' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => {
      const mod = nodeRequire(args.path);
      const names = Object.keys(mod).filter(
        (k) => /^[A-Za-z_$][\w$]*$/.test(k) && k !== 'default' && 'value' in Object.getOwnPropertyDescriptor(mod, k),
      );
      const lines = [`const m = require(${JSON.stringify(args.path)});`, 'export default m;'];
      for (const n of names) lines.push(`export const ${n} = m.${n};`);
      return { contents: lines.join('\n'), loader: 'js' };
    });
  },
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
  plugins: [builtinsByRequire],
  // CommonJS dependencies (undici, ajv) call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __berthRequire } from 'node:module'; const require = __berthRequire(import.meta.url);" },
});
