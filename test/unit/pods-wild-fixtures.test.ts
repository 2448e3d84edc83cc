// Pod files written the way people write them (test/fixtures/pods-wild: from memory of the Kubernetes
// docs, helm output, `kubectl get -o yaml|json` dumps, blog posts; a file that opens with a `# Source:`
// comment is a published one, as its repository has it below that comment), each with what a cluster says of
// it and the exact diagnostics berth gives (`LINE:COL CODE`), so a regression shows. A file a cluster
// takes must load here (warnings allowed), but for the differences the README states (named below);
// one a cluster refuses must not load, or carry a WARN_MANIFEST_K8S_REJECTS (a slip podman tolerates).
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseFile } from '../../src/manifest/parse.js';
import { isError } from '../../src/manifest/severity.js';

const DIR = new URL('../fixtures/pods-wild/', import.meta.url);
type K8s = 'valid' | 'invalid';

const EXPECTED: Record<string, [K8s, string, string[]]> = {
  'anchors-top.yaml': ['valid', 'anchors for labels, merge keys in env', []],
  'anchors.yaml': [
    'invalid',
    'a compose-style x- key at the top (unknown field)',
    ['2:1 ERR_MANIFEST_SCHEMA'],
  ],
  'crlf-bom.yaml': ['valid', 'a BOM, CRLF line ends, a block scalar command', []],
  'deployment-and-pod.yaml': [
    'valid',
    'a Deployment beside a debug Pod; a `...` end marker',
    ['3:7 ERR_MANIFEST_KIND', '27:5 WARN_MANIFEST_IGNORED'],
  ],
  'doc-end-markers.yaml': ['valid', '%YAML 1.2, ---/... markers, ConfigMap + Pod with hostPort', []],
  'env-refs.yaml': [
    'valid',
    'fieldRef (labels[...], annotations[...]), resourceFieldRef with divisors, $(VAR)',
    [],
  ],
  'envfrom-prefix.yaml': [
    'valid',
    'envFrom with prefix, optional, ConfigMap and Secret (stringData + data)',
    [],
  ],
  'generatename-only.yaml': [
    'valid',
    'generateName without name (kubectl create takes it)',
    ['4:3 WARN_MANIFEST_IGNORED', '4:3 ERR_MANIFEST_SCHEMA'],
  ],
  'generatename.yaml': [
    'invalid',
    'generateName, odd label keys, an empty annotation key',
    ['4:3 WARN_MANIFEST_IGNORED', '4:3 ERR_MANIFEST_SCHEMA', '11:5 WARN_MANIFEST_K8S_REJECTS'],
  ],
  'helm-test-hook.yaml': [
    'valid',
    "helm template: ServiceAccount, Service, a test hook Pod, '# Source:' comments",
    ['4:7 WARN_KIND_IGNORED', '17:7 WARN_SERVICE_IGNORED'],
  ],
  'invalid-affinity-no-terms.yaml': [
    'invalid',
    'nodeSelectorTerms: []',
    ['6:3 WARN_MANIFEST_IGNORED', '6:97 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-env-all-labels.yaml': [
    'invalid',
    'env fieldRef metadata.labels (the whole map)',
    ['11:41 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-seccomp-profile-type.yaml': [
    'invalid',
    'localhostProfile with type RuntimeDefault',
    ['6:78 ERR_MANIFEST_INVALID'],
  ],
  'invalid-service-account-name.yaml': [
    'invalid',
    'serviceAccountName Bad_Name',
    ['6:23 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-sleep-past-grace.yaml': [
    'invalid',
    'preStop sleep 100 s, grace 10 s',
    ['10:44 ERR_MANIFEST_INVALID'],
  ],
  'invalid-toleration-exists-value.yaml': [
    'invalid',
    'operator Exists with a value',
    ['6:3 WARN_MANIFEST_IGNORED', '6:51 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-topology-max-skew.yaml': [
    'invalid',
    'maxSkew: 0',
    ['6:3 WARN_MANIFEST_IGNORED', '6:41 ERR_MANIFEST_SCHEMA'],
  ],
  'kubectl-dump.yaml': [
    'valid',
    'kubectl run --dry-run=client -o yaml (creationTimestamp: null, status: {})',
    ['15:1 WARN_MANIFEST_IGNORED'],
  ],
  'kubectl-get-o-json.json': [
    'valid',
    'kubectl get pod -o json: status, tolerations, the service account projected volume',
    [
      '8:9 WARN_MANIFEST_IGNORED',
      '14:9 WARN_MANIFEST_IGNORED',
      '15:9 WARN_MANIFEST_IGNORED',
      '31:17 WARN_MANIFEST_IGNORED',
      '42:9 WARN_MANIFEST_IGNORED',
      '43:9 WARN_MANIFEST_IGNORED',
      '44:9 WARN_MANIFEST_IGNORED',
      '45:9 WARN_MANIFEST_IGNORED',
      '47:9 WARN_MANIFEST_IGNORED',
      '49:9 WARN_MANIFEST_IGNORED',
      '52:9 WARN_MANIFEST_IGNORED',
      '73:29 WARN_MANIFEST_IGNORED',
      '79:29 WARN_MANIFEST_IGNORED',
      '107:5 WARN_MANIFEST_IGNORED',
    ],
  ],
  'kubectl-get-pods-list.json': [
    'valid',
    'kubectl get pods -o json: a v1 List',
    [
      '8:17 WARN_MANIFEST_IGNORED',
      '12:17 WARN_MANIFEST_IGNORED',
      '13:17 WARN_MANIFEST_IGNORED',
      '32:25 WARN_MANIFEST_IGNORED',
      '37:17 WARN_MANIFEST_IGNORED',
      '41:13 WARN_MANIFEST_IGNORED',
    ],
  ],
  'kubectl-get-yaml.yaml': [
    'valid',
    'kubectl get pod -o yaml of a ReplicaSet pod: managedFields, ownerReferences, status',
    [
      '7:3 WARN_MANIFEST_IGNORED',
      '8:3 WARN_MANIFEST_IGNORED',
      '12:3 WARN_MANIFEST_IGNORED',
      '43:3 WARN_MANIFEST_IGNORED',
      '50:3 WARN_MANIFEST_IGNORED',
      '51:3 WARN_MANIFEST_IGNORED',
      '68:5 WARN_MANIFEST_IGNORED',
      '70:3 WARN_MANIFEST_IGNORED',
      '71:3 WARN_MANIFEST_IGNORED',
      '72:3 WARN_MANIFEST_IGNORED',
      '73:3 WARN_MANIFEST_IGNORED',
      '75:3 WARN_MANIFEST_IGNORED',
      '77:3 WARN_MANIFEST_IGNORED',
      '80:3 WARN_MANIFEST_IGNORED',
      '85:1 WARN_MANIFEST_IGNORED',
    ],
  ],
  'lifecycle.yaml': ['valid', 'postStart/preStop exec, httpGet by number and by port name, sleep', []],
  'odd-labels.yaml': [
    'valid',
    'odd but valid label keys, a numeric key, multi-line and JSON annotations',
    [],
  ],
  'probe-quoted-port.yaml': [
    'invalid',
    'httpGet port "80" (a string is a port name)',
    ['12:17 ERR_MANIFEST_SCHEMA'],
  ],
  'probes-named.yaml': ['valid', 'startup/liveness/readiness probes by port name, httpHeaders', []],
  'quantities.yaml': ['valid', '0.5, 500m, 128974848, 128e6, "1e3", 1Gi, 1G, .1, 1.5Gi', []],
  'quoted-grace.yaml': ['invalid', 'terminationGracePeriodSeconds: "30"', ['6:34 ERR_MANIFEST_SCHEMA']],
  'quoted-numbers.yaml': ['invalid', 'containerPort: "8080"', ['10:26 ERR_MANIFEST_SCHEMA']],
  'security.yaml': [
    // Kubernetes does not read capability names; the runtime (containerd) then fails on CAP_CAP_….
    'valid',
    'pod and container securityContext, sysctls (dotted and slashed), capabilities with CAP_',
    ['46:15 WARN_MANIFEST_K8S_REJECTS', '47:16 WARN_MANIFEST_K8S_REJECTS'],
  ],
  'sidecars.yaml': [
    'valid',
    'a native sidecar with a startupProbe, scheduler fields, hostAliases, shareProcessNamespace',
    [
      '21:3 WARN_MANIFEST_IGNORED',
      '23:3 WARN_MANIFEST_IGNORED',
      '24:3 WARN_MANIFEST_IGNORED',
      '27:3 WARN_MANIFEST_IGNORED',
      '36:3 WARN_MANIFEST_IGNORED',
      '55:3 WARN_MANIFEST_IGNORED',
    ],
  ],
  'tabs-indent.yaml': ['invalid', 'a tab as indentation', ['8:1 ERR_YAML_SYNTAX']],
  'tabs-values.yaml': ['valid', 'tabs between tokens and in a quoted string', []],
  'volumes.yaml': [
    'valid',
    'emptyDir (Memory, sizeLimit), hostPath types, configMap/secret items with modes, projected, downwardAPI, subPathExpr',
    ['51:18 WARN_EMPTYDIR_SIZE_NOT_ENFORCED'],
  ],
  'anchors-containers.yaml': [
    'valid',
    'containers from one anchor: <<: *worker, <<: [*worker], a merged resources map',
    [],
  ],
  'api-warnings.yaml': [
    'valid',
    'what the API takes with a warning: an env name twice, one containerPort in two containers, hostPort 5353 TCP and UDP, SCTP',
    [],
  ],
  'cap-sys-admin-no-escalation.yaml': [
    'valid',
    'allowPrivilegeEscalation: false beside SYS_ADMIN (only the literal CAP_SYS_ADMIN is refused)',
    [],
  ],
  'crlf-multi-doc.yaml': [
    'valid',
    'CRLF line ends: a ConfigMap script, a folded args item, a double-quoted annotation over two lines',
    [],
  ],
  'docs-downward-resources.yaml': [
    'valid',
    'downward API resourceFieldRef with divisors 1m and 1Mi in env and a volume, limits.ephemeral-storage in env',
    [],
  ],
  'docs-scheduling-fields.yaml': [
    // No overhead: a cluster sets it from a RuntimeClass and refuses one a pod file gives without one
    // (invalid-overhead-without-runtime-class.yaml).
    'valid',
    'os.name, preemptionPolicy, schedulingGates, readinessGates, topologySpreadConstraints, dnsConfig options, resizePolicy, FallbackToLogsOnError, optional envFrom',
    [
      '10:3 WARN_MANIFEST_IGNORED',
      '11:3 WARN_MANIFEST_IGNORED',
      '12:3 WARN_MANIFEST_IGNORED',
      '13:3 WARN_MANIFEST_IGNORED',
      '16:3 WARN_MANIFEST_IGNORED',
      '18:3 WARN_MANIFEST_IGNORED',
      '55:5 WARN_MANIFEST_IGNORED',
      '56:5 WARN_MANIFEST_IGNORED',
    ],
  ],
  'docs-security-context.yaml': [
    'valid',
    'capabilities add/drop, seccomp Localhost and RuntimeDefault, appArmorProfile pod and container, sysctls',
    ['14:5 WARN_MANIFEST_IGNORED', '30:7 WARN_MANIFEST_IGNORED', '39:7 WARN_MANIFEST_IGNORED'],
  ],
  'docs-sidecar-grpc.yaml': [
    'valid',
    'init container filling an emptyDir, a sidecar with grpc startup/readiness/liveness probes, a projected volume',
    [],
  ],
  'docs-userns-shared-pid.yaml': [
    'valid',
    'hostUsers: false with shareProcessNamespace, SYS_PTRACE, stdin/tty',
    ['18:5 WARN_MANIFEST_IGNORED'],
  ],
  'hand-written.json': ['valid', 'a JSON pod: numeric quantities, status.podIP, a probe by port name', []],
  'kubeadm-etcd.yaml': [
    'valid',
    'kubeadm etcd: hostNetwork, priority, probes on 127.0.0.1 with a query string, requests only, DirectoryOrCreate',
    ['63:3 WARN_MANIFEST_IGNORED', '64:3 WARN_MANIFEST_IGNORED', '77:1 WARN_MANIFEST_IGNORED'],
  ],
  'kubeadm-kube-apiserver.yaml': [
    'valid',
    'kubeadm kube-apiserver: HTTPS probes on the advertise address, cpu request only, hostPath File and DirectoryOrCreate',
    ['78:3 WARN_MANIFEST_IGNORED', '79:3 WARN_MANIFEST_IGNORED', '104:1 WARN_MANIFEST_IGNORED'],
  ],
  'kubeadm-kube-scheduler.yaml': [
    'valid',
    'kubeadm kube-scheduler: HTTPS probes on 127.0.0.1, a kubeconfig hostPath FileOrCreate',
    ['50:3 WARN_MANIFEST_IGNORED', '51:3 WARN_MANIFEST_IGNORED', '60:1 WARN_MANIFEST_IGNORED'],
  ],
  'kubectl-run-command.yaml': [
    'valid',
    'kubectl run --restart=Never --env --port -i -t --command --dry-run=client -o yaml',
    ['24:5 WARN_MANIFEST_IGNORED', '25:5 WARN_MANIFEST_IGNORED', '29:1 WARN_MANIFEST_IGNORED'],
  ],
  'multi-doc-service-configmap.yaml': [
    'valid',
    'a leading ---, an empty document, a trailing ---: ConfigMap, Service, Pod',
    ['15:7 WARN_SERVICE_IGNORED'],
  ],
  'podman-kube-generate.yaml': [
    'valid',
    'podman kube generate --service: header comments, Service with nodePort, podman annotations, CAP_ drops, hostPath and PVC, no trailing newline',
    [
      '6:7 WARN_SERVICE_IGNORED',
      '8:3 WARN_MANIFEST_IGNORED',
      '31:3 WARN_MANIFEST_IGNORED',
      '52:11 WARN_MANIFEST_K8S_REJECTS',
      '53:11 WARN_MANIFEST_K8S_REJECTS',
      '54:11 WARN_MANIFEST_K8S_REJECTS',
    ],
  ],
  'rke2-etcd.yaml': [
    'valid',
    "rke2's etcd static pod: metadata.uid, named ports, runAsUser 1001, hostPath File",
    ['12:3 WARN_MANIFEST_IGNORED', '76:3 WARN_MANIFEST_IGNORED', '97:1 WARN_MANIFEST_IGNORED'],
  ],
  'rke2-kube-proxy.yaml': [
    'valid',
    "rke2's kube-proxy static pod: privileged, probe host localhost, /lib/modules",
    ['12:3 WARN_MANIFEST_IGNORED', '64:3 WARN_MANIFEST_IGNORED', '82:1 WARN_MANIFEST_IGNORED'],
  ],
  'invalid-apparmor-localhost-no-profile.yaml': [
    'invalid',
    'appArmorProfile type Localhost without localhostProfile',
    ['11:7 WARN_MANIFEST_IGNORED', '12:9 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-duplicate-scheduling-gates.yaml': [
    'invalid',
    'a scheduling gate given twice',
    ['6:3 WARN_MANIFEST_IGNORED', '8:5 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-topology-min-domains-schedule-anyway.yaml': [
    'invalid',
    'minDomains with whenUnsatisfiable ScheduleAnyway',
    ['7:3 WARN_MANIFEST_IGNORED', '9:17 ERR_MANIFEST_SCHEMA'],
  ],
  'empty-values.yaml': [
    'valid',
    'empty lists and maps, an empty imagePullSecrets name, a digest image, cpu and memory limits of 0 (none)',
    ['11:5 WARN_MANIFEST_IGNORED'],
  ],
  'invalid-request-above-zero-limit.yaml': [
    'invalid',
    'a cpu request of 100m beside a cpu limit of 0',
    ['12:14 ERR_MANIFEST_INVALID'],
  ],
  'invalid-node-selector-key.yaml': [
    'invalid',
    'nodeSelector key "bad key!"',
    ['6:3 WARN_MANIFEST_IGNORED', '7:5 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-readiness-gate-type.yaml': [
    'invalid',
    'readinessGates conditionType "bad type!"',
    ['6:3 WARN_MANIFEST_IGNORED', '7:20 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-subdomain.yaml': [
    'invalid',
    'subdomain Bad_Sub',
    ['6:3 WARN_MANIFEST_IGNORED', '6:14 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-termination-message-policy.yaml': [
    'invalid',
    'terminationMessagePolicy Sometimes',
    ['9:5 WARN_MANIFEST_IGNORED', '9:31 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-overhead-quantity.yaml': [
    'invalid',
    'overhead cpu: lots',
    ['6:3 WARN_MANIFEST_IGNORED', '7:10 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-resource-name.yaml': [
    'invalid',
    'resources.limits.foo (no domain, not a standard name)',
    ['11:14 ERR_MANIFEST_INVALID'],
  ],
  'objects-beside.yaml': [
    'valid',
    'Secrets of type tls, dockerconfigjson (an imagePullSecret) and Opaque stringData, an immutable ConfigMap with binaryData, a PVC, a headless Service; subPaths of one volume',
    ['52:7 WARN_SERVICE_IGNORED'],
  ],
  'probes-hosts.yaml': [
    'valid',
    'a node agent: hostNetwork/PID/IPC, ClusterFirstWithHostNet, a sidecar under restartPolicy Never, status.hostIPs, ephemeral-storage, probe and hook hosts, hostPath /proc',
    ['44:28 WARN_MANIFEST_IGNORED', '47:28 WARN_MANIFEST_IGNORED'],
  ],
  'invalid-token-expiration.yaml': [
    'invalid',
    'a serviceAccountToken source with expirationSeconds 300 (a cluster takes 600 and more)',
    ['14:9 WARN_MANIFEST_IGNORED', '16:30 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-token-no-path.yaml': [
    'invalid',
    'a serviceAccountToken source with no path',
    ['14:9 WARN_MANIFEST_IGNORED', '15:11 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-secret-tls-no-key.yaml': [
    'invalid',
    'a kubernetes.io/tls Secret without tls.key, beside the Pod that mounts it',
    ['5:7 ERR_SECRET_INVALID'],
  ],
  'invalid-ephemeral-containers.yaml': [
    'invalid',
    "kubectl debug's ephemeral container pasted into a file (a cluster refuses it on create)",
    ['13:3 ERR_MANIFEST_UNSUPPORTED'],
  ],
  'invalid-cap-sys-admin-no-escalation.yaml': [
    'invalid',
    'allowPrivilegeEscalation: false beside CAP_SYS_ADMIN',
    ['13:15 WARN_MANIFEST_K8S_REJECTS', '13:15 ERR_MANIFEST_INVALID'],
  ],
  'invalid-cpu-divisor.yaml': ['invalid', 'limits.cpu divisor 500m', ['17:20 ERR_MANIFEST_INVALID']],
  'invalid-default-mode-decimal.yaml': [
    'invalid',
    'defaultMode: 755 (decimal, above 0777)',
    ['17:20 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-dns-none-without-config.yaml': [
    'invalid',
    'dnsPolicy None without dnsConfig',
    ['6:14 ERR_MANIFEST_INVALID'],
  ],
  'invalid-duplicate-container-names.yaml': [
    'invalid',
    'two containers named app',
    ['10:11 ERR_MANIFEST_INVALID'],
  ],
  'invalid-env-name-equals.yaml': ['invalid', 'env name JAVA_OPTS=-Xmx512m', ['11:13 ERR_MANIFEST_SCHEMA']],
  'invalid-env-value-and-valuefrom.yaml': [
    'invalid',
    'env with value and valueFrom',
    ['12:14 ERR_MANIFEST_INVALID'],
  ],
  'invalid-hostnetwork-hostport.yaml': [
    'invalid',
    'hostNetwork with hostPort 8080 for containerPort 80',
    ['12:17 ERR_MANIFEST_INVALID'],
  ],
  'invalid-image-trailing-space.yaml': [
    'invalid',
    'image with a trailing space',
    ['8:12 ERR_REFERENCE_INVALID'],
  ],
  'invalid-init-container-name-clash.yaml': [
    'invalid',
    'an init container and a container both named app',
    ['11:11 ERR_MANIFEST_INVALID'],
  ],
  'invalid-init-container-probe.yaml': [
    'invalid',
    'readinessProbe on an init container that is not a sidecar',
    ['11:7 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-item-path-dotdot.yaml': [
    'invalid',
    'configMap item path ../settings.ini',
    ['19:15 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-liveness-success-threshold.yaml': [
    'invalid',
    'livenessProbe successThreshold 3',
    ['13:25 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-memory-request-above-limit.yaml': [
    'invalid',
    'memory request 1Gi, limit 512Mi',
    ['12:17 ERR_MANIFEST_INVALID'],
  ],
  'invalid-mount-undefined-volume.yaml': [
    'invalid',
    'volumeMount of a volume not declared (html, declared htm)',
    ['10:13 ERR_MANIFEST_INVALID'],
  ],
  'invalid-negative-resources.yaml': ['invalid', 'cpu request -100m', ['11:14 ERR_BAD_QUANTITY']],
  'invalid-port-name-too-long.yaml': [
    'invalid',
    'port name of 21 characters',
    ['10:13 ERR_MANIFEST_INVALID'],
  ],
  'invalid-privileged-no-escalation.yaml': [
    'invalid',
    'privileged with allowPrivilegeEscalation: false',
    ['12:33 ERR_MANIFEST_INVALID'],
  ],
  'invalid-probe-two-handlers.yaml': [
    'invalid',
    'readinessProbe with httpGet and tcpSocket',
    ['10:7 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-seccomp-localhost-no-profile.yaml': [
    'invalid',
    'seccompProfile type Localhost without localhostProfile',
    ['8:13 ERR_MANIFEST_INVALID'],
  ],
  'invalid-share-pid-with-host-pid.yaml': [
    'invalid',
    'shareProcessNamespace with hostPID',
    ['7:26 ERR_MANIFEST_INVALID'],
  ],
  'invalid-subpath-absolute.yaml': ['invalid', 'subPath /nginx.conf', ['12:16 ERR_MANIFEST_SCHEMA']],
  'invalid-subpath-dotdot.yaml': ['invalid', 'subPath app/../../etc', ['12:16 ERR_MANIFEST_SCHEMA']],
  'invalid-sysctl-net-host-network.yaml': [
    'invalid',
    'net.* sysctl with hostNetwork',
    ['9:13 ERR_MANIFEST_INVALID'],
  ],
  'device-dlb-requests-limits.yaml': [
    'valid',
    'intel device plugins demo: dlb.intel.com/pf and /vf requested and limited alike, beside cpu and memory',
    [
      '14:27 WARN_MANIFEST_IGNORED',
      '18:27 WARN_MANIFEST_IGNORED',
      '26:27 WARN_MANIFEST_IGNORED',
      '30:27 WARN_MANIFEST_IGNORED',
    ],
  ],
  'device-dsa-workingdir.yaml': [
    'valid',
    'intel device plugins demo: a device limit only, workingDir with a trailing slash, a flow list of capabilities',
    ['20:42 WARN_MANIFEST_IGNORED'],
  ],
  'device-intel-gpu.yaml': [
    'valid',
    'intel device plugins demo: intel.com/gpu: 1 as the limit only (the request defaults to it), a `-` alone on its line',
    ['15:26 WARN_MANIFEST_IGNORED'],
  ],
  'device-qat-host-dev.yaml': [
    'valid',
    "intel device plugins demo: the host's /dev over the container's, a quoted '1' device request and limit, imagePullPolicy Never",
    ['24:32 WARN_MANIFEST_IGNORED', '26:32 WARN_MANIFEST_IGNORED'],
  ],
  'docs-apparmor-runtime-default.yaml': [
    'valid',
    'docs: pod appArmorProfile RuntimeDefault',
    ['10:5 WARN_MANIFEST_IGNORED'],
  ],
  'docs-kyaml-extended-resource.yaml': [
    'valid',
    'docs (KYAML): example.com/dongle: 2 requested and limited, an unquoted key with a slash',
    ['15:31 WARN_MANIFEST_IGNORED', '18:31 WARN_MANIFEST_IGNORED'],
  ],
  'docs-kyaml-memory-1000gi.yaml': [
    'valid',
    'docs (KYAML): 1000Gi of memory requested and limited (a scheduler leaves it Pending; one host sets the limit)',
    [],
  ],
  'docs-kyaml-pod-affinity.yaml': [
    'valid',
    'docs (KYAML): podAffinity and a weighted podAntiAffinity',
    ['10:5 WARN_MANIFEST_IGNORED'],
  ],
  'docs-kyaml-pod-level-memory.yaml': ['valid', 'docs (KYAML): pod-level memory request and limit', []],
  'docs-kyaml-toleration.yaml': [
    'valid',
    'docs (KYAML): a toleration with operator Exists',
    ['18:5 WARN_MANIFEST_IGNORED'],
  ],
  'docs-node-affinity-weights.yaml': [
    'valid',
    'docs: required node affinity beside two weighted preferences',
    ['7:3 WARN_MANIFEST_IGNORED'],
  ],
  'docs-pod-level-exclusive-sidecars.yaml': [
    // A kubelet with the static CPU manager refuses it at admission; the API server takes it.
    'valid',
    'docs: pod-level cpu and memory spent whole by a sidecar and the app, a second sidecar with none',
    [],
  ],
  'docs-seccomp-fields-ephemeral.yaml': [
    'invalid',
    'docs: ephemeralContainers in a file (a cluster refuses them on create), seccomp Unconfined, RuntimeDefault, Localhost',
    ['12:3 ERR_MANIFEST_UNSUPPORTED'],
  ],
  'docs-shared-volume-size-limit.yaml': [
    'valid',
    'docs: an init container fills an emptyDir with a sizeLimit, mounted read-only by the app',
    ['24:18 WARN_EMPTYDIR_SIZE_NOT_ENFORCED'],
  ],
  'docs-sidecar-before-app.yaml': [
    'valid',
    'docs: a native sidecar polling the app on localhost, a single-quoted shell string in a flow list',
    [],
  ],
  'docs-windows-emptydir.yaml': [
    'valid',
    'docs (KYAML): a Windows pod with a mountPath C:/scratch',
    ['17:20 ERR_MANIFEST_SCHEMA', '28:5 WARN_MANIFEST_IGNORED'],
  ],
  'docs-windows-hostpath.yaml': [
    'valid',
    'docs: a Windows pod with a hostPath and mountPath C:\\etc\\foo',
    ['12:18 ERR_MANIFEST_SCHEMA', '14:3 WARN_MANIFEST_IGNORED', '19:12 ERR_MANIFEST_SCHEMA'],
  ],
  'docs-windows-run-as-username-container.yaml': [
    'valid',
    'docs: windowsOptions runAsUserName at the pod and in a container, beta.kubernetes.io/os nodeSelector',
    ['8:5 WARN_MANIFEST_IGNORED', '15:9 WARN_MANIFEST_IGNORED', '17:3 WARN_MANIFEST_IGNORED'],
  ],
  'docs-windows-run-as-username.yaml': [
    'valid',
    'docs (KYAML): pod windowsOptions runAsUserName, kubernetes.io/os nodeSelector',
    ['11:7 WARN_MANIFEST_IGNORED', '24:5 WARN_MANIFEST_IGNORED'],
  ],
  'podman-quadlet-webpod.yaml': [
    'valid',
    'the YAML of a podman Quadlet .kube unit: nginx on hostPort 8084',
    [],
  ],
  'static-keepalived-file-mounts.yaml': [
    'valid',
    'keepalived static pod: hostPath files without a type, NET_BROADCAST, status: {}, no trailing newline',
    ['32:1 WARN_MANIFEST_IGNORED'],
  ],
  'static-keepalived-privileged.yaml': [
    'valid',
    "keepalived static pod: privileged with NET_ADMIN, kind before apiVersion, the critical-pod annotation, an env value '#PYTHON2BASH:[…]'",
    ['14:3 WARN_MANIFEST_IGNORED'],
  ],
  'static-kube-vip-drop-all.yaml': [
    'valid',
    'kube-vip manifest pod (v1.0.1): drop ALL beside NET_ADMIN/NET_RAW, env fieldRef spec.nodeName, hostAliases with hostNetwork, value :2112',
    ['61:1 WARN_MANIFEST_IGNORED'],
  ],
  'static-kube-vip-k3s.yaml': [
    'valid',
    'kube-vip static pod on k3s: the k3s kubeconfig as admin.conf, serviceAccountName default, priorityClassName',
    ['9:3 WARN_MANIFEST_IGNORED'],
  ],
  'static-kube-vip-kubeeasy.yaml': [
    'valid',
    'kube-vip manifest pod with comments after env values, SYS_TIME, a mirror registry image',
    ['58:1 WARN_MANIFEST_IGNORED'],
  ],
  'static-kube-vip-raspberry-pi.yaml': [
    'valid',
    'kube-vip manifest pod on a Raspberry Pi (wlan0): leader election, host aliases, a trailing blank line',
    ['71:1 WARN_MANIFEST_IGNORED'],
  ],
  'invalid-ephemeral-storage-over-limit.yaml': [
    'invalid',
    'ephemeral-storage request 20Gi, limit 10Gi',
    ['13:28 ERR_MANIFEST_INVALID', '16:28 WARN_MANIFEST_IGNORED'],
  ],
  'invalid-gpu-fraction.yaml': [
    'invalid',
    'nvidia.com/gpu: 0.5 ("half a GPU")',
    ['12:25 ERR_MANIFEST_INVALID'],
  ],
  'invalid-gpu-request-below-limit.yaml': [
    'invalid',
    'gpu.intel.com/i915 request 1, limit 2',
    ['12:29 ERR_MANIFEST_INVALID', '14:29 WARN_MANIFEST_IGNORED'],
  ],
  'invalid-gpu-request-only.yaml': [
    'invalid',
    'nvidia.com/gpu under requests only',
    ['14:25 ERR_MANIFEST_INVALID'],
  ],
  'invalid-hugepages-partial-page.yaml': ['invalid', 'hugepages-2Mi: 3Mi', ['13:24 ERR_MANIFEST_INVALID']],
  'invalid-hugepages-without-memory.yaml': [
    'invalid',
    'hugepages-2Mi without cpu or memory (the older docs example)',
    ['19:24 WARN_MANIFEST_IGNORED', '19:24 ERR_MANIFEST_INVALID'],
  ],
  'invalid-sysctl-twice.yaml': [
    'invalid',
    'one sysctl given twice with two values',
    ['13:13 ERR_MANIFEST_INVALID'],
  ],
  'invalid-topology-pair-twice.yaml': [
    'invalid',
    'two spread constraints on one topologyKey and whenUnsatisfiable',
    ['9:3 WARN_MANIFEST_IGNORED', '16:5 ERR_MANIFEST_INVALID'],
  ],
  'invalid-windows-options-linux.yaml': [
    'invalid',
    'spec.os.name linux beside windowsOptions',
    ['10:5 WARN_MANIFEST_IGNORED', '10:5 ERR_MANIFEST_INVALID'],
  ],
  // Round 26: published files (the Kubernetes docs' examples, kubectl's and the docs' test data in
  // kubernetes/kubernetes) and invalid-* files for the rules added with them.
  'docs-ambassador-sidecar.yaml': [
    'valid',
    'docs: a socat ambassador as a native sidecar with a containerPort, the app talking to localhost',
    [],
  ],
  'docs-apparmor-localhost-pod.yaml': [
    'valid',
    'docs: pod appArmorProfile type Localhost with its profile name',
    ['8:5 WARN_MANIFEST_IGNORED'],
  ],
  'docs-cgroup-options-read-write.yaml': [
    'valid',
    'docs: securityContext.cgroupOptions.mountMode ReadWrite (Kubernetes 1.36 alpha)',
    ['14:20 ERR_MANIFEST_UNSUPPORTED'],
  ],
  'docs-custom-dns.yaml': [
    'valid',
    'docs: dnsPolicy "None" with nameservers, searches and options (one with no value)',
    [],
  ],
  'docs-kyaml-dapi-volume-resources.yaml': [
    'valid',
    "docs (KYAML): downwardAPI volume items of a container's limits and requests with divisors, \\\\n in a double-quoted flow string",
    [],
  ],
  'docs-emptydir-mode.yaml': ['valid', 'docs: emptyDir mode 01777 (an octal with a leading 0)', []],
  'docs-env-file-key-ref.yaml': [
    'valid',
    "docs: env valueFrom.fileKeyRef filled by an init container, \\' escapes in a double-quoted command, no trailing newline",
    [
      '10:48 WARN_YAML_ESCAPE',
      '10:57 WARN_YAML_ESCAPE',
      '10:75 WARN_YAML_ESCAPE',
      '10:85 WARN_YAML_ESCAPE',
      '21:13 ERR_MANIFEST_UNSUPPORTED',
    ],
  ],
  'docs-kyaml-image-volume-subpath.yaml': ['valid', 'docs (KYAML): an image volume mounted by subPath', []],
  'docs-kyaml-numeric-toleration.yaml': [
    'valid',
    'docs (KYAML): a toleration with operator Gt and a numeric value (Kubernetes 1.35 alpha)',
    ['18:5 WARN_MANIFEST_IGNORED'],
  ],
  'docs-kyaml-pod-level-resize.yaml': [
    'valid',
    'docs (KYAML): pod-level cpu and memory, resizePolicy per container, a comment after a closing brace',
    ['13:7 WARN_MANIFEST_IGNORED', '29:7 WARN_MANIFEST_IGNORED'],
  ],
  'docs-kyaml-resize-policy.yaml': [
    'valid',
    'docs (KYAML): resizePolicy NotRequired and RestartContainer, comments inside flow mappings',
    ['14:7 WARN_MANIFEST_IGNORED'],
  ],
  'docs-kyaml-restart-all-containers.yaml': [
    'valid',
    'docs (KYAML): a sidecar restartPolicyRules action RestartAllContainers (Kubernetes 1.35 alpha), comments in flow lists',
    ['33:17 ERR_MANIFEST_UNSUPPORTED'],
  ],
  'docs-pod-level-container-scope.yaml': [
    'valid',
    'docs: pod-level 4 cpu and 4Gi, a sidecar with its own 2 cpu and 2Gi, two workers with none',
    [],
  ],
  'docs-pod-level-pid-limit.yaml': [
    'invalid',
    'docs: pod-level limits.pids "2048" (Kubernetes 1.37 alpha PerPodPIDLimit, off by default: a default cluster refuses pids)',
    ['10:13 ERR_MANIFEST_UNSUPPORTED'],
  ],
  'docs-projected-cluster-trust-bundle.yaml': [
    'valid',
    'docs: clusterTrustBundle projected sources by name and by signerName with a labelSelector',
    ['22:9 WARN_MANIFEST_IGNORED', '25:9 WARN_MANIFEST_IGNORED'],
  ],
  'docs-projected-pod-certificate.yaml': [
    'valid',
    'docs: a podCertificate projected source with userAnnotations, defaultMode 420 in decimal',
    ['24:9 WARN_MANIFEST_IGNORED'],
  ],
  'docs-projected-secret-modes.yaml': [
    'valid',
    'docs: two Secrets projected into one directory, an item mode 511 in decimal',
    [],
  ],
  'docs-supplemental-groups-strict.yaml': [
    'valid',
    'docs: supplementalGroupsPolicy Strict, a flow list of supplementalGroups',
    ['11:5 WARN_MANIFEST_IGNORED'],
  ],
  'k8s-doc-yaml-dapi-pod.yaml': [
    'valid',
    "kubernetes' doc-yaml fixtures: downward API env (pod IP, host IP), one value indented a column further",
    [],
  ],
  'k8s-doc-yaml-ha-etcd.yaml': [
    'valid',
    "kubernetes' doc-yaml fixtures: an HA etcd static pod, hostNetwork with hostPort = containerPort, shell-style VARS left in its command, nine hostPaths",
    [],
  ],
  'k8s-doc-yaml-multi-pod.yaml': [
    'valid',
    'kubernetes\' doc-yaml fixtures: two Pods in one file after a leading ---, cpu "0.5"',
    [],
  ],
  'k8s-hack-api-env.yaml': [
    'valid',
    "kubectl's test data: env from a Secret key, a ConfigMap key and metadata.name",
    [],
  ],
  'k8s-hack-busybox-broken-kind.yaml': [
    'invalid',
    "kubectl's test data: `ind: Pod` (a broken file on purpose: the document has no kind)",
    ['2:1 ERR_MANIFEST_KIND'],
  ],
  'k8s-hack-invalid-pod.yaml': [
    'invalid',
    "kubectl's test data: a container whose name is left empty (null)",
    ['8:5 ERR_MANIFEST_SCHEMA'],
  ],
  'k8s-hack-large-name.yaml': [
    'valid',
    "kubectl's test data: a pod name of 63 characters, a comment before apiVersion",
    [],
  ],
  'k8s-hack-metadata-and-probes.yaml': [
    'valid',
    "kubectl's test data: exec readiness, liveness and startup probes, an init container with only a name and an image",
    [],
  ],
  'k8s-hack-restricted-localhost.yaml': [
    'valid',
    "kubectl's test data: the restricted profile with a Localhost seccomp profile, trailing spaces after keys and a last line of spaces only",
    [],
  ],
  'k8s-hack-status-only.yaml': [
    'invalid',
    "kubectl's test data for apply --subresource=status: a Pod with status and no spec",
    ['2:1 ERR_MANIFEST_SCHEMA', '6:1 WARN_MANIFEST_IGNORED'],
  ],
  'invalid-cluster-trust-bundle-name-and-signer.yaml': [
    'invalid',
    'a clusterTrustBundle source with both name and signerName',
    ['17:9 WARN_MANIFEST_IGNORED', '19:23 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-configmap-key-ref-name.yaml': [
    'invalid',
    'configMapKeyRef name app_config (no DNS subdomain)',
    ['15:17 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-envfrom-secret-name.yaml': [
    'invalid',
    'envFrom secretRef name DB_CREDENTIALS (no DNS subdomain)',
    ['12:15 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-node-affinity-exists-values.yaml': [
    'invalid',
    'a node selector expression with operator Exists and values',
    ['7:3 WARN_MANIFEST_IGNORED', '14:21 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-node-affinity-gt-two-values.yaml': [
    'invalid',
    'a node selector expression with operator Gt and two values',
    ['7:3 WARN_MANIFEST_IGNORED', '15:21 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-node-affinity-in-no-values.yaml': [
    'invalid',
    'a node selector expression with operator In and no values',
    ['7:3 WARN_MANIFEST_IGNORED', '12:13 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-node-affinity-match-fields-key.yaml': [
    'invalid',
    'a node field selector on metadata.labels',
    ['7:3 WARN_MANIFEST_IGNORED', '12:18 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-node-name.yaml': [
    'invalid',
    'nodeName Edge_Node_1',
    ['7:3 WARN_MANIFEST_IGNORED', '7:13 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-pod-anti-affinity-selector.yaml': [
    'invalid',
    'a pod anti-affinity label selector with operator In and no values',
    ['7:3 WARN_MANIFEST_IGNORED', '13:13 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-priority-class-name.yaml': [
    'invalid',
    'priorityClassName System_Node_Critical',
    ['7:3 WARN_MANIFEST_IGNORED', '7:22 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-readiness-probe-grace.yaml': [
    'invalid',
    'terminationGracePeriodSeconds on a readinessProbe',
    ['16:38 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-scheduling-gate-name.yaml': [
    'invalid',
    'a scheduling gate named "wait for quota!"',
    ['7:3 WARN_MANIFEST_IGNORED', '8:11 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-spread-match-labels-value.yaml': [
    'invalid',
    'a spread constraint matching the label value web/frontend',
    ['7:3 WARN_MANIFEST_IGNORED', '13:14 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-toleration-empty-key-equal.yaml': [
    'invalid',
    'a toleration with no key and operator Equal',
    ['7:3 WARN_MANIFEST_IGNORED', '8:15 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-toleration-seconds-no-execute.yaml': [
    'invalid',
    'tolerationSeconds with effect NoSchedule',
    ['7:3 WARN_MANIFEST_IGNORED', '10:13 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-toleration-value.yaml': [
    'invalid',
    'a toleration value "gpu nodes: only"',
    ['7:3 WARN_MANIFEST_IGNORED', '10:12 ERR_MANIFEST_SCHEMA'],
  ],
  // A reviewer's findings on the rules above, checked against Kubernetes' validation.go.
  'scheduler-name-any.yaml': [
    'valid',
    "schedulerName 'my scheduler' (Kubernetes does not check schedulerName; was invalid-scheduler-name.yaml)",
    ['8:3 WARN_MANIFEST_IGNORED'],
  ],
  'helm-empty-priority-class.yaml': [
    'valid',
    'helm output: priorityClassName "" and nodeName "" (checked only when not empty)',
    ['8:3 WARN_MANIFEST_IGNORED', '9:3 WARN_MANIFEST_IGNORED'],
  ],
  'envfrom-name-trailing-dash.yaml': [
    'valid',
    "envFrom configMapRef app-config- and secretRef db- (names checked as prefixes: one trailing '-' passes)",
    [],
  ],
  'projected-cluster-trust-bundle-dot-path.yaml': [
    'valid',
    'a clusterTrustBundle source with path ./ca.pem (a local path: not absolute, no ..)',
    ['18:9 WARN_MANIFEST_IGNORED'],
  ],
  'invalid-node-affinity-required-value.yaml': [
    'invalid',
    'a required node affinity value "gpu nodes" (no label value)',
    ['8:3 WARN_MANIFEST_IGNORED', '15:22 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-spread-label-key-too-long.yaml': [
    'invalid',
    'a spread constraint matchLabels key with a 64-character name',
    ['8:3 WARN_MANIFEST_IGNORED', '14:9 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-scheduling-gate-long-prefix.yaml': [
    'invalid',
    'a scheduling gate with a 254-character prefix',
    ['8:3 WARN_MANIFEST_IGNORED', '9:11 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-projected-two-kinds.yaml': [
    'invalid',
    'one projected source with configMap and clusterTrustBundle',
    ['18:9 ERR_MANIFEST_INVALID', '21:9 WARN_MANIFEST_IGNORED'],
  ],
  'invalid-node-name-with-scheduling-gates.yaml': [
    'invalid',
    'nodeName beside a scheduling gate (refused on create)',
    ['8:3 WARN_MANIFEST_IGNORED', '8:13 ERR_MANIFEST_SCHEMA', '9:3 WARN_MANIFEST_IGNORED'],
  ],
  'invalid-toleration-effect-only.yaml': [
    'invalid',
    'a toleration with only effect NoSchedule (no key, no operator)',
    ['8:3 WARN_MANIFEST_IGNORED', '9:5 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-toleration-seconds-no-effect.yaml': [
    'invalid',
    'tolerationSeconds with no effect',
    ['8:3 WARN_MANIFEST_IGNORED', '9:5 ERR_MANIFEST_SCHEMA'],
  ],
  // Round 27: rules checked against validation.go (resizePolicy, matchLabelKeys, clusterTrustBundle names,
  // sysctl names, setHostnameAsFQDN beside hostnameOverride), each a file a cluster refuses or takes.
  'invalid-resize-policy-twice.yaml': [
    'invalid',
    'resizePolicy naming cpu twice in one container',
    ['10:5 WARN_MANIFEST_IGNORED', '15:21 ERR_MANIFEST_INVALID'],
  ],
  'invalid-resize-policy-init-container.yaml': [
    'invalid',
    'resizePolicy on an init container that is no sidecar',
    ['11:5 WARN_MANIFEST_IGNORED', '12:5 ERR_MANIFEST_SCHEMA'],
  ],
  'sidecar-resize-policy.yaml': [
    'valid',
    'resizePolicy on a native sidecar (Kubernetes 1.33)',
    ['12:5 WARN_MANIFEST_IGNORED'],
  ],
  'invalid-match-label-keys-in-selector.yaml': [
    'invalid',
    'pod anti-affinity matchLabelKeys app beside matchLabels app, the pod labelled app',
    ['11:3 WARN_MANIFEST_IGNORED', '22:13 ERR_MANIFEST_INVALID'],
  ],
  'invalid-spread-match-label-keys-in-selector.yaml': [
    'invalid',
    'a spread constraint matchLabelKeys pod-template-hash beside an expression on it, the pod labelled so',
    ['11:3 WARN_MANIFEST_IGNORED', '22:7 ERR_MANIFEST_INVALID'],
  ],
  'spread-match-label-keys-unlabelled.yaml': [
    'valid',
    'a key in matchLabels and matchLabelKeys the pod has no label for (1.34 on: nothing merged, taken)',
    ['10:3 WARN_MANIFEST_IGNORED'],
  ],
  'invalid-match-label-keys-no-selector.yaml': [
    'invalid',
    'matchLabelKeys on a pod affinity term with no labelSelector',
    ['9:3 WARN_MANIFEST_IGNORED', '13:25 ERR_MANIFEST_INVALID'],
  ],
  'invalid-match-and-mismatch-label-keys.yaml': [
    'invalid',
    'one key in matchLabelKeys and mismatchLabelKeys (and, merged, in the selector)',
    ['9:3 WARN_MANIFEST_IGNORED', '16:26 ERR_MANIFEST_INVALID', '16:26 ERR_MANIFEST_INVALID'],
  ],
  'invalid-match-label-keys-name.yaml': [
    'invalid',
    'matchLabelKeys "pod template hash" (no label key)',
    ['7:3 WARN_MANIFEST_IGNORED', '12:22 ERR_MANIFEST_INVALID'],
  ],
  'invalid-cluster-trust-bundle-signer-name.yaml': [
    'invalid',
    'a clusterTrustBundle signerName with no path',
    ['17:9 WARN_MANIFEST_IGNORED', '18:23 ERR_MANIFEST_INVALID'],
  ],
  'invalid-cluster-trust-bundle-name.yaml': [
    'invalid',
    'clusterTrustBundle names Corp_Root_CA and "example.com:mysigner:" (nothing after the signer prefix)',
    [
      '17:9 WARN_MANIFEST_IGNORED',
      '18:17 ERR_MANIFEST_INVALID',
      '20:9 WARN_MANIFEST_IGNORED',
      '21:17 ERR_MANIFEST_INVALID',
    ],
  ],
  'invalid-cluster-trust-bundle-name-selector.yaml': [
    'invalid',
    'a clusterTrustBundle chosen by name, with a labelSelector',
    ['17:9 WARN_MANIFEST_IGNORED', '20:13 ERR_MANIFEST_SCHEMA'],
  ],
  'cluster-trust-bundle-signer-prefixed-name.yaml': [
    'valid',
    'a clusterTrustBundle named example.com:mysigner:bundle-2026, a signerName with a dotted path, labelSelector {}',
    ['17:9 WARN_MANIFEST_IGNORED', '20:9 WARN_MANIFEST_IGNORED'],
  ],
  'invalid-hostname-override-fqdn.yaml': [
    'invalid',
    'hostnameOverride beside setHostnameAsFQDN: true',
    ['9:3 WARN_MANIFEST_IGNORED', '9:22 ERR_MANIFEST_SCHEMA', '10:3 WARN_MANIFEST_IGNORED'],
  ],
  'invalid-sysctl-name.yaml': [
    'invalid',
    'a sysctl named net..core.somaxconn (an empty part)',
    ['12:13 ERR_MANIFEST_SCHEMA'],
  ],
  'sysctl-slash-name.yaml': ['valid', "sysctl names written with '/' and with '.'", []],
  // Round 27: fields of Kubernetes 1.35-1.37 (k8s.io/api core/v1 types.go by release), each with its tier.
  'scheduling-group.yaml': [
    'valid',
    'spec.schedulingGroup.podGroupName (Kubernetes 1.36 GenericWorkload)',
    ['9:3 WARN_MANIFEST_IGNORED'],
  ],
  'invalid-scheduling-group-name.yaml': [
    'invalid',
    'schedulingGroup.podGroupName Trainer_Gang (no DNS subdomain)',
    ['7:3 WARN_MANIFEST_IGNORED', '7:35 ERR_MANIFEST_SCHEMA'],
  ],
  'workload-ref.yaml': [
    'valid',
    'spec.workloadRef (Kubernetes 1.35 only; schedulingGroup from 1.36)',
    ['8:3 WARN_MANIFEST_IGNORED'],
  ],
  'eviction-responders.yaml': [
    'valid',
    'spec.evictionResponders (Kubernetes 1.37 EvictionRequestAPI)',
    ['7:3 WARN_MANIFEST_IGNORED'],
  ],
  'invalid-eviction-responder-name.yaml': [
    'invalid',
    'an eviction responder named drainer (no domain prefix), a priority of 200000',
    ['7:3 WARN_MANIFEST_IGNORED', '8:11 ERR_MANIFEST_SCHEMA', '11:15 ERR_MANIFEST_SCHEMA'],
  ],
  'probe-http2.yaml': [
    'valid',
    'httpGet protocol HTTP1 and HTTP2 (h2c, Kubernetes 1.37 H2CContainerProbe)',
    ['21:19 ERR_MANIFEST_UNSUPPORTED'],
  ],
  'probe-grpc-tls.yaml': [
    'valid',
    'grpc mode Plaintext and TLS (Kubernetes 1.37 GRPCContainerProbeTLS)',
    ['17:15 ERR_MANIFEST_UNSUPPORTED'],
  ],
  'downward-api-default-user.yaml': [
    'valid',
    'downwardAPI.defaultUser (Kubernetes 1.37 AtomicWriteVolumeUserFields)',
    ['19:7 ERR_MANIFEST_UNSUPPORTED'],
  ],
  // Round 27: published files (the Kubernetes docs' KYAML examples, kubernetes' e2e manifests, podman's
  // e2e data, an OpenShift kube-vip template).
  'docs-kyaml-spread-node-affinity.yaml': [
    'valid',
    'docs (KYAML): a spread constraint beside a required node affinity NotIn, a leading ---',
    ['13:5 WARN_MANIFEST_IGNORED', '23:5 WARN_MANIFEST_IGNORED'],
  ],
  'docs-kyaml-spread-two-constraints.yaml': [
    'valid',
    'docs (KYAML): two spread constraints (zone, node) with one selector each',
    ['13:5 WARN_MANIFEST_IGNORED'],
  ],
  'docs-kyaml-scheduling-gates.yaml': [
    'valid',
    'docs (KYAML): two scheduling gates with domain-prefixed names',
    ['10:5 WARN_MANIFEST_IGNORED'],
  ],
  'docs-projected-sa-token.yaml': [
    'valid',
    'docs: a projected serviceAccountToken with audience and expirationSeconds 3600, serviceAccountName default',
    ['22:9 WARN_MANIFEST_IGNORED'],
  ],
  'docs-adapter-sidecar.yaml': [
    'valid',
    'docs: an adapter as a native sidecar, single-quoted shell in a flow list holding double quotes',
    [],
  ],
  'docs-kyaml-capabilities-add.yaml': ['valid', 'docs (KYAML): capabilities add NET_ADMIN, SYS_TIME', []],
  'docs-projected-two-secrets.yaml': [
    'valid',
    'docs: two Secrets projected into one volume, args before image',
    [],
  ],
  'docs-seccomp-localhost-no-newline.yaml': [
    'valid',
    'docs: a Localhost seccomp profile at pod level, a quoted arg with "!", no newline at the end',
    [],
  ],
  'docs-kyaml-dapi-resource-env.yaml': [
    'valid',
    'docs (KYAML): resourceFieldRef env of requests and limits, an escaped \\\\n inside single quotes in a double-quoted string',
    [],
  ],
  'docs-pvc-two-subpaths.yaml': [
    'valid',
    'docs: one claim mounted twice by subPath (a directory and a file)',
    [],
  ],
  'docs-kyaml-escaped-newlines.yaml': [
    'valid',
    "docs (KYAML): a double-quoted script folded with '\\' line continuations and '\\ ' escaped spaces, a ConfigMap volume",
    [],
  ],
  'docs-kyaml-cpu-limit-only.yaml': ['valid', 'docs (KYAML): a cpu limit "1" with no request', []],
  'docs-kyaml-second-scheduler.yaml': [
    'valid',
    'docs (KYAML): schedulerName my-scheduler',
    ['13:5 WARN_MANIFEST_IGNORED'],
  ],
  'k8s-e2e-agnhost-primary.yaml': [
    'valid',
    'kubernetes\' e2e manifests: two containers, lists indented four spaces, cpu "0.1"',
    [],
  ],
  'k8s-e2e-readiness-probe.yaml': [
    'valid',
    "kubernetes' e2e manifests: an httpGet readiness probe with initialDelaySeconds and timeoutSeconds",
    [],
  ],
  'k8s-e2e-dns-frontend.yaml': [
    'valid',
    "kubernetes' e2e manifests: imagePullPolicy Always, restartPolicy Never, a URL as an argument",
    [],
  ],
  'podman-e2e-tab-indent.yaml': [
    'invalid',
    "podman's e2e data (podman-1.6.2 output): a tab in the indentation under seLinuxOptions (no YAML: kubectl cannot read it)",
    ['32:1 ERR_YAML_SYNTAX', '33:1 ERR_YAML_SYNTAX', '34:1 ERR_YAML_SYNTAX'],
  ],
  'static-kube-vip-openshift.yaml': [
    'valid',
    'kube-vip static pod for OpenShift (an Ansible template): a hostPath with a trailing /, priorityClassName',
    ['24:3 WARN_MANIFEST_IGNORED'],
  ],
  'dns-search-underscore.yaml': [
    'valid',
    "search domains _ldap._tcp.corp.example.com, corp.example.com. and '.' (1.34 RelaxedDNSSearchValidation)",
    [],
  ],
  'invalid-dns-search-upper.yaml': [
    'invalid',
    'a search domain Corp.Example.COM (no lowercase subdomain)',
    ['8:16 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-host-alias-names.yaml': [
    'invalid',
    'hostAliases names NAS and nas.home.arpa. (no lowercase DNS subdomains)',
    ['10:17 ERR_MANIFEST_SCHEMA', '10:22 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-pod-affinity-topology-key.yaml': [
    'invalid',
    'a pod affinity term with topologyKey "" and namespaces [Prod]',
    ['9:3 WARN_MANIFEST_IGNORED', '14:22 ERR_MANIFEST_SCHEMA', '15:22 ERR_MANIFEST_SCHEMA'],
  ],
  'spread-topology-key-free-form.yaml': [
    'valid',
    "a spread constraint's topologyKey 'My Zone' (non-empty is all a cluster asks there), matchLabelKeys constructor",
    ['11:3 WARN_MANIFEST_IGNORED'],
  ],
  'invalid-resize-restart-never.yaml': [
    'invalid',
    'a resizePolicy RestartContainer in a pod whose restartPolicy is Never',
    ['12:5 WARN_MANIFEST_IGNORED', '16:22 ERR_MANIFEST_INVALID'],
  ],
  'invalid-spread-topology-key-empty.yaml': [
    'invalid',
    "a spread constraint with topologyKey ''",
    ['8:3 WARN_MANIFEST_IGNORED', '10:18 ERR_MANIFEST_SCHEMA'],
  ],
  'helm-empty-strings.yaml': [
    'valid',
    'helm output with unset values rendered "": restartPolicy, dnsPolicy, imagePullPolicy, workingDir, a port protocol, hostIP and name, subPath, a probe host and scheme',
    [],
  ],
  // Round 28: files modelled on what people publish (helm output, docs examples, dumps, issue snippets),
  // each checked against validation.go: YAML 1.1 booleans at string fields, the metadata and pod
  // annotations a cluster checks, recursiveReadOnly IfPossible with propagation, activeDeadlineSeconds' bound.
  'annotations-unicode.yaml': [
    'valid',
    'annotations in French, Japanese and emoji, a block-scalar annotation, a UTF-8 argument',
    [],
  ],
  'apparmor-annotation.yaml': [
    'valid',
    "docs' hello-apparmor (pre-1.30): the AppArmor annotation of an existing container, seccomp's alpha pod annotation runtime/default",
    ['6:59 WARN_MANIFEST_IGNORED', '7:47 WARN_MANIFEST_IGNORED'],
  ],
  'capabilities-lowercase.yaml': [
    'valid',
    'capabilities add net_admin in lower case and drop all (a cluster does not read capability names; runtimes upper-case them)',
    [],
  ],
  'command-quoted-scalars.yaml': [
    'valid',
    'command "3600" and args "yes", "0.5", "null", \'on\', \'off\' quoted: strings to a cluster too',
    [],
  ],
  'deletion-cost.yaml': [
    'valid',
    'controller.kubernetes.io/pod-deletion-cost "-100", the cluster-autoscaler safe-to-evict annotation',
    [],
  ],
  'downward-volume-uid.yaml': [
    'valid',
    "docs' downward API volume: labels, annotations, metadata.uid, a subscripted label, defaultMode 0444, an item mode 0400",
    [],
  ],
  'dra-resource-claim.yaml': [
    'valid',
    "DRA docs: spec.resourceClaims from a template, a container's resources.claims",
    ['6:3 ERR_MANIFEST_UNSUPPORTED', '15:7 ERR_MANIFEST_UNSUPPORTED'],
  ],
  'env-names-relaxed.yaml': [
    'valid',
    'env names spring.profiles.active, 1ST_VALUE, "MY VAR", a:b and an envFrom prefix 1_ (1.34 RelaxedEnvironmentVariableValidation)',
    [],
  ],
  'ephemeral-volume.yaml': [
    'valid',
    "docs' generic ephemeral volume (volumeClaimTemplate with a storage class)",
    ['13:5 ERR_MANIFEST_UNSUPPORTED'],
  ],
  'grace-negative.yaml': [
    'valid',
    'terminationGracePeriodSeconds: -1 (a cluster takes it with a warning and treats it as 1)',
    ['6:34 WARN_MANIFEST_K8S_WARNS'],
  ],
  'grace-zero-deadline.yaml': [
    'valid',
    'terminationGracePeriodSeconds 0, activeDeadlineSeconds 600, enableServiceLinks and automountServiceAccountToken false',
    ['8:3 WARN_MANIFEST_IGNORED', '9:3 WARN_MANIFEST_IGNORED'],
  ],
  'helm-rendered-checksum.yaml': [
    'valid',
    "helm template: a ConfigMap, an empty template's document, a Pod with a checksum/config annotation, `{}` on its own line, null volumeMounts and volumes",
    [],
  ],
  'image-pull-policies.yaml': [
    'valid',
    'imagePullPolicy Never, Always, IfNotPresent and none; a tag and digest reference; command ["true"] in a flow mapping',
    [],
  ],
  'invalid-active-deadline-huge.yaml': [
    'invalid',
    'activeDeadlineSeconds 4294967296 (a cluster takes 1 to 2147483647)',
    ['6:26 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-active-deadline-zero.yaml': ['invalid', 'activeDeadlineSeconds 0', ['6:26 ERR_MANIFEST_SCHEMA']],
  'invalid-apparmor-annotation-container.yaml': [
    'invalid',
    'an AppArmor annotation for container nginx in a pod whose container is web',
    ['6:59 ERR_MANIFEST_INVALID', '6:59 WARN_MANIFEST_IGNORED'],
  ],
  'invalid-args-yes.yaml': [
    'invalid',
    'args [--daemon, yes]: yes unquoted is a boolean to a cluster (YAML 1.1)',
    ['12:7 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-automount-quoted.yaml': [
    'invalid',
    'automountServiceAccountToken: "false" (a string)',
    ['6:3 WARN_MANIFEST_IGNORED', '6:33 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-bidirectional-unprivileged.yaml': [
    'invalid',
    'mountPropagation Bidirectional in a container that is not privileged',
    ['12:25 ERR_MANIFEST_INVALID'],
  ],
  'invalid-command-int.yaml': [
    'invalid',
    'command [sleep, 3600]: a number in a list of strings',
    ['9:22 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-configmap-data-yes.yaml': [
    'invalid',
    'helm output: a ConfigMap value ENABLE_METRICS: yes (a boolean to a cluster), a label monitoring: on',
    ['8:19 ERR_MANIFEST_SCHEMA', '17:17 WARN_MANIFEST_K8S_REJECTS'],
  ],
  'invalid-configmap-item-no-key.yaml': [
    'invalid',
    'a configMap volume item with a path and no key',
    ['15:9 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-container-name-upper.yaml': ['invalid', 'container name WebServer', ['7:11 ERR_MANIFEST_SCHEMA']],
  'invalid-container-port-70000.yaml': ['invalid', 'containerPort 70000', ['10:22 ERR_MANIFEST_SCHEMA']],
  'invalid-deletion-cost.yaml': [
    'invalid',
    'controller.kubernetes.io/pod-deletion-cost "low" (a cluster wants a 32-bit integer)',
    ['6:49 ERR_MANIFEST_INVALID'],
  ],
  'invalid-dns-four-nameservers.yaml': [
    'invalid',
    'dnsConfig with four nameservers (at most 3)',
    ['8:18 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-dns-option-no-name.yaml': [
    'invalid',
    'a dnsConfig option with a value and no name',
    ['8:7 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-downward-item-absolute.yaml': [
    'invalid',
    'a downwardAPI item path /labels',
    ['14:15 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-downward-volume-pod-ip.yaml': [
    'invalid',
    'a downwardAPI volume item of status.podIP (env only)',
    ['17:22 ERR_MANIFEST_INVALID'],
  ],
  'invalid-emptydir-negative-size.yaml': [
    'invalid',
    'emptyDir sizeLimit -1Gi',
    ['12:27 ERR_BAD_QUANTITY', '12:27 WARN_EMPTYDIR_SIZE_NOT_ENFORCED'],
  ],
  'invalid-env-valuefrom-empty.yaml': [
    'invalid',
    'env valueFrom: {} (no source)',
    ['11:18 ERR_MANIFEST_INVALID'],
  ],
  'invalid-envfrom-no-source.yaml': [
    'invalid',
    'envFrom with a prefix and no configMapRef or secretRef',
    ['10:7 ERR_MANIFEST_INVALID'],
  ],
  'invalid-finalizer-name.yaml': [
    'invalid',
    'a finalizer "example.com/clean up" (no qualified name)',
    ['5:3 WARN_MANIFEST_IGNORED', '6:5 ERR_MANIFEST_INVALID'],
  ],
  'invalid-fsgroup-policy.yaml': [
    'invalid',
    'fsGroupChangePolicy onRootMismatch (lower case)',
    ['8:26 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-host-alias-ip.yaml': ['invalid', 'a hostAliases ip "10.0.0"', ['7:9 ERR_MANIFEST_SCHEMA']],
  'invalid-hostname-dots.yaml': [
    'invalid',
    'hostname web.local (a DNS label has no dots)',
    ['6:13 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-hostname-too-long.yaml': ['invalid', 'a hostname of 64 characters', ['6:13 ERR_MANIFEST_SCHEMA']],
  'invalid-hostpath-type-lowercase.yaml': [
    'invalid',
    'hostPath type directory (lower case)',
    ['15:13 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-hostusers-hostnetwork.yaml': [
    'invalid',
    'hostUsers: false beside hostNetwork: true',
    ['6:14 ERR_MANIFEST_INVALID'],
  ],
  'invalid-image-empty.yaml': ['invalid', 'image ""', ['8:12 ERR_MANIFEST_SCHEMA']],
  'invalid-image-pull-policy-lowercase.yaml': [
    'invalid',
    'imagePullPolicy always (lower case)',
    ['9:22 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-init-restart-policy-sometimes.yaml': [
    'invalid',
    'an init container restartPolicy Sometimes',
    ['9:20 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-label-key-prefix-254.yaml': [
    'invalid',
    'a label key prefix of 254 characters (a slip podman tolerates)',
    ['6:5 WARN_MANIFEST_K8S_REJECTS'],
  ],
  'invalid-label-value-64.yaml': [
    'invalid',
    'a label value of 64 characters (a slip podman tolerates)',
    ['7:25 WARN_MANIFEST_K8S_REJECTS'],
  ],
  'invalid-label-value-bool.yaml': [
    'invalid',
    'a label canary: true unquoted (a slip podman tolerates)',
    ['7:13 WARN_MANIFEST_K8S_REJECTS'],
  ],
  'invalid-label-value-unicode.yaml': [
    'invalid',
    'a label value café (a slip podman tolerates)',
    ['6:11 WARN_MANIFEST_K8S_REJECTS'],
  ],
  'invalid-memory-divisor.yaml': [
    'invalid',
    'a limits.memory resourceFieldRef with divisor 2Mi',
    ['16:20 ERR_MANIFEST_INVALID'],
  ],
  'invalid-mirror-annotation-no-node.yaml': [
    'invalid',
    "a mirror pod's dump (kubernetes.io/config.mirror) with its spec.nodeName cut",
    ['8:34 ERR_MANIFEST_INVALID'],
  ],
  'invalid-namespace-upper.yaml': ['invalid', 'namespace Production', ['5:14 ERR_MANIFEST_SCHEMA']],
  'invalid-owner-no-uid.yaml': [
    'invalid',
    'an ownerReference with no uid',
    ['5:3 WARN_MANIFEST_IGNORED', '6:5 ERR_MANIFEST_INVALID'],
  ],
  'invalid-owner-two-controllers.yaml': [
    'invalid',
    'two ownerReferences with controller: true',
    ['5:3 WARN_MANIFEST_IGNORED', '7:107 ERR_MANIFEST_INVALID'],
  ],
  'invalid-port-name-digits.yaml': [
    'invalid',
    'a port named "8080" (a name needs a letter)',
    ['10:13 ERR_MANIFEST_INVALID'],
  ],
  'invalid-port-name-uppercase.yaml': ['invalid', 'a port named HTTP', ['10:13 ERR_MANIFEST_INVALID']],
  'invalid-poststart-command-string.yaml': [
    'invalid',
    'a postStart exec command written as one string',
    ['12:20 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-preemption-policy.yaml': [
    'invalid',
    'preemptionPolicy never (lower case)',
    ['6:3 WARN_MANIFEST_IGNORED', '6:21 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-prestop-httpget-no-port.yaml': [
    'invalid',
    'a preStop httpGet with a path and no port',
    ['12:11 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-probe-exec-empty.yaml': [
    'invalid',
    'a liveness probe exec with command []',
    ['11:18 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-probe-grace-zero.yaml': [
    'invalid',
    "a liveness probe's terminationGracePeriodSeconds 0",
    ['11:38 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-probe-grpc-port-zero.yaml': ['invalid', 'a grpc probe on port 0', ['11:15 ERR_MANIFEST_SCHEMA']],
  'invalid-probe-header-name.yaml': [
    'invalid',
    'an httpGet header named "X Custom Header"',
    ['14:17 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-probe-negative-delay.yaml': ['invalid', 'initialDelaySeconds -5', ['11:28 ERR_MANIFEST_SCHEMA']],
  'invalid-probe-scheme-lowercase.yaml': [
    'invalid',
    'an httpGet scheme https (lower case)',
    ['13:17 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-pvc-no-claim-name.yaml': [
    'invalid',
    'persistentVolumeClaim: {} (no claimName)',
    ['12:28 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-quantity-lower-gi.yaml': ['invalid', 'memory 1gi (no such suffix)', ['11:17 ERR_MANIFEST_SCHEMA']],
  'invalid-recursive-readonly-writable.yaml': [
    'invalid',
    'recursiveReadOnly Enabled on a mount that is not readOnly',
    ['12:26 ERR_MANIFEST_INVALID'],
  ],
  'invalid-resource-field-ref-no-container.yaml': [
    'invalid',
    'a downwardAPI volume resourceFieldRef with no containerName',
    ['17:11 ERR_MANIFEST_INVALID'],
  ],
  'invalid-restart-policy-lowercase.yaml': [
    'invalid',
    'restartPolicy always (lower case)',
    ['6:18 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-rro-host-to-container.yaml': [
    'invalid',
    'recursiveReadOnly IfPossible beside mountPropagation HostToContainer (only None is taken, as for Enabled)',
    ['14:26 ERR_MANIFEST_INVALID'],
  ],
  'invalid-run-as-user-negative.yaml': ['invalid', 'runAsUser -1', ['7:16 ERR_MANIFEST_SCHEMA']],
  'invalid-runtime-class-name.yaml': [
    'invalid',
    'runtimeClassName Kata_QEMU',
    ['6:3 ERR_MANIFEST_UNSUPPORTED'],
  ],
  'invalid-seccomp-annotation-value.yaml': [
    'invalid',
    'seccomp.security.alpha.kubernetes.io/pod: default (no profile a cluster knows)',
    ['6:47 ERR_MANIFEST_INVALID', '6:47 WARN_MANIFEST_IGNORED'],
  ],
  'invalid-seccomp-localhost-absolute.yaml': [
    'invalid',
    'a Localhost seccomp profile given as an absolute path',
    ['9:25 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-seccomp-type-lowercase.yaml': [
    'invalid',
    'seccompProfile type runtimeDefault',
    ['8:13 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-spread-max-skew-string.yaml': [
    'invalid',
    'maxSkew: "1" (a string)',
    ['7:3 WARN_MANIFEST_IGNORED', '8:14 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-spread-min-domains-zero.yaml': [
    'invalid',
    'minDomains: 0',
    ['7:3 WARN_MANIFEST_IGNORED', '9:17 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-subpath-and-expr.yaml': ['invalid', 'subPath beside subPathExpr', ['16:20 ERR_MANIFEST_INVALID']],
  'invalid-supplemental-group-negative.yaml': [
    'invalid',
    'supplementalGroups [1000, -1]',
    ['8:32 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-volume-name-upper.yaml': [
    'invalid',
    'a volume named Data',
    ['10:14 ERR_MANIFEST_SCHEMA', '12:11 ERR_MANIFEST_SCHEMA'],
  ],
  'label-value-63-long-prefix.yaml': [
    'valid',
    'a label key prefix of 253 characters with a value of 63, a quoted value ending in a digit',
    [],
  ],
  'list-kind-yaml.yaml': [
    'valid',
    'kubectl get -o yaml of a ConfigMap and a Pod: a v1 List with resourceVersion ""',
    [],
  ],
  'memory-millibytes.yaml': ['valid', 'a memory request 128m (millibytes: a cluster warns, takes it)', []],
  'metadata-finalizers-owners.yaml': [
    'valid',
    "a Job's pod dump: namespace, creationTimestamp null, finalizers, an ownerReference with controller and blockOwnerDeletion, generation",
    ['7:3 WARN_MANIFEST_IGNORED', '10:3 WARN_MANIFEST_IGNORED', '17:3 WARN_MANIFEST_IGNORED'],
  ],
  'mount-propagation-host-to-container.yaml': [
    'valid',
    "node-exporter style: the host's / read-only with HostToContainer, a recursiveReadOnly IfPossible mount, hostPID",
    [],
  ],
  'multi-doc-comments-only.yaml': [
    'valid',
    'kustomize-style: a comment-only document, `--- # comment`, `...` markers, an empty document between two Pods',
    [],
  ],
  'probe-grpc-service.yaml': [
    'valid',
    'a grpc probe with a service name, periodSeconds, timeoutSeconds and thresholds 0 (a cluster defaults them)',
    [],
  ],
  'probe-port-name-undeclared.yaml': [
    'valid',
    'an httpGet probe on a port name no container declares (a cluster does not check; the probe fails)',
    [],
  ],
  'quantities-signs.yaml': [
    'valid',
    'quantities "+1", 1Ki, "1e3", "1.5", "1e9", .5, "0.5Gi", 500m, 512Mi',
    ['10:61 WARN_MANIFEST_IGNORED', '11:62 WARN_MANIFEST_IGNORED'],
  ],
  'runtime-class-gvisor.yaml': [
    'invalid',
    'runtimeClassName gvisor (refused: DIFFERS has runtime-class-kata), preemptionPolicy Never with no priorityClassName (Priority admission computes PreemptLowerPriority)',
    ['6:3 ERR_MANIFEST_UNSUPPORTED', '7:3 WARN_MANIFEST_IGNORED', '7:21 ERR_MANIFEST_INVALID'],
  ],
  'spread-policies.yaml': [
    'valid',
    'spread constraints with minDomains, nodeAffinityPolicy, nodeTaintsPolicy, matchLabelKeys, one without a selector',
    ['7:3 WARN_MANIFEST_IGNORED'],
  ],
  'windows-pod.yaml': [
    'valid',
    "docs' Windows pod: os.name windows, a kubernetes.io/os nodeSelector",
    ['7:11 ERR_MANIFEST_UNSUPPORTED', '8:3 WARN_MANIFEST_IGNORED'],
  ],
  // Round 10: editors' and tools' forms (a BOM on minified JSON, 0o modes, float ports) and the
  // rules validation.go keeps that people trip on (header names, fieldRef keys, old security
  // annotations beside their fields, port names, DNS limits, sleep and stop signals).
  'probe-header-empty-value.yaml': [
    'valid',
    "a helm-rendered probe header 'value:' left empty and one with no value (HTTPHeader.value is a plain string)",
    [],
  ],
  'configmap-item-key-slash.yaml': [
    'valid',
    'an optional configMap item whose key no ConfigMap can hold (conf/app.ini): validateKeyToPath only asks for a key',
    [],
  ],
  'seccomp-annotation-field-agree.yaml': [
    'valid',
    'the old seccomp annotation docker/default beside seccompProfile RuntimeDefault (they agree)',
    ['6:47 WARN_MANIFEST_IGNORED'],
  ],
  'fieldref-annotation-mixed-case.yaml': [
    'valid',
    "fieldRef metadata.annotations['Example.COM/Owner'] (lower-cased before the check) and a label by its key",
    [],
  ],
  'port-name-same-in-two-containers.yaml': [
    'valid',
    'a port named metrics in two containers (names are unique per container)',
    [],
  ],
  'hostport-two-host-ips.yaml': [
    'valid',
    'one hostPort on two hostIPs (the clash key is protocol/hostIP/hostPort)',
    [],
  ],
  'bidirectional-privileged-init.yaml': [
    'valid',
    'Bidirectional propagation in a privileged init container, HostToContainer in the app',
    [],
  ],
  'container-port-float.yaml': [
    'valid',
    'containerPort: 8080.0 (go-yaml reads a float, JSON carries 8080)',
    [],
  ],
  'default-mode-0o.yaml': ['valid', 'defaultMode: 0o440 (Go ParseInt base 0 reads 0o)', []],
  'prestop-sleep-zero.yaml': ['valid', 'a preStop sleep of 0 s (PodLifecycleSleepActionAllowZero)', []],
  'stop-signal-linux.yaml': ['valid', 'lifecycle.stopSignal SIGQUIT with spec.os.name linux', []],
  'subpathexpr-pod-name.yaml': ['valid', 'subPathExpr $(POD_NAME) from a fieldRef env', []],
  'dns-search-trailing-dot.yaml': [
    'valid',
    'search domains with a trailing dot, an option given twice, an option with no value',
    [],
  ],
  'host-aliases-ipv6.yaml': ['valid', 'hostAliases with ::1 and two names on 127.0.0.1', []],
  'json-bom-minified.json': ['valid', 'a minified JSON pod with a BOM and a CRLF end', []],
  'probe-path-relative.yaml': ['valid', 'an httpGet path without its leading / (the prober adds it)', []],
  'hostip-without-hostport.yaml': ['valid', 'hostIP without hostPort (not checked)', []],
  'envfrom-secret-trailing-dash.yaml': [
    'valid',
    'envFrom secretRef creds- (a name checked as a prefix) with a prefix',
    [],
  ],
  'invalid-probe-header-underscore.yaml': [
    'invalid',
    'httpHeaders name X_Forwarded_Proto (IsHTTPHeaderName: letters, digits, -)',
    ['14:17 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-seccomp-annotation-mismatch.yaml': [
    'invalid',
    'seccomp annotation runtime/default beside seccompProfile Unconfined',
    ['6:47 WARN_MANIFEST_IGNORED', '10:13 ERR_MANIFEST_INVALID'],
  ],
  'invalid-apparmor-annotation-mismatch.yaml': [
    'invalid',
    "the docs' AppArmor example with the annotation naming another profile than appArmorProfile",
    ['6:59 WARN_MANIFEST_IGNORED', '13:7 WARN_MANIFEST_IGNORED', '15:27 ERR_MANIFEST_INVALID'],
  ],
  'invalid-fieldref-label-key-space.yaml': [
    'invalid',
    "fieldRef metadata.labels['team name']",
    ['15:22 ERR_MANIFEST_INVALID'],
  ],
  'invalid-downward-volume-label-key.yaml': [
    'invalid',
    "a downwardAPI file of metadata.labels['Topology.Kubernetes.io/zone'] (a label key is not lower-cased)",
    ['18:22 ERR_MANIFEST_INVALID'],
  ],
  'invalid-port-name-double-dash.yaml': [
    'invalid',
    'port name http--alt (IANA_SVC_NAME: no --)',
    ['10:13 ERR_MANIFEST_INVALID'],
  ],
  'invalid-port-name-repeated.yaml': [
    'invalid',
    'port name http twice in one container',
    ['12:13 ERR_MANIFEST_INVALID'],
  ],
  'invalid-hostport-two-containers.yaml': [
    'invalid',
    'hostPort 8080 in two containers',
    ['16:17 ERR_MANIFEST_INVALID'],
  ],
  'invalid-envfrom-prefix-equals.yaml': [
    'invalid',
    'envFrom prefix APP= (= is the one printable character refused)',
    ['10:15 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-mount-propagation-shared.yaml': [
    'invalid',
    'mountPropagation Shared (docker wording)',
    ['14:25 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-sleep-negative.yaml': ['invalid', 'a preStop sleep of -5 s', ['12:20 ERR_MANIFEST_SCHEMA']],
  'invalid-stop-signal-no-os.yaml': [
    'invalid',
    'lifecycle.stopSignal without spec.os.name',
    ['10:19 ERR_MANIFEST_INVALID'],
  ],
  'invalid-hostname-uppercase.yaml': ['invalid', 'hostname WebServer01', ['6:13 ERR_MANIFEST_SCHEMA']],
  'invalid-dns-nameserver-hostname.yaml': [
    'invalid',
    'a nameserver given by name (dns.google)',
    ['9:7 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-dns-33-searches.yaml': ['invalid', '33 search domains (at most 32)', ['8:5 ERR_MANIFEST_SCHEMA']],
  'invalid-dns-search-list-long.yaml': [
    'invalid',
    'nine search domains of 2231 characters together (at most 2048)',
    ['8:5 ERR_MANIFEST_INVALID'],
  ],
  'invalid-init-image-empty.yaml': [
    'invalid',
    'an init container with image ""',
    ['8:12 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-proc-mount-lowercase.yaml': [
    'invalid',
    'procMount unmasked (lower case)',
    ['11:18 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-volume-name-repeated.yaml': ['invalid', 'two volumes named data', ['15:11 ERR_MANIFEST_INVALID']],
  'invalid-volume-two-sources.yaml': [
    'invalid',
    'one volume with emptyDir and hostPath',
    ['10:5 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-item-mode-over.yaml': [
    'invalid',
    'an item mode 0o1755 (setuid bits: at most 0777)',
    ['16:15 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-item-path-absolute.yaml': [
    'invalid',
    'a secret item path /etc/tls/tls.crt',
    ['15:15 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-run-as-user-uint32.yaml': [
    'invalid',
    "runAsUser and runAsGroup 4294967294 (nobody's uint32: at most 2147483647)",
    ['7:16 ERR_MANIFEST_SCHEMA', '8:17 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-sysctl-ipc-host-ipc.yaml': [
    'invalid',
    'an IPC sysctl in a hostIPC pod',
    ['9:13 ERR_MANIFEST_INVALID'],
  ],
  'invalid-os-name-uppercase.yaml': ['invalid', 'os.name Linux', ['7:11 ERR_MANIFEST_SCHEMA']],
  'invalid-duplicate-key.yaml': [
    'invalid',
    'image given twice in one container (kubectl: key already set in map)',
    ['10:5 ERR_YAML_SYNTAX'],
  ],
  'invalid-init-prestop.yaml': [
    'invalid',
    'a preStop hook on an init container that is no sidecar',
    ['11:7 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-grace-fraction.yaml': [
    'invalid',
    'terminationGracePeriodSeconds: 30.5',
    ['6:34 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-fieldref-api-v2.yaml': ['invalid', 'fieldRef apiVersion v2', ['13:23 ERR_MANIFEST_SCHEMA']],
  'invalid-emptydir-medium-lowercase.yaml': [
    'invalid',
    'emptyDir medium memory (lower case)',
    ['12:15 ERR_MANIFEST_SCHEMA'],
  ],
  'volume-paths-dot-slash.yaml': [
    'valid',
    'a ConfigMap mounted with subPath ./nginx.conf and nginx//cache/, items at ./nginx.conf and conf.d//mime.types (cleaned as the kubelet cleans them)',
    [],
  ],
  'secret-base64-wrapped.yaml': [
    'valid',
    'a kubernetes.io/tls Secret whose data is base64 wrapped at 76 columns in | blocks (Go skips the line breaks), mounted by a Pod',
    [],
  ],
  // Round 11: leftovers of round 10 and what validation.go (1.30-1.35) and the admission a cluster
  // runs by default say of scheduling, resource and volume fields people publish.
  'sysctl-no-value.yaml': [
    'valid',
    'a sysctl written without its value (a plain string: "" to a cluster, only the name is checked)',
    [],
  ],
  'runtime-class-kata.yaml': [
    'valid',
    "the docs' RuntimeClass pod (runtimeClassName kata-fc, the overhead left to admission), stdin and tty",
    ['8:3 ERR_MANIFEST_UNSUPPORTED', '12:5 WARN_MANIFEST_IGNORED'],
  ],
  'priority-system-node-critical.yaml': [
    'valid',
    'system-node-critical with the priority and preemptionPolicy admission writes for it, overhead: null',
    ['9:3 WARN_MANIFEST_IGNORED', '10:3 WARN_MANIFEST_IGNORED', '11:3 WARN_MANIFEST_IGNORED'],
  ],
  'invalid-priority-without-class.yaml': [
    'invalid',
    'spec.priority 1000000 with no priorityClassName (Priority admission computes 0)',
    ['9:3 WARN_MANIFEST_IGNORED', '9:13 ERR_MANIFEST_INVALID'],
  ],
  'invalid-priority-system-class-mismatch.yaml': [
    'invalid',
    'system-node-critical with priority 2000000000 (the class gives 2000001000)',
    ['9:3 WARN_MANIFEST_IGNORED', '10:3 WARN_MANIFEST_IGNORED', '10:13 ERR_MANIFEST_INVALID'],
  ],
  'invalid-preemption-never-without-class.yaml': [
    'invalid',
    'preemptionPolicy Never with no priorityClassName (admission computes PreemptLowerPriority)',
    ['8:3 WARN_MANIFEST_IGNORED', '8:21 ERR_MANIFEST_INVALID'],
  ],
  'invalid-overhead-without-runtime-class.yaml': [
    'invalid',
    'spec.overhead set by hand, no runtimeClassName (RuntimeClass admission refuses it)',
    ['8:3 WARN_MANIFEST_IGNORED', '9:5 ERR_MANIFEST_INVALID'],
  ],
  'overhead-empty-map.yaml': [
    'valid',
    "a client library's empty overhead map, no runtimeClassName (admission takes {} as none)",
    ['8:3 WARN_MANIFEST_IGNORED'],
  ],
  'configmap-items-same-path.yaml': [
    'valid',
    "a configMap volume's items at site.conf and ./site.conf (the kubelet writes the last; no duplicate check)",
    [],
  ],
  'projected-items-dot-slash.yaml': [
    'valid',
    'projected sources at ./config.yaml and config.yaml (validateProjectionSources compares them as written)',
    [],
  ],
  'invalid-projected-items-same-path.yaml': [
    'invalid',
    'projected secret and configMap items both at config (conflicting duplicate paths)',
    ['29:19 ERR_MANIFEST_INVALID'],
  ],
  'helm-empty-namespace.yaml': [
    'valid',
    'helm template output with namespace: "" on a ConfigMap and the Pod using it, null and empty maps',
    [],
  ],
  'kubectl-get-divisor-zero.yaml': [
    'valid',
    'a dump\'s resourceFieldRef divisor "0" (none, as the API server writes it) and 1000m (canonical 1)',
    [],
  ],
  'csi-inline-secrets-store.yaml': [
    'valid',
    "the Secrets Store CSI driver's inline csi volume",
    ['16:5 ERR_MANIFEST_UNSUPPORTED'],
  ],
  'emptydir-memory-size-zero.yaml': [
    'valid',
    'a memory emptyDir with sizeLimit 0 (none, as the kubelet reads it)',
    [],
  ],
  'fieldrefs-env-spec-status.yaml': [
    'valid',
    'env fieldRefs metadata.uid, spec.serviceAccountName, status.hostIPs, status.podIPs',
    [],
  ],
  'hostpath-socket-and-slashes.yaml': ['valid', 'hostPaths /var/log/, //var//lib and a Socket', []],
  'invalid-active-deadline-negative.yaml': [
    'invalid',
    'activeDeadlineSeconds -1',
    ['7:26 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-affinity-weight-zero.yaml': [
    'invalid',
    'a preferred node affinity term of weight 0',
    ['7:3 WARN_MANIFEST_IGNORED', '10:17 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-cpu-request-above-limit.yaml': [
    'invalid',
    'a cpu request 1 above its limit 500m',
    ['12:14 ERR_MANIFEST_INVALID'],
  ],
  'invalid-downward-volume-node-name.yaml': [
    'invalid',
    'a downwardAPI volume file of spec.nodeName',
    ['19:22 ERR_MANIFEST_INVALID'],
  ],
  'invalid-grpc-port-70000.yaml': ['invalid', 'a grpc probe on port 70000', ['12:15 ERR_MANIFEST_SCHEMA']],
  'invalid-hostpath-backstep.yaml': ['invalid', 'hostPath /var/../etc', ['16:13 ERR_MANIFEST_INVALID']],
  'invalid-hostusers-host-pid.yaml': [
    'invalid',
    'hostUsers: false with hostPID',
    ['8:14 ERR_MANIFEST_INVALID'],
  ],
  'invalid-image-volume-pull-policy.yaml': [
    'invalid',
    'an image volume with pullPolicy always',
    ['17:19 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-match-fields-two-values.yaml': [
    'invalid',
    'matchFields metadata.name with two values',
    ['7:3 WARN_MANIFEST_IGNORED', '14:21 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-no-containers.yaml': ['invalid', 'containers: []', ['7:15 ERR_MANIFEST_SCHEMA']],
  'invalid-os-darwin.yaml': ['invalid', 'os.name darwin', ['8:11 ERR_MANIFEST_SCHEMA']],
  'invalid-pod-affinity-exists-values.yaml': [
    'invalid',
    'a pod affinity selector Exists with values',
    ['7:3 WARN_MANIFEST_IGNORED', '14:21 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-probe-no-handler.yaml': [
    'invalid',
    'a liveness probe with no handler',
    ['11:7 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-spread-when-unsatisfiable.yaml': [
    'invalid',
    'whenUnsatisfiable DoSchedule',
    ['7:3 WARN_MANIFEST_IGNORED', '10:24 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-startup-probe-success-threshold.yaml': [
    'invalid',
    'a startup probe with successThreshold 2',
    ['11:25 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-toleration-effect-typo.yaml': [
    'invalid',
    'toleration effect NoScheduled',
    ['7:3 WARN_MANIFEST_IGNORED', '11:13 ERR_MANIFEST_SCHEMA'],
  ],
  'istio-injected-dump.yaml': [
    'valid',
    'an Istio-injected pod dump: native sidecar proxy, NET_ADMIN init, divisor "0", an istio-ca token',
    ['67:5 WARN_MANIFEST_IGNORED', '194:9 WARN_MANIFEST_IGNORED'],
  ],
  'kubectl-get-hostpath-type-empty.yaml': ['valid', 'a dump\'s hostPath type "" and grpc service ""', []],
  'ports-yaml-int-forms.yaml': ['valid', 'containerPort 0x1F90, 0o17, +8081', []],
  'sidecar-restart-on-failure.yaml': [
    'valid',
    'restartPolicy OnFailure with a native sidecar and an init container',
    [],
  ],
  'timestamps-unquoted.yaml': [
    'valid',
    'unquoted dates in a label, an annotation and an env value (strings to go-yaml v2)',
    [],
  ],
  'secret-service-account-token.yaml': [
    'valid',
    'the docs\' service-account-token Secret with its annotation, a Secret of type "" (Opaque) used by a Pod',
    [],
  ],
  'invalid-secret-service-account-token-no-annotation.yaml': [
    'invalid',
    'a service-account-token Secret without kubernetes.io/service-account.name',
    ['7:7 ERR_SECRET_INVALID'],
  ],
  'pvc-read-write-once-pod.yaml': [
    'valid',
    'the docs\' ReadWriteOncePod claim (storageClassName "", volumeMode Filesystem) and its pod',
    [],
  ],
  'invalid-pvc-without-access-modes.yaml': [
    'invalid',
    'a claim without accessModes and one of storage 0, beside the pod using them',
    ['8:3 ERR_MANIFEST_INVALID', '20:16 ERR_MANIFEST_INVALID'],
  ],
  'invalid-projected-trust-bundle-same-path.yaml': [
    'invalid',
    "a clusterTrustBundle's path and a configMap item's both ca.pem in one projected volume",
    ['18:9 WARN_MANIFEST_IGNORED', '26:19 ERR_MANIFEST_INVALID'],
  ],
  // Round 12.
  'service-account-alone.yaml': [
    'valid',
    "an old chart's deprecated serviceAccount alone (the pod's serviceAccountName to a cluster), read by a fieldRef",
    [],
  ],
  'invalid-service-account-alone-bad-name.yaml': [
    'invalid',
    'serviceAccount Build_Bot alone (checked as the serviceAccountName it becomes)',
    ['8:19 ERR_MANIFEST_SCHEMA'],
  ],
  'service-account-both-differ.yaml': [
    'valid',
    'serviceAccountName web beside a stale serviceAccount Old_Web (dropped unread)',
    ['9:3 WARN_MANIFEST_IGNORED'],
  ],
  'podman-kube-generate-5.yaml': [
    'valid',
    'podman 5.4 kube generate: io.podman.annotations.*, seLinuxOptions spc_t, stdin/tty, a claim volume',
    ['15:3 WARN_MANIFEST_IGNORED', '33:7 WARN_MANIFEST_IGNORED', '35:5 WARN_MANIFEST_IGNORED'],
  ],
  'podman-kube-generate-bind.yaml': [
    // As security.yaml: a cluster does not read capability names; the runtime then fails on CAP_CAP_….
    'valid',
    'podman 5.2 kube generate of a bind mount: creationTimestamp null, bind-mount-options, drop CAP_MKNOD…',
    ['36:11 WARN_MANIFEST_K8S_REJECTS', '37:11 WARN_MANIFEST_K8S_REJECTS', '38:11 WARN_MANIFEST_K8S_REJECTS'],
  ],
  'kompose-pod.yaml': [
    'valid',
    'kompose convert --controller pod: io.kompose.service label, resources {}, OnFailure, status {}',
    ['21:1 WARN_MANIFEST_IGNORED'],
  ],
  'helm-nulls-everywhere.yaml': [
    'valid',
    'helm output of unset values: {}, [] and null for labels, annotations, env, ports, resources, probes',
    ['11:3 WARN_MANIFEST_IGNORED', '12:3 WARN_MANIFEST_IGNORED', '13:3 WARN_MANIFEST_IGNORED'],
  ],
  'image-pull-secrets-empty-name.yaml': [
    'valid',
    'imagePullSecrets [{name: ""}, {}] (a cluster warns: invalid empty name)',
    ['7:5 WARN_MANIFEST_IGNORED', '8:5 WARN_MANIFEST_IGNORED'],
  ],
  'volume-name-only.yaml': [
    'valid',
    'a volume of only a name and one of emptyDir: null (both emptyDirs)',
    [],
  ],
  'invalid-env-value-from-two-sources.yaml': [
    'invalid',
    'env valueFrom with fieldRef and configMapKeyRef',
    ['12:9 ERR_MANIFEST_INVALID'],
  ],
  'envfrom-prefix-relaxed.yaml': [
    'valid',
    'envFrom prefix 1-my.app- and env name my.var-1 (RelaxedEnvironmentVariableValidation)',
    [],
  ],
  'invalid-kind-lowercase.yaml': ['invalid', 'kind: pod', ['2:7 ERR_MANIFEST_KIND']],
  'invalid-configmap-volume-no-name.yaml': [
    'invalid',
    'configMap and secret volumes naming no object (optional: true)',
    ['15:7 ERR_MANIFEST_SCHEMA', '18:7 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-secret-mode-decimal.yaml': [
    'invalid',
    'defaultMode 644 written in decimal (above 0777)',
    ['16:20 ERR_MANIFEST_SCHEMA'],
  ],
  'kubectl-get-1-33-dump.yaml': [
    'valid',
    'kubectl get -o yaml on 1.33: generation, managedFields of kubectl-run and kubelet, status with observedGeneration, allocatedResources, user, recursiveReadOnly',
    [
      '4:3 WARN_MANIFEST_IGNORED',
      '5:3 WARN_MANIFEST_IGNORED',
      '8:3 WARN_MANIFEST_IGNORED',
      '36:3 WARN_MANIFEST_IGNORED',
      '37:3 WARN_MANIFEST_IGNORED',
      '45:5 WARN_MANIFEST_IGNORED',
      '51:3 WARN_MANIFEST_IGNORED',
      '52:3 WARN_MANIFEST_IGNORED',
      '53:3 WARN_MANIFEST_IGNORED',
      '54:3 WARN_MANIFEST_IGNORED',
      '56:3 WARN_MANIFEST_IGNORED',
      '58:3 WARN_MANIFEST_IGNORED',
      '61:3 WARN_MANIFEST_IGNORED',
      '75:9 WARN_MANIFEST_IGNORED',
      '78:9 WARN_MANIFEST_IGNORED',
      '89:1 WARN_MANIFEST_IGNORED',
    ],
  ],
  'list-crlf.yaml': ['valid', 'a YAML v1 List with CRLF line ends and metadata after items', []],
  'stop-signal-sleep-resize.yaml': [
    'valid',
    'stopSignal SIGQUIT under os linux, a preStop sleep, a liveness terminationGracePeriodSeconds, resizePolicy',
    ['20:5 WARN_MANIFEST_IGNORED'],
  ],
  'setfqdn-long-subdomain.yaml': [
    'valid',
    'setHostnameAsFQDN with a 63-character hostname and a 55-character subdomain (only a kubelet with a cluster domain checks the FQDN)',
    ['7:3 WARN_MANIFEST_IGNORED', '8:3 WARN_MANIFEST_IGNORED'],
  ],
  'annotations-unquoted-numbers.yaml': [
    'invalid',
    'prometheus.io/port: 9090 and scrape: true unquoted',
    ['7:25 WARN_MANIFEST_K8S_REJECTS', '8:27 WARN_MANIFEST_K8S_REJECTS'],
  ],
  'yaml11-number-forms.yaml': [
    'valid',
    'terminationGracePeriodSeconds 3e1, runAsUser 1e3, fsGroup 2000.0 (go-yaml floats, whole numbers in JSON)',
    [],
  ],
  'image-uppercase-repository.yaml': [
    'valid',
    'image Registry.Example.com/Team/App:1.0 (the kubelet: InvalidImageName)',
    ['11:12 ERR_REFERENCE_INVALID'],
  ],
  'hostip-ipv6-loopback.yaml': [
    'valid',
    'hostIP ::1 and fd00::10 (a cluster does not check hostIP)',
    ['14:15 ERR_MANIFEST_SCHEMA', '17:15 ERR_MANIFEST_SCHEMA'],
  ],
  'helm-empty-refused-lists.yaml': [
    'valid',
    'helm output of list values defaulted to []: resourceClaims, ephemeralContainers, volumeDevices, resources.claims',
    [],
  ],
  'invalid-ephemeral-container-listed.yaml': [
    'invalid',
    "kubectl debug's ephemeral container in the file beside resourceClaims: []",
    ['12:3 ERR_MANIFEST_UNSUPPORTED'],
  ],
  'invalid-service-target-port-quoted.yaml': [
    'invalid',
    'a Service with targetPort "8080" quoted, two ports without names, a nodePort on ClusterIP, a ClientIP timeout of a week',
    [
      '5:7 WARN_SERVICE_IGNORED',
      '14:23 ERR_MANIFEST_INVALID',
      '16:5 ERR_MANIFEST_INVALID',
      '17:17 ERR_MANIFEST_INVALID',
      '18:5 ERR_MANIFEST_INVALID',
      '20:15 ERR_MANIFEST_INVALID',
    ],
  ],
  'invalid-service-shapes.yaml': [
    'invalid',
    'Services whose ports are one map, a port a bare number, a selector a string: no ServiceSpec a cluster decodes',
    [
      '4:7 WARN_SERVICE_IGNORED',
      '8:13 ERR_MANIFEST_INVALID',
      '10:5 ERR_MANIFEST_INVALID',
      '13:7 WARN_SERVICE_IGNORED',
      '20:5 ERR_MANIFEST_INVALID',
    ],
  ],
  'invalid-service-port-name-upper.yaml': [
    'invalid',
    'a Service of type clusterIP, a selector value 1 unquoted, port name Postgres, protocol tcp',
    [
      '2:7 WARN_SERVICE_IGNORED',
      '6:9 ERR_MANIFEST_INVALID',
      '9:11 ERR_MANIFEST_INVALID',
      '11:11 ERR_MANIFEST_INVALID',
      '13:15 ERR_MANIFEST_INVALID',
    ],
  ],
  'services-headless-external-nodeport.yaml': [
    'valid',
    'a headless Service without ports, an ExternalName, a NodePort of named UDP and TCP ports on 53',
    ['4:7 WARN_SERVICE_IGNORED', '13:7 WARN_SERVICE_IGNORED', '21:7 WARN_SERVICE_IGNORED'],
  ],
  'kompose-service-claim-pod.yaml': [
    'valid',
    'kompose convert --controller pod: a Service with port name "5432", a claim with status {}, the pod',
    ['4:7 WARN_SERVICE_IGNORED', '68:1 WARN_MANIFEST_IGNORED'],
  ],
  'helm-large-ints-scientific.yaml': [
    'valid',
    "helm's rendering of a large integer value: runAsUser, runAsGroup, fsGroup 1e+06",
    [],
  ],
  'invalid-fs-group-fraction.yaml': ['invalid', 'fsGroup 1.5', ['7:14 ERR_MANIFEST_SCHEMA']],
  'helm-service-empty-values.yaml': [
    'valid',
    'a chart\'s Service with type, sessionAffinity, targetPort and protocol rendered ""',
    ['6:7 WARN_SERVICE_IGNORED'],
  ],
  'configmap-blank-values.yaml': [
    'valid',
    'a ConfigMap value, labels and an annotation left blank (null: "" to a cluster, the key kept)',
    [],
  ],
  'services-traffic-families.yaml': [
    'valid',
    'a LoadBalancer with externalTrafficPolicy Local, source ranges and a class; a dual-stack ClusterIP with internalTrafficPolicy Local and ClientIP affinity; externalIPs with a traffic policy; an ExternalName with a trailing dot',
    [
      '6:7 WARN_SERVICE_IGNORED',
      '24:7 WARN_SERVICE_IGNORED',
      '44:7 WARN_SERVICE_IGNORED',
      '58:7 WARN_SERVICE_IGNORED',
    ],
  ],
  'invalid-service-traffic-families.yaml': [
    'invalid',
    'externalTrafficPolicy on a ClusterIP, internalTrafficPolicy local, ipFamilyPolicy DualStack, IPv4 twice (a sessionAffinityConfig beside None is fine: defaulting drops it), an ExternalName URL beside a clusterIP, source ranges on a NodePort',
    [
      '6:7 WARN_SERVICE_IGNORED',
      '11:26 ERR_MANIFEST_INVALID',
      '12:26 ERR_MANIFEST_INVALID',
      '13:19 ERR_MANIFEST_INVALID',
      '14:22 ERR_MANIFEST_INVALID',
      '25:7 WARN_SERVICE_IGNORED',
      '30:17 ERR_MANIFEST_INVALID',
      '31:14 ERR_MANIFEST_INVALID',
      '34:7 WARN_SERVICE_IGNORED',
      '39:26 ERR_MANIFEST_INVALID',
      '40:29 ERR_MANIFEST_INVALID',
    ],
  ],
  'invalid-resources-null-limit.yaml': [
    'invalid',
    "a chart's cpu limit left blank (null: a quantity of 0 to a cluster, its key kept) beside a 250m request",
    ['15:14 ERR_MANIFEST_INVALID'],
  ],
  'helm-resources-null-request.yaml': [
    'valid',
    "a chart's cpu request left blank (a request of 0) beside both limits",
    [],
  ],
  'helm-pod-resources-null-limit.yaml': [
    'valid',
    "a chart's pod-level cpu limit left blank (a limit of 0: none, as nothing asks for cpu)",
    [],
  ],
  'tekton-taskrun-pod.yaml': [
    'valid',
    "Tekton's TaskRun pod: the entrypoint init copy, a step waiting on the downward API's ready annotation, FallbackToLogsOnError, a RuntimeDefault restricted init",
    ['59:5 WARN_MANIFEST_IGNORED'],
  ],
  'argo-workflow-pod.yaml': [
    'valid',
    "Argo Workflows' step pod (emissary): argoexec init, the wait sidecar beside main, fieldRef metadata.uid, the var-run-argo emptyDir",
    [],
  ],
  'jenkins-agent-pod.yaml': [
    'valid',
    'a Jenkins kubernetes-plugin pod template: jnlp agent and a tool container kept by sleep 99d, a workspace emptyDir, nodeSelector and a toleration',
    ['13:3 WARN_MANIFEST_IGNORED', '15:3 WARN_MANIFEST_IGNORED'],
  ],
  'gitlab-runner-build-pod.yaml': [
    'valid',
    "GitLab Runner's job pod: build and helper with stdin, ephemeral-storage requests, an init fixing permissions, hostAliases, an absent pull secret, grace 0",
    [
      '36:5 WARN_MANIFEST_IGNORED',
      '47:28 WARN_MANIFEST_IGNORED',
      '58:5 WARN_MANIFEST_IGNORED',
      '64:28 WARN_MANIFEST_IGNORED',
    ],
  ],
  'kubectl-run-1-34-dry-run.yaml': [
    'valid',
    'kubectl 1.34 run --dry-run=client -o yaml: no creationTimestamp, resources: {}, dnsPolicy ClusterFirst, status: {}',
    ['22:1 WARN_MANIFEST_IGNORED'],
  ],
  'kubectl-debug-copy-to.yaml': [
    'valid',
    'kubectl debug --copy-to --share-processes: a debugger container with stdin and tty appended, the defaults a copy carries',
    [
      '18:5 WARN_MANIFEST_IGNORED',
      '22:5 WARN_MANIFEST_IGNORED',
      '26:5 WARN_MANIFEST_IGNORED',
      '29:3 WARN_MANIFEST_IGNORED',
      '31:3 WARN_MANIFEST_IGNORED',
      '34:1 WARN_MANIFEST_IGNORED',
    ],
  ],
  'configmap-secret-volumes-env.yaml': [
    'valid',
    'a ConfigMap and a Secret beside the pod: items with modes, a subPath file, keyRefs, an optional key absent, envFrom with prefixes',
    [],
  ],
  'projected-mixed-sources-modes.yaml': [
    'valid',
    'a projected volume of a configMap, a secret, the downward API (labels, a memory limit in Mi) and a token, item modes beside a defaultMode',
    ['64:9 WARN_MANIFEST_IGNORED'],
  ],
  'downward-volume-ephemeral-divisor.yaml': [
    'valid',
    'a downwardAPI volume of requests.cpu in 1m, limits.ephemeral-storage in 1Ki, limits.memory in "1", item modes',
    ['16:28 WARN_MANIFEST_IGNORED', '20:28 WARN_MANIFEST_IGNORED'],
  ],
  'proc-mount-unmasked-userns.yaml': [
    'valid',
    'rootless buildkit: procMount Unmasked under hostUsers: false, seccomp and AppArmor Unconfined',
    ['18:7 WARN_MANIFEST_IGNORED'],
  ],
  'invalid-proc-mount-unmasked-host-users.yaml': [
    'invalid',
    "procMount Unmasked in the host's user namespace (`hostUsers` must be false to use `Unmasked`)",
    ['12:18 ERR_MANIFEST_UNSUPPORTED'],
  ],
  'selinux-change-policy.yaml': [
    'valid',
    'seLinuxChangePolicy Recursive (1.33) beside seLinuxOptions, supplementalGroupsPolicy Merge',
    ['9:5 WARN_MANIFEST_IGNORED', '10:5 WARN_MANIFEST_IGNORED', '12:5 WARN_MANIFEST_IGNORED'],
  ],
  'invalid-selinux-change-policy-lowercase.yaml': [
    'invalid',
    'seLinuxChangePolicy mountOption',
    ['7:5 WARN_MANIFEST_IGNORED', '7:26 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-supplemental-groups-policy-lowercase.yaml': [
    'invalid',
    'supplementalGroupsPolicy strict',
    ['8:5 WARN_MANIFEST_IGNORED', '8:31 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-dns-policy-lowercase.yaml': ['invalid', 'dnsPolicy clusterFirst', ['6:14 ERR_MANIFEST_SCHEMA']],
  'kubectl-get-1-19-selflink.yaml': [
    'valid',
    'a 1.19 kubectl get -o yaml: selfLink, resourceVersion, uid, creationTimestamp, status (each warned by name)',
    [
      '6:3 WARN_MANIFEST_IGNORED',
      '11:3 WARN_MANIFEST_IGNORED',
      '12:3 WARN_MANIFEST_IGNORED',
      '13:3 WARN_MANIFEST_IGNORED',
      '21:5 WARN_MANIFEST_IGNORED',
      '23:3 WARN_MANIFEST_IGNORED',
      '24:3 WARN_MANIFEST_IGNORED',
      '26:3 WARN_MANIFEST_IGNORED',
      '28:3 WARN_MANIFEST_IGNORED',
      '31:1 WARN_MANIFEST_IGNORED',
    ],
  ],
  'run-as-non-root-uid-zero.yaml': [
    'valid',
    'runAsNonRoot beside runAsUser 0 (the kubelet: CreateContainerConfigError; berth: ERR_RUN_AS_ROOT at create)',
    [],
  ],
  'services-app-protocol-health-check.yaml': [
    'valid',
    'a kubectl get of a LoadBalancer with externalTrafficPolicy Local and its allocated healthCheckNodePort, appProtocol http/https; a gRPC Service of appProtocol kubernetes.io/h2c',
    ['5:7 WARN_SERVICE_IGNORED', '30:7 WARN_SERVICE_IGNORED'],
  ],
  'invalid-service-app-protocol-node-ports.yaml': [
    'invalid',
    'a headless NodePort, one nodePort for two TCP ports, appProtocol "HTTP 2", a healthCheckNodePort without a Local LoadBalancer',
    [
      '4:7 WARN_SERVICE_IGNORED',
      '9:14 ERR_MANIFEST_INVALID',
      '10:24 ERR_MANIFEST_INVALID',
      '17:18 ERR_MANIFEST_INVALID',
      '20:15 ERR_MANIFEST_INVALID',
    ],
  ],
  // Round 14: what a cluster takes and fails only at a container's start is taken here too (the
  // container is refused at its create, or the pod waits, as the kubelet does); and more of what
  // people publish.
  'working-dir-relative.yaml': [
    'valid',
    'a relative workingDir (runc refuses it at the start: that container is ERR_CONTAINER_INVALID at its create, the other runs)',
    [],
  ],
  'downward-env-ref-missing-container.yaml': [
    'valid',
    'an env resourceFieldRef to a container the pod lacks (the kubelet: CreateContainerConfigError; berth: ERR_CONTAINER_CONFIG at its create)',
    [],
  ],
  'downward-volume-ref-missing-container.yaml': [
    'valid',
    "a downwardAPI volume's resourceFieldRef to a container the pod lacks (the kubelet's mount fails; the pod waits)",
    [],
  ],
  'kustomize-build-name-prefix.yaml': [
    'valid',
    'kustomize build: namePrefix, commonLabels and commonAnnotations, a generated ConfigMap named by its hash',
    [],
  ],
  'emptydir-size-odd-quantities.yaml': [
    'valid',
    'memory emptyDir sizeLimits +1Gi, 0.5Gi, an unquoted 1e9, 1.5G',
    [],
  ],
  'env-value-null-forms.yaml': ['valid', 'env values ~, null and left blank (each "")', []],
  'yaml-explicit-tags.yaml': [
    'valid',
    'explicit tags: !!int "8080" for a containerPort, !!str on a number and on yes and true',
    [],
  ],
  'probe-zero-thresholds.yaml': [
    'valid',
    "a chart's probes with every number rendered 0 (SetDefaults_Probe: timeout 1, period 10, thresholds 1 and 3)",
    [],
  ],
  'sidecar-lifecycle-probes.yaml': [
    'valid',
    'a native sidecar with startup, readiness and liveness probes by port name, postStart exec and preStop sleep',
    [],
  ],
  'invalid-port-protocol-sctp-lowercase.yaml': [
    'invalid',
    'protocol: sctp (a cluster takes SCTP as written)',
    ['13:17 WARN_MANIFEST_K8S_REJECTS'],
  ],
  'invalid-env-value-number.yaml': [
    'invalid',
    'env value: 8080 unquoted',
    ['13:14 WARN_MANIFEST_K8S_REJECTS'],
  ],
  'invalid-env-value-yes.yaml': [
    'invalid',
    'env value: yes unquoted (YAML 1.1: a boolean)',
    ['13:14 WARN_MANIFEST_K8S_REJECTS'],
  ],
  'invalid-sysctl-value-int.yaml': ['invalid', 'a sysctl value: 1 unquoted', ['11:14 ERR_MANIFEST_SCHEMA']],
  'invalid-dns-option-value-int.yaml': [
    'invalid',
    'dnsConfig option ndots value: 2 unquoted',
    ['11:14 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-label-version-float.yaml': [
    'invalid',
    'a label version: 1.0 unquoted (a float)',
    ['9:14 WARN_MANIFEST_K8S_REJECTS'],
  ],
  'invalid-command-string.yaml': ['invalid', 'command: sleep 3600 (a string)', ['11:14 ERR_MANIFEST_SCHEMA']],
  'invalid-image-pull-secrets-strings.yaml': [
    'invalid',
    'imagePullSecrets: [regcred] (names, not references)',
    ['9:5 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-init-startup-probe.yaml': [
    'invalid',
    'a startupProbe on an init container without restartPolicy Always',
    ['13:7 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-volume-mount-readonly-quoted.yaml': [
    'invalid',
    'readOnly: "true" (a string)',
    ['14:17 ERR_MANIFEST_SCHEMA'],
  ],
  'invalid-stop-signal-no-sig-prefix.yaml': [
    'invalid',
    'lifecycle.stopSignal TERM (a cluster names it SIGTERM)',
    ['14:19 ERR_MANIFEST_INVALID'],
  ],
};

/** Files a cluster takes that berth refuses on purpose, and the README's reason. */
const DIFFERS: Record<string, string> = {
  'docs-windows-emptydir.yaml': 'berth runs Linux containers: C:/scratch is no absolute Linux path',
  'docs-windows-hostpath.yaml': 'berth runs Linux containers: C:\\etc\\foo is no absolute Linux path',
  'deployment-and-pod.yaml':
    'a workload kind is ERR_MANIFEST_KIND: ignoring it would hide something meant to run',
  'generatename-only.yaml': 'berth needs a fixed metadata.name to know a pod again',
  'docs-cgroup-options-read-write.yaml':
    "cgroupOptions.mountMode ReadWrite is refused (not yet): berth mounts a container's cgroup file system read-only",
  'docs-env-file-key-ref.yaml':
    'fileKeyRef is refused: berth does not read variables from a file in a volume',
  'docs-kyaml-restart-all-containers.yaml':
    'restartPolicyRules action RestartAllContainers (1.35 alpha) is refused by name: a rule restarts only its container',
  'probe-http2.yaml': "httpGet protocol HTTP2 is refused (not yet): berth's prober speaks HTTP/1.1",
  'probe-grpc-tls.yaml': "grpc mode TLS is refused (not yet): berth's prober speaks plaintext gRPC",
  'downward-api-default-user.yaml':
    "downwardAPI.defaultUser is refused (not yet): a config volume's files are owned by the pod's root",
  'dra-resource-claim.yaml': 'resourceClaims are refused: dynamic resource allocation needs a cluster',
  'ephemeral-volume.yaml': 'an ephemeral volume is refused: it is provisioned by a cluster',
  'csi-inline-secrets-store.yaml':
    "a csi volume is refused: a network or cloud volume needs a cluster's attach machinery (mount it on the host, use hostPath)",
  'runtime-class-kata.yaml':
    'runtimeClassName is refused: berth has one runtime (runc), and running a pod without the sandbox it asks for would be unsafe',
  'windows-pod.yaml': 'spec.os.name windows is refused: berth runs Linux containers',
  'image-uppercase-repository.yaml':
    'an image reference that does not parse is refused at load: a cluster takes the file and its kubelet fails the pod (InvalidImageName)',
  'hostip-ipv6-loopback.yaml':
    'a hostIP is an IPv4 address: berth publishes ports on IPv4 host addresses only (::1 is never routed to a pod)',
};

const files = readdirSync(DIR)
  .filter((f) => /\.(ya?ml|json)$/.test(f))
  .sort();
const actual = Object.fromEntries(
  files.map((f) => {
    const r = parseFile(readFileSync(new URL(f, DIR), 'utf8'), f);
    return [f, r.diagnostics];
  }),
);

describe('pods as people write them', () => {
  it('gives each file its exact diagnostics', () => {
    expect(files).toEqual(Object.keys(EXPECTED).sort());
    for (const f of files)
      expect([f, actual[f]?.map((d) => `${d.line}:${d.col} ${d.code}`)]).toEqual([f, EXPECTED[f]?.[2]]);
  });

  it('loads every file a cluster takes, but for the differences the README states', () => {
    const refused = files.filter(
      (f) => EXPECTED[f]?.[0] === 'valid' && actual[f]?.some(isError) && !(f in DIFFERS),
    );
    expect(refused).toEqual([]);
  });

  it('never takes in silence a file a cluster refuses', () => {
    const taken = files.filter(
      (f) =>
        EXPECTED[f]?.[0] === 'invalid' &&
        !actual[f]?.some((d) => isError(d) || d.code === 'WARN_MANIFEST_K8S_REJECTS'),
    );
    expect(taken).toEqual([]);
  });
});
