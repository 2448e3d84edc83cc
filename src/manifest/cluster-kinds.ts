// Kinds that only configure a cluster (its API server, scheduler, ingress controller, storage
// provisioner) and that people keep in one file with their pods: RBAC, a ServiceAccount, a
// Namespace, an Ingress, a PodDisruptionBudget. On one host none of them means anything, so each is
// one WARN_KIND_IGNORED at its kind and the file's pods run, as `podman kube play` skips a kind it
// does not run. What would run something (Deployment, Job, …) or restrict traffic (NetworkPolicy)
// is no such kind: leaving it out unsaid would hide a workload or a safeguard, so it stays an error.
// Pure.

import type { Diagnostic } from '../lib/yaml-validate.js';
import { at, type ParsedDoc } from './position.js';

const RBAC = "only a cluster's API server enforces RBAC";
const SCHEDULER = 'only a scheduler uses it: berth runs every pod on this host';
const STORAGE = "a claim names a berth volume: only a cluster's storage provisioning reads it";

/** `apiVersion/kind` → why it means nothing on one host. */
const CLUSTER_KINDS: Record<string, string> = {
  'v1/Namespace': 'a pod needs no Namespace object on one host: its metadata.namespace is enough',
  'v1/ServiceAccount': 'there is no cluster API for a service account to talk to',
  'v1/PersistentVolume': STORAGE,
  'v1/LimitRange': "only a cluster's API server applies it",
  'v1/ResourceQuota': "only a cluster's API server applies it",
  'v1/Endpoints': "only a cluster's Services use it",
  'discovery.k8s.io/v1/EndpointSlice': "only a cluster's Services use it",
  'rbac.authorization.k8s.io/v1/Role': RBAC,
  'rbac.authorization.k8s.io/v1/RoleBinding': RBAC,
  'rbac.authorization.k8s.io/v1/ClusterRole': RBAC,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': RBAC,
  'networking.k8s.io/v1/Ingress':
    "only a cluster's ingress controller routes it: publish a port with hostPort",
  'networking.k8s.io/v1/IngressClass':
    "only a cluster's ingress controller routes it: publish a port with hostPort",
  'policy/v1/PodDisruptionBudget': "only a cluster's eviction API reads it",
  'scheduling.k8s.io/v1/PriorityClass': SCHEDULER,
  'storage.k8s.io/v1/StorageClass': STORAGE,
  'autoscaling/v1/HorizontalPodAutoscaler': 'it scales workloads a cluster runs: a pod here is one pod',
  'autoscaling/v2/HorizontalPodAutoscaler': 'it scales workloads a cluster runs: a pod here is one pod',
};

/** The warning for a document of a kind only a cluster uses, or undefined for any other kind. */
export function clusterKindWarning(p: ParsedDoc, apiVersion: unknown, kind: unknown): Diagnostic | undefined {
  const why = CLUSTER_KINDS[`${String(apiVersion)}/${String(kind)}`];
  if (why === undefined) return undefined;
  const name = (p.value as { metadata?: { name?: unknown } }).metadata?.name;
  const named = typeof name === 'string' ? `${String(kind)} ${name}` : String(kind);
  return at(p, ['kind'], 'WARN_KIND_IGNORED', `${named} is ignored: ${why}`);
}
