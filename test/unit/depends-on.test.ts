import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/lib/yaml-validate.js';
import { dependencyEntries } from '../../src/manifest/dependencies.js';
import { loadManifests } from '../../src/manifest/load.js';
import { desiredState } from '../../src/reconcile/desired.js';
import { manifestFolders } from '../helpers/manifest-folders.js';
import { TEST_HOST } from '../helpers/observed.js';

const folder = manifestFolders('depends-on');
const pod = (name: string, o: { on?: string; policy?: string } = {}) =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n` +
  (o.on === undefined ? '' : `  annotations:\n    berth.dev/depends-on: ${JSON.stringify(o.on)}\n`) +
  `spec:\n${o.policy ? `  restartPolicy: ${o.policy}\n` : ''}  containers:\n    - name: main\n      image: busybox\n`;

describe('depends-on entries', () => {
  it('a bare name means ready; each condition is read; spaces around parts are ignored', () => {
    expect(
      dependencyEntries({ 'berth.dev/depends-on': ' db , cache:started,setup : completed,x:ready,' }),
    ).toEqual([
      { text: 'db', pod: 'db', condition: 'ready' },
      { text: 'cache:started', pod: 'cache', condition: 'started' },
      { text: 'setup : completed', pod: 'setup', condition: 'completed' },
      { text: 'x:ready', pod: 'x', condition: 'ready' },
    ]);
  });

  it('an unknown condition, an empty one or a second colon leave the condition unknown', () => {
    expect(dependencyEntries({ 'berth.dev/depends-on': 'db:healthy,db:,db:ready:x,:ready' })).toEqual([
      { text: 'db:healthy', pod: 'db' },
      { text: 'db:', pod: 'db' },
      { text: 'db:ready:x', pod: 'db' },
      { text: ':ready', pod: '', condition: 'ready' },
    ]);
  });

  it('the desired pod carries each dependency by identity with its condition', async () => {
    const d = await folder({
      'a.yaml': pod('web', { on: 'db:started,setup:completed,cache' }),
      'b.yaml': pod('db'),
      'c.yaml': pod('setup', { policy: 'OnFailure' }),
      'd.yaml': pod('cache'),
    });
    const r = await loadManifests(d);
    expect(r.diagnostics).toEqual([]);
    expect(desiredState(r.docs, TEST_HOST).pods.find((p) => p.name === 'web')?.dependsOn).toEqual([
      { pod: 'db', condition: 'started' },
      { pod: 'setup', condition: 'completed' },
      { pod: 'cache', condition: 'ready' },
    ]);
  });
});

describe('depends-on diagnostics, at the annotation', () => {
  it.each([
    [
      'db:healthy',
      'pod web depends on "db:healthy": unknown condition "healthy" (known: ready, started, completed)',
    ],
    ['db:', 'pod web depends on "db:": unknown condition "" (known: ready, started, completed)'],
    [
      'db:ready:x',
      'pod web depends on "db:ready:x": unknown condition "ready:x" (known: ready, started, completed)',
    ],
    [':ready', 'pod web depends on ":ready", which names no pod (expected name or name:condition)'],
    [
      'db:Ready',
      'pod web depends on "db:Ready": unknown condition "Ready" (known: ready, started, completed)',
    ],
    ['db:completed', 'pod web depends on "db:completed", but db never completes (restartPolicy Always)'],
    ['web:started', 'pod web cannot depend on itself'],
    ['../db:ready', 'pod web depends on "../db", which no manifest defines'],
  ])('%s', async (on, message) => {
    const d = await folder({ 'web.yaml': pod('web', { on }), 'db.yaml': pod('db') });
    const r = await loadManifests(d);
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([
      `${join(d, 'web.yaml')}:6:27: ERR_MANIFEST_INVALID: ${message}`,
    ]);
    expect(r.brokenFiles).toEqual([join(d, 'web.yaml')]);
    expect(r.docs.map((x) => x.doc.metadata.name)).toEqual(['db']);
  });

  it('completed is accepted of a pod with restartPolicy OnFailure or Never', async () => {
    const d = await folder({
      'web.yaml': pod('web', { on: 'a:completed,b:completed' }),
      'a.yaml': pod('a', { policy: 'OnFailure' }),
      'b.yaml': pod('b', { policy: 'Never' }),
    });
    expect((await loadManifests(d)).diagnostics).toEqual([]);
  });

  it("completed reads each container's own restartPolicy: one of Always never completes, all of their own end", async () => {
    const own = (name: string, policy: string, mine: string) =>
      pod(name, { policy }).replace('image: busybox\n', `image: busybox\n      restartPolicy: ${mine}\n`);
    const d = await folder({
      'web.yaml': pod('web', { on: 'a:completed' }),
      'a.yaml': own('a', 'Never', 'Always'),
    });
    expect((await loadManifests(d)).diagnostics.map(formatDiagnostic)).toEqual([
      `${join(d, 'web.yaml')}:6:27: ERR_MANIFEST_INVALID: pod web depends on "a:completed", but a never completes (restartPolicy Always on container main)`,
    ]);
    const ends = await folder({
      'web.yaml': pod('web', { on: 'b:completed' }),
      'b.yaml': own('b', 'Always', 'OnFailure'),
    });
    expect((await loadManifests(ends)).diagnostics).toEqual([]);
  });

  it('a cycle is found whatever the conditions say', async () => {
    const d = await folder({
      'a.yaml': pod('a', { on: 'b:started', policy: 'Never' }),
      'b.yaml': pod('b', { on: 'a:completed', policy: 'Never' }),
    });
    const why = 'ERR_MANIFEST_INVALID: pods a → b → a depend on each other: none of them would ever start';
    expect((await loadManifests(d)).diagnostics.map(formatDiagnostic)).toEqual([
      `${join(d, 'a.yaml')}:6:27: ${why}`,
      `${join(d, 'b.yaml')}:6:27: ${why}`,
    ]);
  });

  it('a huge annotation of many entries is read in linear time and each bad entry reported', async () => {
    const on = Array.from({ length: 5000 }, (_, i) => `p${i}:nope`).join(',');
    const d = await folder({ 'web.yaml': pod('web', { on }) });
    const started = performance.now();
    const r = await loadManifests(d);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(r.diagnostics).toHaveLength(5000);
    expect(r.diagnostics[4999]?.message).toBe(
      'pod web depends on "p4999:nope": unknown condition "nope" (known: ready, started, completed)',
    );
  });
});
