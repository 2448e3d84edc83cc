import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/lib/yaml-validate.js';
import { namespaceOfIdentity } from '../../src/manifest/identity.js';
import { loadManifests } from '../../src/manifest/load.js';
import { desiredState } from '../../src/reconcile/desired.js';
import { podViews } from '../../src/reconcile/pod-views.js';
import { manifestFolders } from '../helpers/manifest-folders.js';
import { TEST_HOST } from '../helpers/observed.js';

const folder = manifestFolders('ns');
const pod = (name: string, ns?: string, annotations = '') =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n${ns === undefined ? '' : `  namespace: ${ns}\n`}${annotations}spec:\n  containers:\n    - name: main\n      image: busybox\n  volumes:\n    - name: data\n`;

describe('namespaces', () => {
  it('the same name in two namespaces is two pods, with their own safe names on disk', async () => {
    const d = await folder({ 'a.yaml': pod('web'), 'b.yaml': pod('web', 'shop') });
    const r = await loadManifests(d);
    expect(r.diagnostics).toEqual([]);
    const desired = desiredState(r.docs, TEST_HOST);
    expect(
      desired.pods.map((p) => ({
        name: p.name,
        home: p.home,
        netns: p.netnsPath,
        dirs: p.podDirs.map((x) => x.path),
        runtime: p.containers.map((c) => c.runtimeName),
        hostname: p.containers[0]?.settings.hostname,
      })),
    ).toEqual([
      {
        name: 'shop.web',
        home: '/r/pods/shop.web',
        netns: '/s/netns/pod-shop.web',
        dirs: ['/r/pods/shop.web/volumes/data'],
        runtime: ['shop.web_main'],
        hostname: 'web',
      },
      {
        name: 'web',
        home: '/r/pods/web',
        netns: '/s/netns/pod-web',
        dirs: ['/r/pods/web/volumes/data'],
        runtime: ['web_main'],
        hostname: 'web',
      },
    ]);
  });

  it('a pod in `default`, said or not, keeps the names it has today (nothing is recreated on upgrade)', async () => {
    const bare = desiredState((await loadManifests(await folder({ 'a.yaml': pod('web') }))).docs, TEST_HOST);
    const said = desiredState(
      (await loadManifests(await folder({ 'a.yaml': pod('web', 'default') }))).docs,
      TEST_HOST,
    );
    expect(said.pods.map((p) => ({ ...p, file: '' }))).toEqual(bare.pods.map((p) => ({ ...p, file: '' })));
  });

  it('a name with dots (a DNS subdomain, as a cluster takes) is always namespace-qualified: no collision with pod `web` of namespace `shop`', async () => {
    const long = `etcd-${'n'.repeat(60)}.ec2.internal`;
    const d = await folder({ 'a.yaml': pod('shop.web'), 'b.yaml': pod('web', 'shop'), 'c.yaml': pod(long) });
    const r = await loadManifests(d);
    expect(r.diagnostics).toEqual([]);
    const desired = desiredState(r.docs, TEST_HOST);
    expect(
      desired.pods.map((p) => ({
        name: p.name,
        netns: p.netnsPath,
        runtime: p.containers.map((c) => c.runtimeName),
        hostname: p.containers[0]?.settings.hostname,
      })),
    ).toEqual([
      {
        name: `default.${long}`,
        netns: `/s/netns/pod-default.${long}`,
        runtime: [`default.${long}_main`],
        hostname: `etcd-${'n'.repeat(58)}`, // cut to 63 as the kubelet does, no trailing '.'
      },
      {
        name: 'default.shop.web',
        netns: '/s/netns/pod-default.shop.web',
        runtime: ['default.shop.web_main'],
        hostname: 'shop.web',
      },
      { name: 'shop.web', netns: '/s/netns/pod-shop.web', runtime: ['shop.web_main'], hostname: 'web' },
    ]);
    expect(desired.pods.map((p) => namespaceOfIdentity(p.name))).toEqual(['default', 'default', 'shop']);
  });

  it('the same namespace and name twice is a duplicate', async () => {
    const d = await folder({ 'a.yaml': pod('web', 'shop'), 'b.yaml': pod('web', 'shop') });
    const r = await loadManifests(d);
    expect(r.diagnostics.map((x) => x.code)).toEqual(['ERR_MANIFEST_DUPLICATE', 'ERR_MANIFEST_DUPLICATE']);
    expect(r.docs).toEqual([]);
  });

  it.each([['../../etc'], ['a/b'], ['a.b'], ['Shop'], ['x'.repeat(64)]])(
    'a namespace that is not a DNS label (%s) is refused: it never reaches a path',
    async (ns) => {
      const d = await folder({ 'a.yaml': pod('web', JSON.stringify(ns)) });
      const r = await loadManifests(d);
      expect(r.docs).toEqual([]);
      expect(r.diagnostics.map(formatDiagnostic)).toEqual([
        ns.length > 63
          ? `${join(d, 'a.yaml')}:5:14: ERR_MANIFEST_SCHEMA: metadata.namespace must NOT have more than 63 characters`
          : `${join(d, 'a.yaml')}:5:14: ERR_MANIFEST_SCHEMA: metadata.namespace must be a DNS label: lowercase letters, digits and '-', starting and ending with a letter or digit (a cluster rejects it too)`,
      ]);
    },
  );

  it('depends-on names a pod of the same namespace', async () => {
    const needsDb = '  annotations:\n    berth.dev/depends-on: db\n';
    const d = await folder({
      'a.yaml': pod('web', 'shop', needsDb),
      'b.yaml': pod('db'), // in `default`: not the one shop/web means
    });
    const r = await loadManifests(d);
    expect(r.diagnostics.map((x) => x.message)).toEqual([
      'pod shop.web depends on "db", which no manifest defines',
    ]);
    const ok = await loadManifests(
      await folder({ 'a.yaml': pod('web', 'shop', needsDb), 'b.yaml': pod('db', 'shop') }),
    );
    expect(ok.diagnostics).toEqual([]);
    expect(desiredState(ok.docs, TEST_HOST).pods.find((p) => p.name === 'shop.web')?.dependsOn).toEqual([
      { pod: 'shop.db', condition: 'ready' },
    ]);
  });

  it('ps says the namespace', () => {
    const views = podViews([], {
      manifests: '/m',
      pods: {
        web: { file: '/m/a.yaml', containers: ['main'], initContainers: [] },
        'shop.web': { file: '/m/b.yaml', containers: ['main'], initContainers: [] },
      },
      failures: {},
    } as unknown as Parameters<typeof podViews>[1]);
    expect(views.map((v) => [v.name, v.namespace])).toEqual([
      ['shop.web', 'shop'],
      ['web', 'default'],
    ]);
  });
});
