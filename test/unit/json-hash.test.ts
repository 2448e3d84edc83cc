// A digest of a value's JSON fed to the hash piece by piece (lib/json-hash.ts): the same bytes as
// JSON.stringify's, so fingerprints recorded before stay the same, and no one string of it all, so a
// pod too big for one string (V8 stops near 2^29 characters) is hashed instead of ending the pass.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { updateJson } from '../../src/lib/json-hash.js';
import type { LoadedDoc } from '../../src/manifest/kinds.js';
import { desiredState } from '../../src/reconcile/desired.js';
import { podFingerprint } from '../../src/reconcile/failures.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const streamed = (v: unknown) => updateJson(createHash('sha256'), v).digest('hex');

describe('hashing JSON piece by piece', () => {
  it('feeds exactly what JSON.stringify writes', () => {
    const values: unknown[] = [
      { a: 1, b: [1, 'x', null, undefined, () => 1, { c: undefined }], d: 'q"\\\n\u2028é😀\ud800', e: true },
      [],
      {},
      'plain',
      -0,
      Number.NaN,
      1e21,
      { toJSON: () => ({ z: 1 }) },
      { when: new Date(0), nested: { deep: [[[]]] }, f: () => 1, s: Symbol('s') },
      null,
    ];
    for (const v of values) expect(streamed(v)).toBe(sha(JSON.stringify(v)));
  });

  it("a desired pod's fingerprint is what it was (a hash of its JSON)", () => {
    const doc: LoadedDoc = {
      doc: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'web', labels: { a: 'b' } },
        spec: {
          containers: [
            { name: 'main', image: 'app.invalid/a:1', env: [{ name: 'A', value: 'é' }], args: ['x'] },
          ],
        },
      },
      file: '/m/web.yaml',
      line: 1,
    };
    const pod = desiredState([doc], { volumes: '/r/volumes', pods: '/r/pods', netns: '/s/netns' }).pods[0];
    expect(podFingerprint(pod as never)).toBe(sha(JSON.stringify(pod)).slice(0, 16));
  });

  it('a value whose JSON is longer than a string may be is hashed', () => {
    const piece = 'x'.repeat(131_072);
    const huge = { env: Array(4200).fill(piece) }; // 550 M characters, held once
    expect(4200 * piece.length).toBeGreaterThan(2 ** 29); // JSON.stringify(huge): Invalid string length
    expect(podFingerprint(huge as never)).toMatch(/^[0-9a-f]{16}$/);
  });
});
