// A half-written file is not a deletion: an empty or comment-only file, a file cut mid-document,
// and a file still being written that, as read, is smaller or drops a pod or image all keep their
// last good content applied; such a file is acted on once it has been unchanged for the settle time
// (the clock is injected); one that only adds or changes documents is taken at once.
// Files are written the way scp (truncate, then write), `cp` over a file and an editor's atomic
// rename write them. And what else a folder can hold (a FIFO, a device, a huge file) is refused
// without blocking.
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, open, rename, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/lib/yaml-validate.js';
import { type LastGood, lastGoodStore } from '../../src/manifest/last-good.js';
import { type LoadOptions, loadManifests } from '../../src/manifest/load.js';
import { MAX_MANIFEST_BYTES } from '../../src/manifest/read-file.js';
import { SETTLE_MS } from '../../src/manifest/settle.js';
import { desiredState } from '../../src/reconcile/desired.js';
import { frozenPods } from '../../src/reconcile/frozen.js';
import { type ObservedState, plan } from '../../src/reconcile/plan.js';
import { settleWaits } from '../../src/reconcile/settle-waits.js';
import { runBerth } from '../helpers/cli.js';
import { TEST_HOST as host, observedFrom } from '../helpers/observed.js';

const run = promisify(execFile);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-settle-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const pod = (name: string) =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\nspec:\n  containers:\n    - name: main\n      image: busybox:1\n`;
const TWO = `${pod('web')}---\n${pod('worker')}`;

let n = 0;
/** A folder whose web.yaml (`text`) loaded cleanly once, its last good content recorded. */
async function applied(text = TWO): Promise<{ d: string; file: string; store: LastGood; keep: LoadOptions }> {
  const d = join(dir, `f${++n}`);
  await mkdir(d);
  const file = join(d, 'web.yaml');
  await writeFile(file, text);
  const store = lastGoodStore(join(dir, `last-good-${n}`));
  const keep = { lastGood: store, keepLastGood: true };
  expect((await loadManifests(d, keep)).diagnostics).toEqual([]);
  return { d, file, store, keep };
}

/** What a pass would do now with `observed` running. */
async function planNow(d: string, o: LoadOptions, observed: ObservedState) {
  const loaded = await loadManifests(d, o);
  const desired = desiredState(loaded.docs, host);
  const frozen = frozenPods(loaded, observed, desired);
  return {
    loaded,
    actions: [
      ...settleWaits(loaded),
      ...plan({ folder: d, desired, observed, frozen, now: o.now ?? Date.now() }),
    ].map((a) => `${a.kind} ${a.reason}`),
  };
}

describe('a file that had documents and now has none', () => {
  it.each([
    ['emptied (`: > web.yaml`)', ''],
    ['whitespace', '\n  \n\t\n'],
    ['comments only', '# web moved elsewhere?\n# (not yet)\n'],
    ['empty documents', '---\n---\n# nothing\n...\n'],
  ])('%s: falls back and is reported at 1:1; plan removes nothing', async (_what, text) => {
    const { d, file, store, keep } = await applied();
    const before = await loadManifests(d, { lastGood: store });
    const observed = observedFrom(before.docs);
    await writeFile(file, text);
    const { loaded, actions } = await planNow(d, keep, observed);
    expect(loaded.diagnostics.map(formatDiagnostic)).toEqual([
      `${file}:1:1: ERR_MANIFEST_EMPTY: the file has no documents (empty, or only comments): what it defined stays as it was; delete the file to remove it`,
    ]);
    expect([loaded.fromLastGood, loaded.brokenFiles]).toEqual([[file], []]);
    expect(actions).toEqual([]); // web and worker run as their last good content says: nothing to do
    expect((await store.read(d))['web.yaml']).toBe(TWO);
  });

  it('without a last good content (plan with no record): kept as it runs, never removed', async () => {
    const { d, file, store } = await applied();
    const observed = observedFrom((await loadManifests(d, { lastGood: store })).docs);
    await writeFile(file, '');
    const { loaded, actions } = await planNow(d, {}, observed);
    expect(loaded.brokenFiles).toEqual([file]);
    expect(actions).toEqual([
      `wait web: kept as it runs (${file} has errors)`,
      `wait worker: kept as it runs (${file} has errors)`,
    ]);
  });

  it('validate reports an emptied file', async () => {
    const { d, file } = await applied();
    await writeFile(file, '');
    const r = await runBerth(['validate', d]);
    expect([r.code, r.stderr]).toEqual([
      2,
      `${file}:1:1: ERR_MANIFEST_EMPTY: the file has no documents (empty, or only comments): what it defined stays as it was; delete the file to remove it\n`,
    ]);
  });

  it('only deleting the file removes its workloads', async () => {
    const { d, file, store, keep } = await applied();
    const observed = observedFrom((await loadManifests(d, { lastGood: store })).docs);
    await rm(file);
    const { actions } = await planNow(d, keep, observed);
    expect(actions).toEqual([
      'remove web/main: no longer in the manifests',
      'teardown-pod web: no longer in the manifests',
      'remove worker/main: no longer in the manifests',
      'teardown-pod worker: no longer in the manifests',
    ]);
    expect(await store.read(d)).toEqual({});
  });
});

describe('a file being written', () => {
  it.each([
    ['a syntax error', 'metadata: {name: [wor', ['ERR_YAML_SYNTAX', 'ERR_YAML_SYNTAX']],
    ['a schema error', 'metadata:\n  name: wor', ['ERR_MANIFEST_SCHEMA']],
  ])('cut mid-document (%s): falls back on its last good content', async (_what, cut, codes) => {
    const { d, file, store, keep } = await applied();
    await writeFile(file, `${pod('web')}---\napiVersion: v1\nkind: Pod\n${cut}`);
    const r = await loadManifests(d, keep);
    expect(r.diagnostics.map((x) => x.code)).toEqual(codes);
    expect(r.fromLastGood).toEqual([file]);
    expect(r.docs.map((x) => x.doc.metadata.name)).toEqual(['web', 'worker']);
    expect((await store.read(d))['web.yaml']).toBe(TWO);
  });

  it('scp: truncated, then written piece by piece; nothing is removed until it has settled', async () => {
    const { d, file, store, keep } = await applied();
    const observed = observedFrom((await loadManifests(d, { lastGood: store })).docs);
    const fh = await open(file, 'w'); // truncates, as scp and cp do
    try {
      // 1. Empty: an error, the last good content applies.
      expect((await planNow(d, keep, observed)).actions).toEqual([]);
      // 2. The first document and the separator: a valid file that defines only web.
      await fh.write(`${pod('web')}---\n`);
      const { mtimeMs } = await stat(file);
      const now = mtimeMs + 500;
      const partial = await planNow(d, { ...keep, now }, observed);
      expect(partial.loaded.diagnostics).toEqual([]);
      expect(partial.loaded.fromLastGood).toEqual([file]);
      expect(partial.loaded.settling).toEqual([{ file, until: mtimeMs + SETTLE_MS }]);
      expect(partial.actions).toEqual([
        `wait ${file}: still being written: its last good content applies until it settles`,
      ]);
      expect((await store.read(d))['web.yaml']).toBe(TWO);
      // 3. The rest: the whole file again, the same size as before: acted on at once.
      await fh.write(pod('worker'));
    } finally {
      await fh.close();
    }
    const whole = await planNow(d, keep, observed);
    expect([whole.loaded.fromLastGood, whole.loaded.settling, whole.actions]).toEqual([[], [], []]);
  });

  it.each([
    ['cp over the file', async (src: string, dst: string) => void (await run('cp', [src, dst]))],
    [
      "an editor's atomic rename",
      async (src: string, dst: string) => {
        await run('cp', [src, `${dst}.tmp~`]);
        await rename(`${dst}.tmp~`, dst);
      },
    ],
  ])('%s: a shrunk file is acted on once settled', async (_what, write) => {
    const { d, file, store, keep } = await applied();
    const observed = observedFrom((await loadManifests(d, { lastGood: store })).docs);
    const src = join(dir, `src-${n}.yaml`);
    await writeFile(src, pod('web'));
    await write(src, file);
    const { mtimeMs } = await stat(file);
    const early = await planNow(d, { ...keep, now: mtimeMs + SETTLE_MS - 1 }, observed);
    expect(early.loaded.settling).toEqual([{ file, until: mtimeMs + SETTLE_MS }]);
    expect(early.loaded.docs.map((x) => x.doc.metadata.name)).toEqual(['web', 'worker']);
    expect((await store.read(d))['web.yaml']).toBe(TWO);
    const settled = await planNow(d, { ...keep, now: mtimeMs + SETTLE_MS }, observed);
    expect([settled.loaded.settling, settled.loaded.fromLastGood]).toEqual([[], []]);
    expect(settled.actions).toEqual([
      'remove worker/main: no longer in the manifests',
      'teardown-pod worker: no longer in the manifests',
    ]);
    expect((await store.read(d))['web.yaml']).toBe(pod('web'));
  });

  it('an mtime far in the future does not hold the file forever', async () => {
    const { d, file, keep } = await applied();
    await writeFile(file, pod('web'));
    const now = Date.now();
    await utimes(file, new Date(now + 3_600_000), new Date(now + 3_600_000));
    const r = await loadManifests(d, { ...keep, now });
    expect([r.settling, r.fromLastGood, r.docs.map((x) => x.doc.metadata.name)]).toEqual([[], [], ['web']]);
  });

  it('a file that grew without dropping anything is taken at once', async () => {
    const { d, file, keep } = await applied(pod('web'));
    await writeFile(file, TWO);
    const r = await loadManifests(d, { ...keep, now: (await stat(file)).mtimeMs });
    expect([r.settling, r.docs.map((x) => x.doc.metadata.name)]).toEqual([[], ['web', 'worker']]);
  });

  it('a longer text still open for writing (a writer between two pieces) is held while open, then taken at once', async () => {
    const { d, file, keep } = await applied(pod('web'));
    // Another process writes it in place (scp, cp): a cut that parses, ends its line and drops nothing.
    const writer = spawn('sh', ['-c', 'exec cat > "$0"', file], { stdio: ['pipe', 'ignore', 'ignore'] });
    const exited = new Promise((r) => writer.once('exit', r));
    writer.stdin.write(`${pod('web')}---\n${pod('worker')}`);
    for (let i = 0; i < 100 && (await stat(file)).size < TWO.length; i++)
      await new Promise((r) => setTimeout(r, 20));
    const now = (await stat(file)).mtimeMs + 10;
    const held = await loadManifests(d, { ...keep, now });
    expect([held.settling, held.fromLastGood, held.docs.map((x) => x.doc.metadata.name)]).toEqual([
      [{ file, until: now + 250 }],
      [file],
      ['web'],
    ]);
    // Open for a minute past its last change: no longer held for it.
    expect((await loadManifests(d, { ...keep, now: now + 60_000 })).settling).toEqual([]);
    writer.stdin.end();
    await exited;
    const r = await loadManifests(d, { ...keep, now });
    expect([r.settling, r.docs.map((x) => x.doc.metadata.name)]).toEqual([[], ['web', 'worker']]);
  });

  it('a file that only changes a document, and is larger, is taken at once', async () => {
    const { d, file, keep } = await applied();
    await writeFile(
      file,
      `# web: the front end\n${pod('web')}---\n${pod('worker').replace('busybox:1', 'busybox:2')}`,
    );
    const r = await loadManifests(d, { ...keep, now: (await stat(file)).mtimeMs });
    expect([r.settling, r.fromLastGood]).toEqual([[], []]);
    expect(
      r.docs.map(
        (x) => `${x.doc.metadata.name} ${x.doc.kind === 'Pod' ? x.doc.spec.containers[0]?.image : ''}`,
      ),
    ).toEqual(['web busybox:1', 'worker busybox:2']);
  });

  it('a read cut inside a line (an unquoted value cut short parses): held until settled, then taken', async () => {
    const { d, file, keep } = await applied();
    // The new version sets an env value in its last pod; the read stops inside it ("secr"): both pods
    // there, larger than the old file, and it parses.
    const next = `${pod('web')}---\n${pod('worker')}      env:\n        - name: TOKEN\n          value: secret\n`;
    const cut = next.slice(0, next.indexOf('secret\n') + 'secr'.length);
    await writeFile(file, cut);
    const mtime = (await stat(file)).mtimeMs;
    const held = await loadManifests(d, { ...keep, now: mtime });
    expect([held.settling, held.fromLastGood]).toEqual([[{ file, until: mtime + SETTLE_MS }], [file]]);
    // Written whole, ending its last line: taken at once.
    await writeFile(file, next);
    const whole = await loadManifests(d, { ...keep, now: (await stat(file)).mtimeMs });
    expect([whole.settling, whole.fromLastGood]).toEqual([[], []]);
    // Left cut past the settle time (a writer that died), it is taken as it is.
    await writeFile(file, cut);
    const late = await loadManifests(d, { ...keep, now: (await stat(file)).mtimeMs + SETTLE_MS });
    expect([late.settling, late.fromLastGood]).toEqual([[], []]);
  });

  it('cp of a longer version read cut after its first document: larger, but drops a pod: held until settled', async () => {
    // Last good: web and worker. The new version: web with longer comments, worker, and a third
    // pod; a read lands after web, above the old size, with worker gone.
    const { d, file, store, keep } = await applied();
    const observed = observedFrom((await loadManifests(d, { lastGood: store })).docs);
    const cut = `# web serves the front end; see the runbook before changing its image.\n${'# (notes)\n'.repeat(20)}${pod('web')}---\n`;
    expect(Buffer.byteLength(cut)).toBeGreaterThan(Buffer.byteLength(TWO));
    await writeFile(file, cut);
    const { mtimeMs } = await stat(file);
    const early = await planNow(d, { ...keep, now: mtimeMs + SETTLE_MS - 1 }, observed);
    expect(early.loaded.diagnostics).toEqual([]);
    expect(early.loaded.settling).toEqual([{ file, until: mtimeMs + SETTLE_MS }]);
    expect(early.loaded.fromLastGood).toEqual([file]);
    expect(early.loaded.docs.map((x) => x.doc.metadata.name)).toEqual(['web', 'worker']);
    expect(early.actions).toEqual([
      `wait ${file}: still being written: its last good content applies until it settles`,
    ]);
    expect((await store.read(d))['web.yaml']).toBe(TWO);
    // Still unchanged once settled: the user meant it, worker goes.
    const settled = await planNow(d, { ...keep, now: mtimeMs + SETTLE_MS }, observed);
    expect([settled.loaded.settling, settled.loaded.fromLastGood]).toEqual([[], []]);
    expect(settled.actions).toEqual([
      'remove worker/main: no longer in the manifests',
      'teardown-pod worker: no longer in the manifests',
    ]);
    expect((await store.read(d))['web.yaml']).toBe(cut);
  });

  it('an Image is held like a Pod: a larger read without it waits', async () => {
    const image = (name: string) =>
      `apiVersion: berth.dev/v1alpha1\nkind: Image\nmetadata:\n  name: ${name}\nspec:\n  ref: busybox:1\n`;
    const { d, file, keep } = await applied(`${pod('web')}---\n${image('base')}`);
    await writeFile(file, `${'# a long comment line\n'.repeat(20)}${pod('web')}---\n${image('other')}`);
    const { mtimeMs } = await stat(file);
    const r = await loadManifests(d, { ...keep, now: mtimeMs });
    expect([r.settling, r.docs.map((x) => `${x.doc.kind}/${x.doc.metadata.name}`)]).toEqual([
      [{ file, until: mtimeMs + SETTLE_MS }],
      ['Pod/web', 'Image/base'],
    ]);
  });

  it('a larger read that drops a pod, with an mtime far in the future, is read now', async () => {
    const { d, file, keep } = await applied();
    await writeFile(file, `${'# a long comment line\n'.repeat(20)}${pod('web')}`);
    const now = Date.now();
    await utimes(file, new Date(now + 3_600_000), new Date(now + 3_600_000));
    const r = await loadManifests(d, { ...keep, now });
    expect([r.settling, r.fromLastGood, r.docs.map((x) => x.doc.metadata.name)]).toEqual([[], [], ['web']]);
  });
});

