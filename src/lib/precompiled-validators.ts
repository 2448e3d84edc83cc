// Validators compiled at build time: scripts/bundle.mjs turns each `berth:validator/NAME` import
// into ajv's standalone code for schemas/NAME, compiled with yaml-validate.ts' AJV_OPTIONS, so a
// command validates YAML without compiling a schema first (the Pod schema cost ~90 ms of CPU in
// every `apply`, `plan` and `validate`; the host config's ~15 ms in every command that reads one).
// Each is a chunk of its own, with the schema it was built from, loaded only by what validates. Run
// from source (the tests) the imports resolve to nothing and the schemas are compiled at run time.
import type { ValidateFunction } from 'ajv';
import { loadSchema, provideSchema } from './schemas.js';
import { usePrecompiled } from './yaml-validate.js';

type Loaded = { validate?: ValidateFunction; schema?: object };

export const LOADERS: Record<string, () => Promise<Loaded>> = {
  'pod.schema.json': () => import('berth:validator/pod.schema.json'),
  'host-config.schema.json': () => import('berth:validator/host-config.schema.json'),
  'image.schema.json': () => import('berth:validator/image.schema.json'),
  'configmap.schema.json': () => import('berth:validator/configmap.schema.json'),
  'secret.schema.json': () => import('berth:validator/secret.schema.json'),
  'persistentvolumeclaim.schema.json': () => import('berth:validator/persistentvolumeclaim.schema.json'),
  'service.schema.json': () => import('berth:validator/service.schema.json'),
};

const loaded = new Map<string, Promise<void>>();

/** Makes the build's validators of `names` (schemas/ file names) the ones validation uses. */
export function preloadValidators(names: readonly string[]): Promise<void> {
  return Promise.all(
    names.map((name) => {
      let p = loaded.get(name);
      if (!p) {
        p = (LOADERS[name]?.() ?? Promise.resolve({} as Loaded)).then(
          (m) => {
            // The schema the validator was built from stands for schemas/NAME: rules and the
            // diagnostics' words from one copy, even if the file changed since the build.
            if (m.schema) provideSchema(name, m.schema);
            if (m.validate) usePrecompiled(loadSchema(name), m.validate);
          },
          () => {
            loaded.delete(name); // a chunk that cannot be loaded (a rebuild under a running daemon): compiled at run time, tried again next time
          },
        );
        loaded.set(name, p);
      }
      return p;
    }),
  ).then(() => undefined);
}
