// The corpus of Pod manifests other people wrote (test/fixtures/pods-corpus, byte for byte from the
// repositories SOURCES.tsv names; vendored so a fresh clone has it). Each file's exact verdict and
// diagnostics (`LINE:COL CODE`) are asserted, so a regression shows; the tally is printed.
// Verdicts: accepted (no diagnostic), warned (warnings only: it runs), refused (errors only for
// fields of the refused tier, ERR_MANIFEST_UNSUPPORTED), invalid (any other error).
// `BERTH_CORPUS_PRINT=1` prints the table as it now is, to paste here after a deliberate change.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseFile } from '../../src/manifest/parse.js';
import { isError } from '../../src/manifest/severity.js';

const DIR = new URL('../fixtures/pods-corpus/', import.meta.url);
type Verdict = 'accepted' | 'warned' | 'refused' | 'invalid';

const EXPECTED: Record<string, [Verdict, string[]]> = {
  'ansible-podman-collections__tests_integration_targets_podman_play_tasks_files_kube-buil-test.yaml': [
    'warned',
    ['11:3 WARN_MANIFEST_IGNORED'],
  ],
  'ansible-podman-collections__tests_integration_targets_podman_play_tasks_files_multi-yaml.yaml': [
    'invalid',
    ['1:7 ERR_MANIFEST_KIND'],
  ],
  'ansible-podman-collections__tests_integration_targets_podman_play_tasks_files_play-pod.yaml': [
    'accepted',
    [],
  ],
  'asktiger-k8s-ha__manifests_haproxy.yaml': ['warned', ['13:3 WARN_MANIFEST_IGNORED']],
  'asktiger-k8s-ha__manifests_keepalived.yaml': ['warned', ['13:3 WARN_MANIFEST_IGNORED']],
  'caasp-container-manifests__manifests_haproxy.yaml': [
    'warned',
    ['11:47 WARN_MANIFEST_IGNORED', '15:3 WARN_MANIFEST_IGNORED'],
  ],
  'caasp-container-manifests__manifests_public.yaml': ['accepted', []],
  'codeflick__podman-pod.yaml': ['accepted', []],
  'containersolutions-examples__Pod_spec.containers.volumeMounts.subPathExpr_subpathexpr.yaml': [
    'accepted',
    [],
  ],
  'containersolutions-examples__Pod_spec.containers.volumes.projected_projected.yaml': ['accepted', []],
  'containersolutions-examples__Pod_spec.terminationGracePeriodSeconds_simple.yaml': ['accepted', []],
  'containersolutions-examples__ServiceAccount_service-account-pod.yaml': [
    'warned',
    ['3:7 WARN_KIND_IGNORED', '13:7 WARN_KIND_IGNORED', '26:7 WARN_KIND_IGNORED'],
  ],
  'fetchit__examples_kube_2-example.yaml': ['accepted', []],
  'fetchit__examples_kube_3-example.yaml': ['invalid', ['12:9 ERR_MANIFEST_SCHEMA']],
  'formicaio__deploy_local_k8s_formicaio-pod.yaml': [
    'invalid',
    [
      '8:3 WARN_MANIFEST_IGNORED',
      '13:3 WARN_MANIFEST_IGNORED',
      '35:13 ERR_MANIFEST_SCHEMA',
      '37:13 ERR_MANIFEST_SCHEMA',
      '39:13 ERR_MANIFEST_SCHEMA',
      '55:11 WARN_MANIFEST_K8S_REJECTS',
      '56:11 WARN_MANIFEST_K8S_REJECTS',
      '57:11 WARN_MANIFEST_K8S_REJECTS',
      '61:13 ERR_MANIFEST_SCHEMA',
      '63:13 ERR_MANIFEST_SCHEMA',
      '64:3 WARN_MANIFEST_IGNORED',
      '68:11 ERR_MANIFEST_SCHEMA',
      '71:1 WARN_MANIFEST_IGNORED',
    ],
  ],
  'gatekeeper-library__library_pod-security-policy_apparmor_samples_psp-apparmor_disallowed_ephemeral.yaml': [
    'invalid',
    ['11:3 ERR_MANIFEST_UNSUPPORTED', '11:3 ERR_MANIFEST_SCHEMA'],
  ],
  'gatekeeper-library__library_pod-security-policy_host-probes-lifecycle_samples_psp-host-probes-lifecycle_disallowed_init_lifecycle.yaml':
    ['invalid', ['12:7 ERR_MANIFEST_SCHEMA']],
  'gatekeeper-library__library_pod-security-policy_host-process_samples_psp-host-process_example_disallowed_pod_level.yaml':
    ['warned', ['9:5 WARN_MANIFEST_IGNORED']],
  'gatekeeper-library__library_pod-security-policy_proc-mount_samples_psp-proc-mount_example_disallowed.yaml':
    ['accepted', []],
  'go-pb__podman-kube.yaml': ['accepted', []],
  'ichuncun-python__manifests_haproxy.yaml': ['warned', ['13:3 WARN_MANIFEST_IGNORED']],
  'ichuncun-python__manifests_keepalived.yaml': ['warned', ['13:3 WARN_MANIFEST_IGNORED']],
  'ichuncun-python__manifests_kube-controller-manager.yaml': [
    'warned',
    ['59:3 WARN_MANIFEST_IGNORED', '77:1 WARN_MANIFEST_IGNORED'],
  ],
  'k0s__pkg_applier_testdata_manager_test_stack1_pod.yaml': ['accepted', []],
  'k3s__tests_docker_resources_volume-test.yaml': ['accepted', []],
  'k3s__tests_integration_localstorage_testdata_localstorage_pod.yaml': [
    'invalid',
    ['11:5 ERR_MANIFEST_SCHEMA'],
  ],
  'k8s-examples___archived_cpu-manager_exclusive-2.yaml': ['accepted', []],
  'k8s-examples___archived_javaweb-tomcat-sidecar_javaweb.yaml': ['accepted', []],
  'k8s-examples___archived_storage_redis_redis-master.yaml': ['accepted', []],
  'k8s-examples___archived_storage_rethinkdb_admin-pod.yaml': ['accepted', []],
  'k8s-examples___archived_storage_vitess_vttablet-pod-template.yaml': [
    'invalid',
    [
      '4:9 ERR_MANIFEST_SCHEMA',
      '7:15 WARN_MANIFEST_K8S_REJECTS',
      '8:12 WARN_MANIFEST_K8S_REJECTS',
      '9:13 WARN_MANIFEST_K8S_REJECTS',
    ],
  ],
  'k8s-examples___archived_volumes_aws_ebs_aws-ebs-web.yaml': [
    'refused',
    ['12:21 WARN_MANIFEST_K8S_REJECTS', '18:7 ERR_MANIFEST_UNSUPPORTED'],
  ],
  'k8s-examples__databases_mysql-cinder-pd_mysql.yaml': ['refused', ['31:7 ERR_MANIFEST_UNSUPPORTED']],
  'k8s-website__content_en_examples_admin_logging_two-files-counter-pod-streaming-sidecar.yaml': [
    'accepted',
    [],
  ],
  'k8s-website__content_en_examples_pods_commands.yaml': ['accepted', []],
  'k8s-website__content_en_examples_pods_config_redis-pod.yaml': ['accepted', []],
  'k8s-website__content_en_examples_pods_emptydir-volume-mode.yaml': ['accepted', []],
  'k8s-website__content_en_examples_pods_image-volumes-subpath.yaml': ['accepted', []],
  'k8s-website__content_en_examples_pods_image-volumes.yaml': ['accepted', []],
  'k8s-website__content_en_examples_pods_init-containers.yaml': ['accepted', []],
  'k8s-website__content_en_examples_pods_inject_dapi-envars-container.yaml': ['accepted', []],
  'k8s-website__content_en_examples_pods_inject_dapi-envars-pod.yaml': ['accepted', []],
  'k8s-website__content_en_examples_pods_inject_dapi-volume-resources.yaml': ['accepted', []],
  'k8s-website__content_en_examples_pods_inject_dapi-volume.yaml': ['accepted', []],
  'k8s-website__content_en_examples_pods_inject_dependent-envars.yaml': ['accepted', []],
  'k8s-website__content_en_examples_pods_inject_envars-file-container.yaml': [
    'refused',
    [
      '9:48 WARN_YAML_ESCAPE',
      '9:57 WARN_YAML_ESCAPE',
      '9:75 WARN_YAML_ESCAPE',
      '9:85 WARN_YAML_ESCAPE',
      '20:13 ERR_MANIFEST_UNSUPPORTED',
    ],
  ],
  'k8s-website__content_en_examples_pods_inject_pod-single-secret-env-variable.yaml': [
    'invalid',
    ['1:7 ERR_MANIFEST_KIND'],
  ],
  'k8s-website__content_en_examples_pods_inject_secret-pod.yaml': ['accepted', []],
  'k8s-website__content_en_examples_pods_lifecycle-events.yaml': ['accepted', []],
  'k8s-website__content_en_examples_pods_multi-container_adapter.yaml': ['accepted', []],
  'k8s-website__content_en_examples_pods_multi-container_ambassador.yaml': ['accepted', []],
  'k8s-website__content_en_examples_pods_multi-container_resources.yaml': ['accepted', []],
  'k8s-website__content_en_examples_pods_multi-container_startup-coordination.yaml': ['accepted', []],
  'k8s-website__content_en_examples_pods_pod-configmap-envFrom.yaml': ['accepted', []],
  'k8s-website__content_en_examples_pods_pod-configmap-volume-specific-key.yaml': ['accepted', []],
  'k8s-website__content_en_examples_pods_pod-configmap-volume.yaml': ['accepted', []],
  'k8s-website__content_en_examples_pods_pod-projected-svc-token.yaml': [
    'warned',
    ['16:9 WARN_MANIFEST_IGNORED'],
  ],
  // Its affinity gives `required…` the preference terms of `preferred…` (a documentation bug).
  'k8s-website__content_en_examples_pods_pod-with-node-affinity.yaml': [
    'invalid',
    ['6:3 WARN_MANIFEST_IGNORED', '9:7 ERR_MANIFEST_SCHEMA'],
  ],
  'k8s-website__content_en_examples_pods_pod-with-numeric-toleration.yaml': [
    'warned',
    ['17:5 WARN_MANIFEST_IGNORED'],
  ],
  'k8s-website__content_en_examples_pods_pod-with-scheduling-gates.yaml': [
    'warned',
    ['9:5 WARN_MANIFEST_IGNORED'],
  ],
  'k8s-website__content_en_examples_pods_private-reg-pod.yaml': ['invalid', ['8:12 ERR_REFERENCE_INVALID']],
  'k8s-website__content_en_examples_pods_probe_exec-liveness.yaml': ['accepted', []],
  'k8s-website__content_en_examples_pods_probe_grpc-liveness.yaml': ['invalid', ['13:7 ERR_MANIFEST_SCHEMA']],
  'k8s-website__content_en_examples_pods_probe_http-liveness.yaml': ['accepted', []],
  'k8s-website__content_en_examples_pods_probe_pod-with-http-healthcheck.yaml': ['accepted', []],
  'k8s-website__content_en_examples_pods_probe_tcp-liveness-readiness.yaml': ['accepted', []],
  'k8s-website__content_en_examples_pods_qos_qos-pod-5.yaml': ['accepted', []],
  'k8s-website__content_en_examples_pods_resource_extended-resource-pod.yaml': [
    'warned',
    ['14:31 WARN_MANIFEST_IGNORED', '17:31 WARN_MANIFEST_IGNORED'],
  ],
  // A pids limit at pod level: Kubernetes 1.34 admits cpu, memory and hugepages-<size> only.
  'k8s-website__content_en_examples_pods_resource_pod-level-pid-limit.yaml': [
    'refused',
    ['9:13 ERR_MANIFEST_UNSUPPORTED'],
  ],
  'k8s-website__content_en_examples_pods_resource_pod-level-resize.yaml': [
    'warned',
    ['12:7 WARN_MANIFEST_IGNORED', '28:7 WARN_MANIFEST_IGNORED'],
  ],
  'k8s-website__content_en_examples_pods_resource_pod-level-resource-managers-pod-scope-mixed.yaml': [
    'accepted',
    [],
  ],
  'k8s-website__content_en_examples_pods_resource_pod-level-resources.yaml': ['accepted', []],
  'k8s-website__content_en_examples_pods_resource_pod-resize.yaml': [
    'warned',
    ['13:7 WARN_MANIFEST_IGNORED'],
  ],
  'k8s-website__content_en_examples_pods_restart-policy_restart-all-containers.yaml': [
    'refused',
    ['32:17 ERR_MANIFEST_UNSUPPORTED'],
  ],
  'k8s-website__content_en_examples_pods_security_apparmor_hello-apparmor.yaml': [
    'warned',
    ['7:5 WARN_MANIFEST_IGNORED'],
  ],
  'k8s-website__content_en_examples_pods_security_hello-apparmor-2.yaml': [
    'warned',
    ['7:5 WARN_MANIFEST_IGNORED'],
  ],
  'k8s-website__content_en_examples_pods_security_seccomp_ga_audit-pod.yaml': ['accepted', []],
  'k8s-website__content_en_examples_pods_security_seccomp_ga_fine-pod.yaml': ['accepted', []],
  'k8s-website__content_en_examples_pods_security_seccomp_ga_violation-pod.yaml': ['accepted', []],
  'k8s-website__content_en_examples_pods_security_security-context-2.yaml': ['accepted', []],
  'k8s-website__content_en_examples_pods_security_security-context-4.yaml': ['accepted', []],
  'k8s-website__content_en_examples_pods_security_security-context-5.yaml': ['accepted', []],
  'k8s-website__content_en_examples_pods_security_security-context.yaml': ['accepted', []],
  'k8s-website__content_en_examples_pods_share-process-namespace.yaml': [
    'warned',
    ['13:5 WARN_MANIFEST_IGNORED'],
  ],
  'k8s-website__content_en_examples_pods_storage_projected-secret-downwardapi-configmap.yaml': [
    'accepted',
    [],
  ],
  'k8s-website__content_en_examples_pods_storage_pv-pod.yaml': ['accepted', []],
  'k8s-website__content_en_examples_pods_two-container-pod.yaml': ['accepted', []],
  'k8s-website__content_en_examples_pods_user-namespaces-stateless.yaml': ['accepted', []],
  'k8s-website__content_en_examples_service_networking_custom-dns.yaml': ['accepted', []],
  'k8s-website__content_en_examples_service_networking_hostaliases-pod.yaml': ['accepted', []],
  'kind__site_static_examples_ingress_usage.yaml': [
    'warned',
    ['17:7 WARN_SERVICE_IGNORED', '44:7 WARN_SERVICE_IGNORED', '56:7 WARN_KIND_IGNORED'],
  ],
  'kompose__script_test_fixtures_configmap-pod_output-k8s.yaml': ['warned', ['3:7 WARN_SERVICE_IGNORED']],
  'kompose__script_test_fixtures_envfile-interpolation_output-k8s.yaml': [
    'warned',
    ['3:7 WARN_SERVICE_IGNORED'],
  ],
  'kompose__script_test_fixtures_v2_output-k8s.yaml': [
    'invalid',
    [
      '3:7 WARN_SERVICE_IGNORED',
      '88:7 WARN_SERVICE_IGNORED',
      '104:7 WARN_SERVICE_IGNORED',
      '184:19 ERR_BAD_QUANTITY',
      '192:7 ERR_MANIFEST_KIND',
    ],
  ],
  'kops__tests_integration_update_cluster_additionalobjects_data_aws_s3_object_manifests-etcdmanager-main-master-us-test-1a_content.yaml':
    ['warned', ['146:3 WARN_MANIFEST_IGNORED', '147:3 WARN_MANIFEST_IGNORED', '179:1 WARN_MANIFEST_IGNORED']],
  'kops__tests_integration_update_cluster_additionalobjects_data_aws_s3_object_manifests-static-kube-apiserver-healthcheck_content.yaml':
    ['invalid', ['3:11 ERR_MANIFEST_SCHEMA', '32:1 WARN_MANIFEST_IGNORED']],
  'kube-linter__tests_checks_priority-class-name.yaml': [
    'invalid',
    [
      '3:7 ERR_MANIFEST_KIND',
      '16:3 WARN_MANIFEST_IGNORED',
      '16:3 ERR_MANIFEST_SCHEMA',
      '19:7 ERR_MANIFEST_KIND',
      '28:7 ERR_MANIFEST_KIND',
      '37:7 ERR_MANIFEST_KIND',
      '46:7 ERR_MANIFEST_KIND',
      '55:7 ERR_MANIFEST_KIND',
      '66:7 ERR_MANIFEST_KIND',
      '79:3 WARN_MANIFEST_IGNORED',
      '79:3 ERR_MANIFEST_SCHEMA',
      '82:7 ERR_MANIFEST_KIND',
      '91:7 ERR_MANIFEST_KIND',
      '100:7 ERR_MANIFEST_KIND',
      '109:7 ERR_MANIFEST_KIND',
      '118:7 ERR_MANIFEST_KIND',
    ],
  ],
  'kube-vip__testing_kind_egress.yaml': [
    'warned',
    ['30:7 WARN_SERVICE_IGNORED', '51:7 WARN_SERVICE_IGNORED'],
  ],
  'kubeadm-etc-kubernetes__manifests_etcd.yaml': [
    'warned',
    ['50:3 WARN_MANIFEST_IGNORED', '60:1 WARN_MANIFEST_IGNORED'],
  ],
  'kubeadm-etc-kubernetes__manifests_kube-apiserver.yaml': [
    'warned',
    ['66:3 WARN_MANIFEST_IGNORED', '80:1 WARN_MANIFEST_IGNORED'],
  ],
  'kubeadm-etc-kubernetes__manifests_kube-controller-manager.yaml': [
    'warned',
    ['62:3 WARN_MANIFEST_IGNORED', '84:1 WARN_MANIFEST_IGNORED'],
  ],
  'kubeadm-etc-kubernetes__manifests_kube-scheduler.yaml': [
    'warned',
    ['39:3 WARN_MANIFEST_IGNORED', '45:1 WARN_MANIFEST_IGNORED'],
  ],
  'kubeaudit__auditors_nonroot_fixtures_run-as-user-psc-0-run-as-non-root-psc-true.yaml': ['accepted', []],
  'kubeaudit__internal_test_fixtures_all_resources_pod.yaml': ['warned', ['2:7 WARN_KIND_IGNORED']],
  'opensoho__podman-kube.yaml': ['accepted', []],
  'otel-kubeadm__manifests_etcd.yaml': [
    'warned',
    ['72:3 WARN_MANIFEST_IGNORED', '85:1 WARN_MANIFEST_IGNORED'],
  ],
  'otel-kubeadm__manifests_kube-apiserver.yaml': [
    'warned',
    ['94:3 WARN_MANIFEST_IGNORED', '115:1 WARN_MANIFEST_IGNORED'],
  ],
  'podman-recipes__pods_databases.yaml': [
    'warned',
    ['53:18 WARN_EMPTYDIR_SIZE_NOT_ENFORCED', '56:18 WARN_EMPTYDIR_SIZE_NOT_ENFORCED'],
  ],
  'podman-recipes__pods_nginx.yaml': [
    'warned',
    ['16:14 WARN_MANIFEST_K8S_REJECTS', '18:14 WARN_MANIFEST_K8S_REJECTS', '20:14 WARN_MANIFEST_K8S_REJECTS'],
  ],
  'podman-recipes__pods_traefik_traefik.yaml': [
    'invalid',
    ['19:18 WARN_MANIFEST_K8S_REJECTS', '20:13 ERR_MANIFEST_SCHEMA', '31:11 ERR_MANIFEST_SCHEMA'],
  ],
  'podman-recipes__pods_traefik_whoami-secure.yaml': [
    'warned',
    [
      '6:46 WARN_MANIFEST_K8S_REJECTS',
      '7:67 WARN_MANIFEST_K8S_REJECTS',
      '9:52 WARN_MANIFEST_K8S_REJECTS',
      '19:14 WARN_MANIFEST_K8S_REJECTS',
    ],
  ],
  'podman-recipes__pods_whoami.yaml': ['warned', ['17:14 WARN_MANIFEST_K8S_REJECTS']],
  'rke2__tests_docker_resources_dnsutils.yaml': ['accepted', []],
  'rke2__tests_e2e_resource_files_multus-pods.yaml': ['invalid', ['2:7 ERR_MANIFEST_KIND']],
  'tenlastic-open-platform__kustomize_overlays_development_static_pods_workspace.yaml': ['accepted', []],
  'tf-kubeadm-otc__manifests_kube-vip.yaml': ['accepted', []],
};

