// An empty string where Kubernetes' Pod type has a plain (non-pointer) string field is that field not
// given, as a cluster reads it: Go decodes "" to the zero value, so defaulting fills it
// (`imagePullPolicy: ""` by the image's tag, `restartPolicy: ""` as Always, `protocol: ""` as TCP,
// `terminationMessagePath: ""` as its default) and validation skips what is only checked when set
// (`hostname`, `subPath`, a probe's `host`). Charts render unset values so (`imagePullPolicy: {{
// .Values.pullPolicy }}`); the schema refused them. Only the optional fields berth's schema would
// refuse as "" are listed: a required one left "" (a container's `name`, `image`) stays an error, as
// in a cluster, and a pointer field given "" (`mountPropagation`, `procMount`) is a value a cluster
// refuses too. Pure: rewrites the value it is given (a fresh toJS copy), before the tier table.
// Any v1 object's `metadata.namespace: ""` is the default namespace, as kubectl (which fills in its
// context's) and the kubelet's file source (which defaults it) read it: a chart renders
// `namespace: {{ .Values.namespace }}` so when none is set. A Secret's `type: ""` is Opaque, as a
// cluster defaults it (`type: {{ .Values.secretType }}` unset).
import { forEachField } from './tier-check.js';
import { expandTierPath } from './tiers.js';

const HANDLERS = [
  'livenessProbe',
  'readinessProbe',
  'startupProbe',
  'lifecycle.postStart',
  'lifecycle.preStop',
].flatMap((h) => [`${h}.httpGet.host`, `${h}.httpGet.scheme`, `${h}.tcpSocket.host`]);

/** The fields (tiers.ts' keys: `container.` is every container list) where "" means not given. */
export const EMPTY_IS_UNSET: readonly string[] = [
  'spec.restartPolicy',
  'spec.dnsPolicy',
  'spec.serviceAccountName',
  'spec.serviceAccount',
  'spec.hostname',
  'spec.subdomain',
  'container.workingDir',
  'container.imagePullPolicy',
  'container.terminationMessagePath',
  'container.terminationMessagePolicy',
  'container.ports.*.name',
  'container.ports.*.protocol',
  'container.ports.*.hostIP',
  'container.volumeMounts.*.subPath',
  'container.volumeMounts.*.subPathExpr',
  ...HANDLERS.map((h) => `container.${h}`),
];

const PATTERNS = EMPTY_IS_UNSET.flatMap(expandTierPath);

/** Removes each listed field whose value is "". */
export function dropEmptyStrings(value: unknown): void {
  forEachField(value, PATTERNS, (holder, key) => {
    if (holder[key] === '') delete holder[key];
  });
}

/**
 * Removes a v1 object's `metadata.namespace` when it is "" (the default namespace), and a Secret's
 * `type` when it is "" (Opaque: SetDefaults_Secret fills in an empty type).
 */
export function dropEmptyObjectFields(kind: unknown, value: unknown): void {
  const fields = kind === 'Secret' ? [['metadata', 'namespace'], ['type']] : [['metadata', 'namespace']];
  forEachField(value, fields, (holder, key) => {
    if (holder[key] === '') delete holder[key];
  });
}
