// Every schema berth validates YAML against (schemas/*.json) is a valid JSON Schema of the draft it
// names: berth compiles them without checking them against their meta-schema at run time (that
// check cost ~20 ms of every command that reads a host config or a manifest), so it is made here.
import { readdirSync, readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';

const dir = new URL('../../schemas/', import.meta.url);
const names = readdirSync(dir).filter((n) => n.endsWith('.schema.json'));

describe('schemas', () => {
  it('there are schemas to check', () => {
    expect(names).toEqual(expect.arrayContaining(['host-config.schema.json', 'pod.schema.json']));
  });

  it.each(names)('%s is valid against its meta-schema and compiles', (name) => {
    const schema = JSON.parse(readFileSync(new URL(name, dir), 'utf8')) as object;
    const ajv = new Ajv({ allErrors: true, strict: false });
    expect(ajv.validateSchema(schema), JSON.stringify(ajv.errors)).toBe(true);
    expect(() => ajv.compile(schema)).not.toThrow();
  });

  it('a broken schema is caught by this check (it would not be at run time)', () => {
    const ajv = new Ajv({ allErrors: true, strict: false });
    expect(ajv.validateSchema({ type: 'objekt', properties: { a: { minLength: 'three' } } })).toBe(false);
  });
});
