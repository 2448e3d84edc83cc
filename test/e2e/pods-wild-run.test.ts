// Pod files as people publish them (test/fixtures/pods-wild: kubeadm and rke2 static pods, the
// Kubernetes docs' task examples, kubectl run and podman kube generate output, multi-document, JSON,
// CRLF and anchored files) run for real, as root, with runc, conmon and overlayfs, one file at a
// time: each loads, `berth apply` runs it, its init containers exit 0 and its sidecars and app
// containers run. What one host cannot have is made local, by one rule for every file: each image is
// a busybox from a loopback registry (an app container or sidecar sleeps, an init container runs
// `true`: the published commands need their own images), probes are dropped (they run only under the
// daemon), a hostPath lives under the test's directory (a File made there first), and a hostPort
// is a free one; the grace period is 1 s. Everything else (security contexts, sysctls, seccomp, user namespaces, shared PID
// namespaces, downward API, ConfigMap volumes, DNS, limits of 0, scheduler fields) is run as written.
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import type { PodView } from '../../src/reconcile/pod-views.js';
import { runBerth } from '../helpers/cli.js';
import { freePort } from '../helpers/free-port.js';
import { cleanUpHost } from '../helpers/host-cleanup.js';
import { buildImage, createLayout, type Layout, populateBusybox, pushImage } from '../helpers/images.js';
import { missingPrereqs } from '../helpers/prereqs.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const skip = missingPrereqs(['runc', 'conmon', 'docker-registry', 'skopeo', 'umoci', 'unshare'], {
  root: true,
});

