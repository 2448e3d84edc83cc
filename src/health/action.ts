// A handler action of a probe or a lifecycle hook, as Kubernetes defines them (ProbeHandler,
// LifecycleHandler), where it runs, and what came of it. Types only: `RunAction` is given to
// whoever runs actions (the prober, the hooks), so they are tested with the real handlers.

/** A port by number, or by the name of one of the container's ports. */
export type PortRef = number | string;

export interface HttpHeader {
  name: string;
  value: string;
}

export type HandlerAction =
  | { kind: 'exec'; command: string[] }
  | {
      kind: 'httpGet';
      scheme: 'HTTP' | 'HTTPS';
      /** Absent: the pod's address. */
      host?: string;
      port: PortRef;
      path: string;
      headers: HttpHeader[];
    }
  | { kind: 'tcpSocket'; host?: string; port: PortRef }
  | { kind: 'grpc'; port: number; service: string }
  | { kind: 'sleep'; seconds: number };

export interface ActionTarget {
  /** The container's runtime id: exec actions run in it. */
  containerId: string;
  /** Where network actions go when they name no host: the pod's address, 127.0.0.1 for a hostNetwork pod. */
  address: string;
  /** The container's named ports (`ports[].name` → `containerPort`). */
  namedPorts: Record<string, number>;
}

export interface ActionResult {
  ok: boolean;
  /** What happened, for people: `HTTP 500`, `connection refused`, `exit code 1`, `timed out after 1 s`. */
  message: string;
}

export type RunAction = (
  action: HandlerAction,
  target: ActionTarget,
  o: { timeoutMs: number; signal?: AbortSignal },
) => Promise<ActionResult>;
