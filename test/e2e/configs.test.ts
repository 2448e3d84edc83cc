// ConfigMaps, Secrets, the downward API and $(VAR) end to end, as root, with real runc, conmon and
// overlayfs: a ConfigMap volume updated in place inside the running container (no restart; a
// subPath mount keeps its content, as in Kubernetes); a Secret in env and as a file (tmpfs, its
// mode), never in logs, ps, plan or a world-readable file; downward API env and files; $(VAR) in
// command and env; a changed key named by the plan; a missing reference that makes its pod wait.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PodView } from '../../src/reconcile/pod-views.js';
import { runBerth } from '../helpers/cli.js';
import { cleanUpHost } from '../helpers/host-cleanup.js';
import { buildImage, createLayout, type Layout, populateBusybox, pushImage } from '../helpers/images.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'unshare', 'findmnt'], {
  root: true,
});

const SECRET = 'pw-3f9c2b7e1d-never-shown';
const SECRET2 = 'pw-8a1d4c6f0b-never-shown';
const b64 = (s: string) => Buffer.from(s).toString('base64');

const objects = (page: string, mode: string, password: string) => `apiVersion: v1
kind: ConfigMap
metadata: {name: web-config}
data:
  index.html: "${page}"
  MODE: ${mode}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web-env}
data:
  MODE: ${mode}
  LEVEL: "3"
---
apiVersion: v1
kind: Secret
metadata: {name: db}
type: Opaque
data:
  password: ${b64(password)}
`;

const POD = (image: string) => `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web, tier: front}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: ${image}
      command: ["/bin/sh", "-c", "echo \\"started $(POD_NAME) as $GREETING\\"; trap 'exit 0' TERM; while true; do sleep 1; done"]
      envFrom:
        - {configMapRef: {name: web-env}, prefix: CFG_}
      env:
        - {name: MODE, valueFrom: {configMapKeyRef: {name: web-config, key: MODE}}}
        - {name: PASSWORD, valueFrom: {secretKeyRef: {name: db, key: password}}}
        - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
        - {name: POD_NS, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
        - {name: APP, valueFrom: {fieldRef: {fieldPath: "metadata.labels['app']"}}}
        - {name: MEM_MI, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}}
        - {name: GREETING, value: "hi-$(POD_NAME)-$$(POD_NAME)-$(UNKNOWN)"}
      resources:
        limits: {memory: 48Mi}
      volumeMounts:
        - {name: config, mountPath: /etc/web}
        - {name: config, mountPath: /pinned.html, subPath: index.html}
        - {name: creds, mountPath: /etc/db}
        - {name: info, mountPath: /etc/podinfo}
  volumes:
    - name: config
      configMap: {name: web-config}
    - name: creds
      secret: {secretName: db, defaultMode: 0400}
    - name: info
      downwardAPI:
        items:
          - {path: labels, fieldRef: {fieldPath: metadata.labels}}
          - {path: name, fieldRef: {fieldPath: metadata.name}}
`;

