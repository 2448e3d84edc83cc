// The process spec of an exec probe (src/health/actions/exec-spec.ts) read from a container's
// bundle config.json, on real files: a config.json left empty, cut short or not an object is one
// coded error naming the container and the file (the probe fails with it), never a bare JSON error.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execSpecOf } from '../../src/health/actions/exec-spec.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const ID = 'a'.repeat(32);

describe('exec probe spec from a bundle config.json', () => {
  let work = '';
  let bundle = '';
  let runcRoot = '';
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-exec-spec-'));
    bundle = join(work, 'containers', ID);
    runcRoot = join(work, 'runc');
    await mkdir(bundle, { recursive: true });
    await mkdir(join(runcRoot, ID), { recursive: true });
    await writeFile(
      join(runcRoot, ID, 'state.json'),
      JSON.stringify({ config: { labels: [`bundle=${bundle}`] } }),
    );
  });
  afterEach(() => removeTempRoot(work));

  it('takes the container process with the command as its args, no terminal', async () => {
    await writeFile(
      join(bundle, 'config.json'),
      JSON.stringify({ process: { user: { uid: 1 }, args: ['sleep'], terminal: true } }),
    );
    const spec = await execSpecOf(runcRoot, ID, ['true']);
    expect(spec).toEqual({
      bundle,
      process: JSON.stringify({ user: { uid: 1 }, args: ['true'], terminal: false }),
    });
  });

  for (const [how, text, why] of [
    ['empty', '', 'Unexpected end of JSON input'],
    ['cut short', '{"ociVersion": "1.2.0", "process": {"ar', 'Unterminated string in JSON'],
    ['not an object', '[1]', 'not a JSON object'],
  ] as const) {
    it(`${how}: ERR_BUNDLE_CONFIG naming the container and the file`, async () => {
      const file = join(bundle, 'config.json');
      await writeFile(file, text);
      await expect(execSpecOf(runcRoot, ID, ['true'])).rejects.toMatchObject({
        code: 'ERR_BUNDLE_CONFIG',
        message: expect.stringMatching(new RegExp(`^container ${ID}: ${file} is unreadable \\(${why}.*\\)$`)),
      });
    });
  }

  it('missing: ERR_BUNDLE_CONFIG with ENOENT', async () => {
    const file = join(bundle, 'config.json');
    await expect(execSpecOf(runcRoot, ID, ['true'])).rejects.toMatchObject({
      code: 'ERR_BUNDLE_CONFIG',
      message: `container ${ID}: ${file} is unreadable (ENOENT)`,
    });
  });
});