describe('what a folder can hold besides manifests', () => {
  it.each([
    [
      'a FIFO (a blocking open would freeze every pass)',
      async (f: string) => void (await run('mkfifo', [f])),
    ],
    ['a symlink to /dev/zero (it reads forever)', (f: string) => symlink('/dev/zero', f)],
    ['a directory', (f: string) => mkdir(f)],
  ])('%s: refused, the last good content applies', async (_what, make) => {
    const { d, file, store, keep } = await applied();
    await rm(file);
    await make(file);
    const r = await bounded(loadManifests(d, keep));
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([
      `${file}:1:1: ERR_MANIFEST_UNREADABLE: cannot read: not a regular file`,
    ]);
    expect([r.fromLastGood, r.docs.map((x) => x.doc.metadata.name)]).toEqual([[file], ['web', 'worker']]);
    expect((await store.read(d))['web.yaml']).toBe(TWO);
  });

  it.each([
    ['/proc/self/status', 'proc'],
    ['/sys/kernel/mm/transparent_hugepage/enabled', 'sysfs'],
  ])(
    'a link to %s (a file made as it is read): refused unread, the last good content applies',
    async (target, fs) => {
      const { d, file, keep } = await applied();
      await rm(file);
      await symlink(target, file);
      const r = await loadManifests(d, keep);
      expect(r.diagnostics.map(formatDiagnostic)).toEqual([
        `${file}:1:1: ERR_MANIFEST_UNREADABLE: cannot read: a file of ${fs}, made as it is read: not a manifest`,
      ]);
      expect([r.fromLastGood, r.docs.map((x) => x.doc.metadata.name)]).toEqual([[file], ['web', 'worker']]);
    },
  );

  it('a file over 4 MiB is refused without reading it all', async () => {
    const { d, file, keep } = await applied();
    await writeFile(file, `${TWO}${'#'.repeat(MAX_MANIFEST_BYTES)}\n`);
    const r = await loadManifests(d, keep);
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([
      `${file}:1:1: ERR_MANIFEST_UNREADABLE: cannot read: larger than ${MAX_MANIFEST_BYTES} bytes`,
    ]);
    expect(r.fromLastGood).toEqual([file]);
  });
});

/** The promise, or an error once 10 s have passed: a hang fails the test instead of stalling it. */
function bounded<T>(p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('did not finish within 10 s')), 10_000);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}
