// A container's probes and lifecycle hooks, read from its (validated) manifest with Kubernetes'
// defaults: periodSeconds 10, timeoutSeconds 1, successThreshold 1, failureThreshold 3,
// initialDelaySeconds 0; a 0 given for any of the first four is its default too (SetDefaults_Probe
// turns it so before validation, so a cluster takes it). Pure.
import type { HandlerAction, PortRef } from './action.js';

export type ProbeKind = 'liveness' | 'readiness' | 'startup';

export interface ProbeSpec {
  action: HandlerAction;
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  successThreshold: number;
  failureThreshold: number;
  /** The probe's own terminationGracePeriodSeconds (liveness and startup), over the pod's. */
  graceSeconds?: number;
}

export type ContainerProbes = Partial<Record<ProbeKind, ProbeSpec>>;

export interface LifecycleHooks {
  postStart?: HandlerAction;
  preStop?: HandlerAction;
  /**
   * The container's named ports (`ports[].name` → `containerPort`), when it has any: kept with the
   * hooks so a preStop finds them on a container whose pod has left the manifests.
   */
  namedPorts?: Record<string, number>;
}

/** The manifest's shapes (schemas/pod.schema.json has checked them). */
interface RawHandler {
  exec?: { command?: string[] };
  httpGet?: {
    path?: string;
    port: PortRef;
    host?: string;
    scheme?: 'HTTP' | 'HTTPS';
    /** A header's value may be left out (or null): "", as a cluster decodes it. */
    httpHeaders?: Array<{ name: string; value?: string }>;
  };
  tcpSocket?: { port: PortRef; host?: string };
  grpc?: { port: number; service?: string };
  sleep?: { seconds: number };
}

interface RawProbe extends RawHandler {
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
  terminationGracePeriodSeconds?: number;
}

export interface RawContainerHealth {
  livenessProbe?: RawProbe;
  readinessProbe?: RawProbe;
  startupProbe?: RawProbe;
  lifecycle?: { postStart?: RawHandler; preStop?: RawHandler };
  ports?: Array<{ name?: string; containerPort: number }>;
}

/** The container's named ports (`ports[].name` → `containerPort`). */
export function namedPortsOf(c: RawContainerHealth): Record<string, number> {
  return Object.fromEntries((c.ports ?? []).flatMap((p) => (p.name ? [[p.name, p.containerPort]] : [])));
}

/** The one action a handler names (validation guarantees exactly one). */
export function actionOf(h: RawHandler): HandlerAction {
  if (h.exec) return { kind: 'exec', command: h.exec.command ?? [] };
  if (h.httpGet)
    return {
      kind: 'httpGet',
      scheme: h.httpGet.scheme ?? 'HTTP',
      ...(h.httpGet.host ? { host: h.httpGet.host } : {}),
      port: h.httpGet.port,
      path: h.httpGet.path || '/',
      headers: (h.httpGet.httpHeaders ?? []).map((x) => ({ name: x.name, value: x.value ?? '' })),
    };
  if (h.tcpSocket)
    return {
      kind: 'tcpSocket',
      ...(h.tcpSocket.host ? { host: h.tcpSocket.host } : {}),
      port: h.tcpSocket.port,
    };
  if (h.grpc) return { kind: 'grpc', port: h.grpc.port, service: h.grpc.service ?? '' };
  if (h.sleep) return { kind: 'sleep', seconds: h.sleep.seconds };
  throw new Error('a handler with no action'); // unreachable after validation
}

export function probeOf(p: RawProbe): ProbeSpec {
  return {
    action: actionOf(p),
    initialDelayMs: (p.initialDelaySeconds ?? 0) * 1000,
    // 0 is the default too, as Kubernetes' SetDefaults_Probe makes it.
    periodMs: (p.periodSeconds || 10) * 1000,
    timeoutMs: (p.timeoutSeconds || 1) * 1000,
    successThreshold: p.successThreshold || 1,
    failureThreshold: p.failureThreshold || 3,
    ...(p.terminationGracePeriodSeconds !== undefined
      ? { graceSeconds: p.terminationGracePeriodSeconds }
      : {}),
  };
}

export function containerProbes(c: RawContainerHealth): ContainerProbes | undefined {
  const out: ContainerProbes = {
    ...(c.livenessProbe ? { liveness: probeOf(c.livenessProbe) } : {}),
    ...(c.readinessProbe ? { readiness: probeOf(c.readinessProbe) } : {}),
    ...(c.startupProbe ? { startup: probeOf(c.startupProbe) } : {}),
  };
  return Object.keys(out).length > 0 ? out : undefined;
}

export function lifecycleHooks(c: RawContainerHealth): LifecycleHooks | undefined {
  const l = c.lifecycle;
  if (!l?.postStart && !l?.preStop) return undefined;
  const ports = namedPortsOf(c);
  return {
    ...(l.postStart ? { postStart: actionOf(l.postStart) } : {}),
    ...(l.preStop ? { preStop: actionOf(l.preStop) } : {}),
    ...(Object.keys(ports).length > 0 ? { namedPorts: ports } : {}),
  };
}
