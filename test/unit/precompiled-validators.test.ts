// Every schema berth validates against has a validator built with the bundle
// (src/lib/precompiled-validators.ts): a kind added without one would be compiled at run time in
// every command, silently. Run from source there is none, and validation compiles at run time.
import { describe, expect, it } from 'vitest';
import { LOADERS, preloadValidators } from '../../src/lib/precompiled-validators.js';
import { loadSchema } from '../../src/lib/schemas.js';
import { MANIFEST_SCHEMAS } from '../../src/manifest/parse.js';

describe('precompiled validators', () => {
  it('one for each manifest kind and for the host config, and no other', () => {
    expect(Object.keys(LOADERS).sort()).toEqual([...MANIFEST_SCHEMAS, 'host-config.schema.json'].sort());
  });

  it('from source: none loaded, the schema files stand as read', async () => {
    const before = loadSchema('pod.schema.json');
    await preloadValidators(Object.keys(LOADERS));
    expect(loadSchema('pod.schema.json')).toBe(before);
  });
});
