import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseHostConfig } from '../../src/config/host-config.js';

describe('examples/', () => {
  it('config.yaml is a valid host config', () => {
    const file = new URL('../../examples/config.yaml', import.meta.url);
    const config = parseHostConfig(readFileSync(file, 'utf8'), 'examples/config.yaml');
    expect(config.plainHttpRegistries).toEqual(['registry.lan:5000']);
  });
});