describe.skipIf(skip)('ConfigMaps, Secrets, downward API', () => {
  let registry: TestRegistry;
  let layout: Layout;
  let work: string;
  let dir: string;
  let root: string;
  let state: string;
  let image: string;
  const berth = (...args: string[]) => runBerth(['--root', root, '--state', state, ...args]);
  const exec = async (...cmd: string[]) => {
    const r = await berth('container', 'exec', 'web_main', '--', ...cmd);
    expect(r.stderr).toBe('');
    return r.stdout;
  };
  const mainId = async () =>
    (
      JSON.parse((await berth('container', 'ls', '-o', 'json')).stdout) as Array<{ name: string; id: string }>
    ).find((c) => c.name === 'web_main')?.id;
  /** Every file under `top` holding `needle`, with its mode, that any user may read. */
  const worldReadableWith = async (top: string, needle: string): Promise<string[]> => {
    const out: string[] = [];
    const walk = async (d: string): Promise<void> => {
      for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
        const p = join(d, e.name);
        if (e.isDirectory() && !(await isMount(p))) await walk(p);
        else if (e.isFile()) {
          const st = await stat(p);
          if (st.size > 4 << 20 || !(st.mode & 0o004)) continue;
          const text = await readFile(p).catch(() => Buffer.alloc(0)); // a kernel file (cgroup, proc)
          if (text.includes(needle)) out.push(p);
        }
      }
    };
    await walk(top);
    return out;
  };
  const mounts = () => execFileSync('findmnt', ['-rn', '-o', 'TARGET,FSTYPE']).toString();
  const isMount = async (p: string) =>
    mounts()
      .split('\n')
      .some((l) => l.split(' ')[0] === p && !l.includes('overlay'));

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-configs-'));
    root = join(work, 'root');
    state = join(work, 'state');
    dir = join(work, 'manifests');
    registry = await startRegistry();
    layout = await createLayout();
    await buildImage(layout, 'busybox', [populateBusybox], { cmd: '/bin/sh' });
    image = `${registry.host}/demo/busybox:1`;
    await pushImage(layout, 'busybox', image);
    await rm(dir, { recursive: true, force: true });
    await execFileSync('mkdir', ['-p', dir]);
    await writeFile(join(dir, 'objects.yaml'), objects('v1', 'fast', SECRET));
    await writeFile(join(dir, 'web.yaml'), POD(image));
  }, 180_000);
  afterAll(async () => {
    const { leaked } = await cleanUpHost({ berth, work, folders: [dir, join(work, 'examples')] });
    await registry?.stop();
    await layout?.cleanup();
    await removeTempRoot(work);
    expect(leaked).toEqual([]);
  });

  it('env from references, $(VAR), downward API env and files; the Secret a 0400 file on tmpfs', async () => {
    const apply = await berth('apply', dir);
    expect([apply.code, apply.stderr]).toEqual([0, '']);
    expect(
      await exec(
        '/bin/sh',
        '-c',
        'echo "$MODE|$CFG_MODE|$CFG_LEVEL|$PASSWORD|$POD_NAME|$POD_NS|$APP|$MEM_MI|$GREETING"',
      ),
    ).toBe(`fast|fast|3|${SECRET}|web|default|web|48|hi-web-$(POD_NAME)-$(UNKNOWN)\n`);
    expect(await exec('cat', '/etc/web/index.html', '/pinned.html')).toBe('v1v1');
    expect(await exec('cat', '/etc/db/password')).toBe(SECRET);
    expect(await exec('/bin/sh', '-c', 'stat -L -c "%a %u" /etc/db/password')).toBe('400 0\n');
    expect(await exec('cat', '/etc/podinfo/labels', '/etc/podinfo/name')).toBe(
      'app="web"\ntier="front"\nweb',
    );
    // The Secret's volume is a tmpfs, on the host and in the container; the ConfigMap's is not.
    const fsOf = (p: string) =>
      execFileSync('findmnt', ['-rn', '-o', 'FSTYPE', '-T', p]).toString().trim().split('\n')[0];
    expect(fsOf(join(root, 'pods', 'web', 'volumes', 'creds'))).toBe('tmpfs');
    expect(fsOf(join(root, 'pods', 'web', 'volumes', 'info'))).toBe('tmpfs');
    expect(await exec('/bin/sh', '-c', "grep ' /etc/db ' /proc/mounts | cut -d' ' -f3,4 | cut -d, -f1")).toBe(
      'tmpfs ro\n',
    );
    expect((await berth('logs', 'web')).stdout).toBe('started web as hi-web-$(POD_NAME)-$(UNKNOWN)\n');
  });

  it('a ConfigMap edit updates the mounted files in place: same container, a subPath keeps its content', async () => {
    const id = await mainId();
    await writeFile(join(dir, 'objects.yaml'), objects('v2', 'fast', SECRET));
    const plan = await berth('plan', dir);
    expect([plan.code, plan.stdout]).toEqual([
      2,
      'write-volume web: volume config ConfigMap web-config changed: updated in place\n',
    ]);
    expect((await berth('apply', dir)).code).toBe(0);
    expect(await exec('cat', '/etc/web/index.html', '/pinned.html')).toBe('v2v1');
    expect(await mainId()).toBe(id);
    const again = await berth('plan', dir);
    expect([again.code, again.stdout]).toEqual([0, 'nothing to do: the host matches the manifests\n']);
  });

  it('a changed key used in env recreates the container, and the plan names the key', async () => {
    await writeFile(join(dir, 'objects.yaml'), objects('v2', 'slow', SECRET));
    const plan = await berth('plan', dir);
    expect([plan.code, plan.stdout]).toEqual([
      2,
      'write-volume web: volume config ConfigMap web-config changed: updated in place\n' +
        'remove       web/main: ConfigMap web-config key MODE changed, ConfigMap web-env key MODE changed\n' +
        'run          web/main: ConfigMap web-config key MODE changed, ConfigMap web-env key MODE changed\n',
    ]);
    expect((await berth('apply', dir)).code).toBe(0);
    expect(await exec('/bin/sh', '-c', 'echo "$MODE|$CFG_MODE"')).toBe('slow|slow\n');
  });

  it('a changed Secret is named by key, its value in no output and no world-readable file', async () => {
    await writeFile(join(dir, 'objects.yaml'), objects('v2', 'slow', SECRET2));
    const plan = await berth('plan', dir);
    expect([plan.code, plan.stdout]).toEqual([
      2,
      'write-volume web: volume creds Secret db changed: updated in place\n' +
        'remove       web/main: Secret db key password changed\n' +
        'run          web/main: Secret db key password changed\n',
    ]);
    const planJson = await berth('plan', dir, '-o', 'json');
    const apply = await berth('apply', dir, '-o', 'json');
    expect(apply.code).toBe(0);
    expect(await exec('cat', '/etc/db/password')).toBe(SECRET2);
    const ps = await berth('ps', '-o', 'json');
    expect((JSON.parse(ps.stdout) as PodView[]).map((p) => [p.name, p.phase])).toEqual([['web', 'Running']]);
    const logs = await berth('logs', 'web');
    const outputs = [plan, planJson, apply, ps, logs, await berth('ps')]
      .map((r) => r.stdout + r.stderr)
      .join('\n');
    for (const s of [SECRET, SECRET2, b64(SECRET), b64(SECRET2)]) expect(outputs).not.toContain(s);
    expect(await worldReadableWith(root, SECRET2)).toEqual([]);
    expect(await worldReadableWith(state, SECRET2)).toEqual([]);
  });

  it("the examples' web server serves its ConfigMap to its sidecar; the downward-API consumer prints itself", async () => {
    const folder = join(work, 'examples');
    await mkdir(folder);
    for (const f of ['site.yaml', 'podinfo.yaml']) {
      const text = await readFile(new URL(`../../examples/manifests/${f}`, import.meta.url), 'utf8');
      await writeFile(join(folder, f), text.replaceAll('127.0.0.1:5000', registry.host));
    }
    const apply = await berth('apply', folder);
    expect([apply.code, apply.stderr]).toEqual([0, '']);
    let fetched = '';
    for (let i = 0; i < 100 && !fetched.includes('<h1>'); i++) {
      fetched = (await berth('logs', 'site/fetcher')).stdout;
      if (!fetched.includes('<h1>')) await new Promise((r) => setTimeout(r, 200));
    }
    expect(fetched.split('\n')[0]).toBe('<h1>served by berth</h1>');
    expect((await berth('logs', 'site/httpd')).stdout).toBe('serving /www with a token of 20 characters\n');
    expect((await berth('logs', 'podinfo')).stdout).toBe(
      `podinfo in default on ${hostname()}, limit 24 MiB\napp="podinfo"\ntier="demo"\n`,
    );
    await rm(folder, { recursive: true });
    expect((await berth('apply', folder)).code).not.toBe(0); // a missing folder removes nothing
    await mkdir(folder);
    expect((await berth('apply', folder)).code).toBe(0); // an empty one removes its pods
  });

  it('a missing reference: the pod waits with the reason in ps, the folder is not in error', async () => {
    await writeFile(
      join(dir, 'lonely.yaml'),
      `apiVersion: v1\nkind: Pod\nmetadata: {name: lonely}\nspec:\n  containers:\n    - name: main\n      image: ${image}\n` +
        '      envFrom: [{secretRef: {name: absent}}]\n',
    );
    const validate = await berth('validate', dir);
    expect(validate.code).toBe(0);
    const apply = await berth('apply', dir);
    expect([apply.code, apply.stderr]).toEqual([0, '']);
    const lonely = (JSON.parse((await berth('ps', '-o', 'json')).stdout) as PodView[]).find(
      (p) => p.name === 'lonely',
    );
    expect([lonely?.phase, lonely?.waiting]).toEqual(['Pending', 'lonely: waiting for Secret absent']);
    // The table says it too: the wait follows the table, once, named by its pod.
    const table = (await berth('ps')).stdout.split('\n');
    expect(table.filter((l) => l.includes('waiting for'))).toEqual(['lonely: waiting for Secret absent']);
    expect(table.at(-2)).toBe('lonely: waiting for Secret absent');
    await rm(join(dir, 'lonely.yaml'));
  });
});
