// The built CLI validates with schema validators compiled at build time (scripts/bundle.mjs,
// src/lib/precompiled-validators.ts); run from source, berth compiles the schemas at run time.
// Both must say exactly the same thing: the same diagnostics for a corpus of real Pod files (some
// of them invalid) and for a broken document of every kind, and the same lines for a broken host
// config. The built CLI's answers are compared with this process's (vitest: run-time compile).
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHostConfig } from '../../src/config/host-config.js';
import type { BerthError } from '../../src/lib/errors.js';
import { loadManifests } from '../../src/manifest/load.js';
import { runBerth } from '../helpers/cli.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const CORPUS = new URL('../fixtures/pods-corpus/', import.meta.url).pathname;

/** One broken document of each kind berth validates, and a valid one beside each. */
const BROKEN: Record<string, string> = {
  'pod.yaml': `apiVersion: v1
kind: Pod
metadata: { name: Web_1, labels: { a: 1 } }
spec:
  containers:
    - name: main
      image: ""
      ports: [{ containerPort: 70000, protocol: tcp }]
      livenessProbe: { exec: { command: [] }, httpGet: { port: 80 } }
      volumeMounts: [{ name: v, mountPath: relative, subPath: ../etc }]
  restartPolicy: Sometimes
`,
  'image.yaml':
    'apiVersion: berth.dev/v1alpha1\nkind: Image\nmetadata: { name: x }\nspec: { image: 7, pullPolicy: Sometimes }\n',
  'configmap.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\ndata: { "../k": 1 }\n',
  'secret.yaml': 'apiVersion: v1\nkind: Secret\nmetadata: { name: s }\ntype: Opaque\ndata: { k: [1] }\n',
  'service.yaml':
    'apiVersion: v1\nkind: Service\nmetadata: { name: svc }\nspec: { ports: [{ port: "x" }] }\n',
  'pvc.yaml':
    'apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: { name: p }\nspec: { accessModes: ReadWriteOnce }\n',
  'ok.yaml':
    'apiVersion: v1\nkind: Pod\nmetadata: { name: ok }\nspec: { containers: [{ name: main, image: busybox }] }\n',
};

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'berth-precompiled-'));
  for (const [name, text] of Object.entries(BROKEN)) await writeFile(join(work, name), text);
});
afterAll(async () => {
  await removeTempRoot(work);
});

async function builtDiagnostics(dir: string): Promise<unknown> {
  const r = await runBerth(['validate', dir, '-o', 'json']);
  return JSON.parse(r.stdout).diagnostics;
}

describe('validators compiled at build time', () => {
  it.each([
    ['the pods corpus', () => CORPUS],
    ['a broken document of each kind', () => work],
  ])('%s: the built CLI reports what the run-time compile reports', async (_what, dir) => {
    const here = (await loadManifests(dir())).diagnostics;
    expect(here.some((d) => d.code === 'ERR_MANIFEST_SCHEMA')).toBe(true); // there is something to compare
    expect(await builtDiagnostics(dir())).toEqual(JSON.parse(JSON.stringify(here)));
  });

  it('a broken host config: the built CLI says the lines the run-time compile says', async () => {
    const file = join(work, 'config.yaml');
    const text = 'network: { name: 7, subnet: [] }\nimages: { gcHighPercent: 120 }\nbogus: 1\n';
    await writeFile(file, text);
    let lines: string[] = [];
    try {
      parseHostConfig(text, file);
    } catch (err) {
      lines = (err as BerthError).lines ?? [];
    }
    expect(lines.length).toBeGreaterThan(1);
    const r = await runBerth([
      '--config',
      file,
      '--root',
      join(work, 'root'),
      '--state',
      join(work, 'state'),
      'network',
      'ls',
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toEqual(lines.map((l) => `berth: ${l}`));
  });
});
