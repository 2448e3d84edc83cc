// JSON Schemas live in schemas/ at the repository root (the source of truth). Both src/lib and
// dist/lib sit two levels below it, so one relative URL serves sources and the build.
import { readFileSync } from 'node:fs';

const cache = new Map<string, object>();

export function loadSchema(name: string): object {
  let schema = cache.get(name);
  if (!schema) {
    schema = JSON.parse(readFileSync(new URL(`../../schemas/${name}`, import.meta.url), 'utf8')) as object;
    cache.set(name, schema);
  }
  return schema;
}
