// The wire protocols Kubernetes 1.37 lets a probe or hook ask for that berth's prober does not speak
// yet: an httpGet's `protocol: HTTP2` (h2c, H2CContainerProbe) and a grpc probe's `mode: TLS`
// (GRPCContainerProbeTLS). Each is refused at its value (ERR_MANIFEST_UNSUPPORTED), never run as
// HTTP/1.1 or plaintext: a probe spoken in the wrong protocol fails and restarts a healthy container.
// HTTP1 and Plaintext, the defaults, are honoured. Pure.
import type { Diagnostic } from '../lib/yaml-validate.js';
import type { PodManifest } from './kinds.js';
import { isObj } from './plain.js';
import { at, type ParsedDoc } from './position.js';

const HANDLERS: string[][] = [
  ['livenessProbe'],
  ['readinessProbe'],
  ['startupProbe'],
  ['lifecycle', 'postStart'],
  ['lifecycle', 'preStop'],
];

export function checkProbeProtocols(p: ParsedDoc): Diagnostic[] {
  const pod = p.value as PodManifest;
  const out: Diagnostic[] = [];
  for (const list of ['initContainers', 'containers'] as const)
    for (const [i, c] of (pod.spec[list] ?? []).entries())
      for (const handler of HANDLERS) {
        let h: unknown = c;
        for (const k of handler) h = isObj(h) ? h[k] : undefined;
        if (!isObj(h)) continue;
        const base = ['spec', list, i, ...handler];
        if (isObj(h.httpGet) && h.httpGet.protocol === 'HTTP2')
          out.push(
            at(
              p,
              [...base, 'httpGet', 'protocol'],
              'ERR_MANIFEST_UNSUPPORTED',
              `container ${c.name}: ${handler.join('.')} httpGet protocol HTTP2 (h2c, Kubernetes 1.37 alpha) is not supported yet: berth's prober speaks HTTP/1.1`,
            ),
          );
        if (isObj(h.grpc) && h.grpc.mode === 'TLS')
          out.push(
            at(
              p,
              [...base, 'grpc', 'mode'],
              'ERR_MANIFEST_UNSUPPORTED',
              `container ${c.name}: ${handler.join('.')} grpc mode TLS (Kubernetes 1.37 alpha) is not supported yet: berth's prober speaks plaintext gRPC`,
            ),
          );
      }
  return out;
}
