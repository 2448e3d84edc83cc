// JSON Schemas live in schemas/ at the repository root (the source of truth). src/lib, dist/lib and
// the bundle (dist/cli) sit two levels below it, its lazily loaded chunks (dist/cli/chunks) three.
import { existsSync, readFileSync } from 'node:fs';

const cache = new Map<string, object>();

function schemaUrl(name: string): URL {
  const near = new URL(`../../schemas/${name}`, import.meta.url);
  if (existsSync(near)) return near;
  return new URL(`../../../schemas/${name}`, import.meta.url);
}

export function loadSchema(name: string): object {
  let schema = cache.get(name);
  if (!schema) {
    schema = JSON.parse(readFileSync(schemaUrl(name), 'utf8')) as object;
    cache.set(name, schema);
  }
  return schema;
}

/** `schema` is schemas/`name` from now on (the copy the build compiled a validator from). */
export function provideSchema(name: string, schema: object): void {
  cache.set(name, schema);
}