const FIXTURES = new URL('../fixtures/pods-wild/', import.meta.url);
const FILES = [
  'anchors-containers.yaml',
  'api-warnings.yaml',
  'cap-sys-admin-no-escalation.yaml',
  'crlf-multi-doc.yaml',
  'docs-downward-resources.yaml',
  'docs-scheduling-fields.yaml',
  'docs-security-context.yaml',
  'docs-sidecar-grpc.yaml',
  'docs-userns-shared-pid.yaml',
  'empty-values.yaml',
  'hand-written.json',
  'kubeadm-etcd.yaml',
  'kubeadm-kube-apiserver.yaml',
  'kubeadm-kube-scheduler.yaml',
  'kubectl-run-command.yaml',
  'multi-doc-service-configmap.yaml',
  'objects-beside.yaml',
  'podman-kube-generate.yaml',
  'rke2-etcd.yaml',
  'rke2-kube-proxy.yaml',
  // Published static pods and demos (a `# Source:` comment names each).
  'device-dlb-requests-limits.yaml',
  'docs-sidecar-before-app.yaml',
  'podman-quadlet-webpod.yaml',
  'static-keepalived-file-mounts.yaml',
  'static-keepalived-privileged.yaml',
  'static-kube-vip-drop-all.yaml',
  // Round 26: the Kubernetes docs' examples and kubernetes' own test data.
  'docs-ambassador-sidecar.yaml',
  'docs-custom-dns.yaml',
  'docs-emptydir-mode.yaml',
  'docs-kyaml-dapi-volume-resources.yaml',
  'docs-kyaml-pod-level-resize.yaml',
  'docs-pod-level-container-scope.yaml',
  'docs-supplemental-groups-strict.yaml',
  'k8s-doc-yaml-ha-etcd.yaml',
  'k8s-doc-yaml-multi-pod.yaml',
  'k8s-hack-large-name.yaml',
  'k8s-hack-metadata-and-probes.yaml',
  'k8s-hack-restricted-localhost.yaml',
  // Round 27: the docs' KYAML examples, kubernetes' e2e manifests, a kube-vip template, and the
  // fields of Kubernetes 1.35-1.37 berth ignores (a scheduling group, a workload, eviction responders).
  'docs-adapter-sidecar.yaml',
  'docs-kyaml-capabilities-add.yaml',
  'docs-kyaml-dapi-resource-env.yaml',
  'docs-kyaml-spread-node-affinity.yaml',
  'docs-kyaml-cpu-limit-only.yaml',
  'k8s-e2e-agnhost-primary.yaml',
  'k8s-e2e-dns-frontend.yaml',
  'static-kube-vip-openshift.yaml',
  'sidecar-resize-policy.yaml',
  'scheduling-group.yaml',
  'workload-ref.yaml',
  'eviction-responders.yaml',
  'spread-match-label-keys-unlabelled.yaml',
  'dns-search-underscore.yaml',
  'helm-empty-strings.yaml',
  // Round 10: volume paths written ./ and // (cleaned as the kubelet cleans them), an optional
  // configMap item whose key no ConfigMap holds (the file left out).
  'volume-paths-dot-slash.yaml',
  'configmap-item-key-slash.yaml',
  'secret-base64-wrapped.yaml',
  // Round 11: an item path given twice (the last written), ./a beside a in a projected volume, a
  // dump's divisor "0" and 1000m, namespace and Secret type "" (a chart's unset values), a sidecar
  // under OnFailure.
  'configmap-items-same-path.yaml',
  'projected-items-dot-slash.yaml',
  'kubectl-get-divisor-zero.yaml',
  'helm-empty-namespace.yaml',
  'secret-service-account-token.yaml',
  'sidecar-restart-on-failure.yaml',
  // Round 12: a lone deprecated serviceAccount, [] for refused lists, a volume of only a name,
  // kompose's and helm's output, relaxed env names, empty pull secrets, a ConfigMap value left blank.
  'service-account-alone.yaml',
  'helm-empty-refused-lists.yaml',
  'volume-name-only.yaml',
  'kompose-pod.yaml',
  'kompose-service-claim-pod.yaml',
  'helm-nulls-everywhere.yaml',
  'envfrom-prefix-relaxed.yaml',
  'image-pull-secrets-empty-name.yaml',
  'configmap-blank-values.yaml',
  // Round 13: the pods CI systems make (Tekton's step waiting on a downward file, Argo's wait
  // sidecar, a Jenkins agent), a ConfigMap and Secret beside the pod (items with modes, a subPath,
  // an optional key absent), four projected sources with item modes, downward files with divisors, a
  // cpu request left blank (0), kubectl debug's copy and kubectl 1.34's run output.
  'tekton-taskrun-pod.yaml',
  'argo-workflow-pod.yaml',
  'jenkins-agent-pod.yaml',
  'configmap-secret-volumes-env.yaml',
  'projected-mixed-sources-modes.yaml',
  'downward-volume-ephemeral-divisor.yaml',
  'helm-resources-null-request.yaml',
  'kubectl-debug-copy-to.yaml',
  'kubectl-run-1-34-dry-run.yaml',
  'kustomize-build-name-prefix.yaml',
  'emptydir-size-odd-quantities.yaml',
];

type Obj = Record<string, unknown>;
const list = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);