/** Valid Kubernetes files that are still invalid here, and why. */
const AWAITING: Record<string, string> = {};

function verdictOf(codes: string[]): Verdict {
  const errors = codes.filter((c) => isError({ file: '', line: 0, col: 0, code: c, message: '' }));
  if (codes.length === 0) return 'accepted';
  if (errors.length === 0) return 'warned';
  return errors.every((c) => c === 'ERR_MANIFEST_UNSUPPORTED') ? 'refused' : 'invalid';
}

const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const actual = Object.fromEntries(
  files.map((f) => {
    const r = parseFile(readFileSync(new URL(f, DIR), 'utf8'), f);
    const lines = r.diagnostics.map((d) => `${d.line}:${d.col} ${d.code}`);
    return [f, [verdictOf(r.diagnostics.map((d) => d.code)), lines] as [Verdict, string[]]];
  }),
);
const sources = new Map(
  readFileSync(new URL('SOURCES.tsv', DIR), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split('\t'))
    .map((cols) => [cols[0] as string, cols[5] as string]),
);

describe('the pods corpus', () => {
  it('has every file of SOURCES.tsv', () => {
    expect(files).toEqual([...sources.keys()].filter((f) => f.endsWith('.yaml')).sort());
  });

  it('gives each file its exact verdict and diagnostics', () => {
    if (process.env.BERTH_CORPUS_PRINT)
      for (const [f, v] of Object.entries(actual))
        console.log(`  '${f}': ${JSON.stringify(v).replace(/"/g, "'")},`);
    const tally: Record<Verdict, number> = { accepted: 0, warned: 0, refused: 0, invalid: 0 };
    for (const [v] of Object.values(actual)) tally[v]++;
    console.log(
      `pods corpus: ${files.length} files: ${tally.accepted} accepted, ${tally.warned} warned, ${tally.refused} refused, ${tally.invalid} invalid`,
    );
    expect(actual).toEqual(EXPECTED);
  });

  it('never calls a valid Kubernetes file invalid (refused only for a refused-tier field)', () => {
    const wrong = files.filter(
      (f) => sources.get(f) === 'valid' && actual[f]?.[0] === 'invalid' && !(f in AWAITING),
    );
    expect(wrong).toEqual([]);
  });
});
