// A bridge pod's own address in its containers' environment (status.podIP/podIPs; a downwardAPI
// volume takes only metadata.* fields, as in Kubernetes).
// The address is the network's to give, when the sandbox is set up, after the desired state is
// built. So the desired state holds a marker where the address goes, and the marker is what is
// hashed and compared (a container is not made again because its pod's address is known now, nor
// when a new sandbox brings a new address: a new sandbox makes every container again anyway). The
// executor puts the address in just before a container is created, from the
// pod's attachment record: the kubelet too fills status.podIP in when it starts a container, from
// its sandbox. In env, command, args and a subPathExpr's result the marker is replaced wherever
// $(VAR) put it. Pure, but for `podAddressOf`, which reads the record.
import { BerthError } from '../lib/errors.js';
import { readAttachment } from '../network/attachments.js';
import type { ContainerSettings } from '../runtime/spec.js';
import { POD_IP_MARKER } from './downward.js';

const fill = (s: string, ip: string) => s.split(POD_IP_MARKER).join(ip);

const hasMarker = (list: string[] | undefined) => (list ?? []).some((s) => s.includes(POD_IP_MARKER));

/** Whether the container's env, command or args wait for its pod's address. */
export const needsPodAddress = (s: ContainerSettings): boolean =>
  hasMarker(s.env) ||
  hasMarker(s.entrypoint) ||
  hasMarker(s.command) ||
  hasMarker((s.mounts ?? []).map((m) => m.subPath ?? ''));

/** The container's settings with its pod's address in place of the marker. */
export function withPodAddress(s: ContainerSettings, ip: string): ContainerSettings {
  return {
    ...s,
    ...(s.env ? { env: s.env.map((v) => fill(v, ip)) } : {}),
    ...(s.entrypoint ? { entrypoint: s.entrypoint.map((v) => fill(v, ip)) } : {}),
    ...(s.command ? { command: s.command.map((v) => fill(v, ip)) } : {}),
    ...(s.mounts
      ? {
          mounts: s.mounts.map((m) => (m.subPath === undefined ? m : { ...m, subPath: fill(m.subPath, ip) })),
        }
      : {}),
  };
}

/** The pod's address on the bridge network, from its attachment record (ready: set up). */
export async function podAddressOf(attachments: string | undefined, pod: string): Promise<string> {
  const a = attachments ? await readAttachment(attachments, `pod-${pod}`) : undefined;
  if (a?.state !== 'ready' || !a.ip)
    throw new BerthError(
      'ERR_NETWORK',
      'unavailable',
      `pod ${pod}: its address is not known yet (status.podIP): the pod is not on the network`,
    );
  return a.ip;
}