describe.skipIf(skip)('pods as people write them, run', () => {
  let registry: TestRegistry;
  let layout: Layout;
  let work: string;
  let dir: string;
  let root: string;
  let state: string;
  let image: string;
  const berth = (...args: string[]) => runBerth(['--root', root, '--state', state, ...args]);

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-podswild-'));
    root = join(work, 'root');
    state = join(work, 'state');
    dir = join(work, 'manifests');
    await mkdir(dir);
    await chmod(work, 0o711); // a hostUsers: false pod's root walks down to its rootfs
    // docs-security-context's Localhost profile, under the root as under the kubelet's.
    await mkdir(join(root, 'seccomp', 'profiles'), { recursive: true });
    await writeFile(join(root, 'seccomp', 'profiles', 'audit.json'), '{"defaultAction": "SCMP_ACT_LOG"}\n');
    // k8s-hack-restricted-localhost's profile (kubectl's test data names a dummy one).
    await writeFile(join(root, 'seccomp', 'dummy.json'), '{"defaultAction": "SCMP_ACT_ALLOW"}\n');
    registry = await startRegistry();
    layout = await createLayout();
    await buildImage(layout, 'busybox', [populateBusybox], { cmd: '/bin/sh' });
    image = `${registry.host}/wild/busybox:1`;
    await pushImage(layout, 'busybox', image);
  }, 180_000);
  afterAll(async () => {
    const { leaked } = await cleanUpHost({ berth, work, folders: [dir] });
    await registry?.stop();
    await layout?.cleanup();
    await removeTempRoot(work);
    expect(leaked).toEqual([]);
  });

  /** The one rule that makes a published pod local (see the top of the file). */
  async function localise(pod: Obj): Promise<void> {
    const spec = pod.spec as Obj;
    spec.terminationGracePeriodSeconds = 1; // sleep as PID 1 ignores SIGTERM: the next file sooner
    for (const [kind, items] of [
      ['init', list(spec.initContainers)],
      ['app', list(spec.containers)],
    ] as const)
      for (const c of items) {
        c.image = image;
        c.command = kind === 'init' && c.restartPolicy !== 'Always' ? ['true'] : ['sleep', '3600'];
        delete c.args;
        for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) delete c[probe];
        for (const p of list(c.ports)) if (p.hostPort && !spec.hostNetwork) p.hostPort = await freePort();
      }
    for (const v of list(spec.volumes)) {
      const hp = v.hostPath as { path: string; type?: string } | undefined;
      if (!hp) continue;
      hp.path = join(work, 'host', hp.path);
      if (hp.type === 'File') {
        await mkdir(dirname(hp.path), { recursive: true });
        await writeFile(hp.path, '');
      } else if (hp.type === 'Directory') await mkdir(hp.path, { recursive: true });
    }
  }

  it.each(FILES)(
    '%s runs',
    async (file) => {
      const text = await readFile(new URL(file, FIXTURES), 'utf8');
      // YAML 1.1, as Kubernetes reads it (`0755` is octal, `<<` merges), so what is written is the same pod.
      const docs = parseAllDocuments(text, { version: '1.1' }).map((d) => d.toJS() as Obj | null);
      const pods = docs.filter((d): d is Obj => d?.kind === 'Pod');
      for (const pod of pods) await localise(pod);
      const target = join(dir, file.replace(/\.json$/, '.yaml'));
      await writeFile(
        target,
        docs
          .filter((d) => d !== null)
          .map((d) => stringify(d))
          .join('---\n'),
      );

      try {
        const apply = await berth('apply', dir);
        expect([apply.code, apply.stderr.split('\n').filter((l) => !/WARN_/.test(l))]).toEqual([0, ['']]);
        const views = JSON.parse((await berth('ps', '-o', 'json')).stdout) as PodView[];
        for (const pod of pods) {
          const meta = pod.metadata as { name: string; namespace?: string };
          const name =
            meta.namespace && meta.namespace !== 'default' ? `${meta.namespace}.${meta.name}` : meta.name;
          const view = views.find((v) => v.name === name);
          const spec = pod.spec as Obj;
          const sidecars = new Set(
            list(spec.initContainers)
              .filter((c) => c.restartPolicy === 'Always')
              .map((c) => c.name),
          );
          const want = [
            ...list(spec.initContainers).map((c) =>
              sidecars.has(c.name) ? [c.name, 'running', null] : [c.name, 'exited', 0],
            ),
            ...list(spec.containers).map((c) => [c.name, 'running', null]),
          ];
          expect([name, view?.containers.map((c) => [c.name, c.state, c.lastError ?? c.exitCode])]).toEqual([
            name,
            want,
          ]);
        }
      } finally {
        // Gone from the folder, gone from the host, before the next file.
        await rm(target);
        expect((await berth('apply', dir)).code).toBe(0);
      }
    },
    120_000,
  );
});
