// What the schema cannot say about a container's volume mounts, as Kubernetes' validation says it:
// subPath and subPathExpr exclude each other, Bidirectional propagation (a container's mounts
// reaching the host) is for privileged containers only, and recursiveReadOnly asks for readOnly
// and no propagation (Enabled and IfPossible alike: validateMountRecursiveReadOnly). Pure.
import type { Diagnostic } from '../lib/yaml-validate.js';
import type { ContainerManifest } from './kinds.js';
import { at, type ParsedDoc } from './position.js';

export function checkMounts(p: ParsedDoc, c: ContainerManifest, path: Array<string | number>): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const [j, m] of (c.volumeMounts ?? []).entries()) {
    const here = [...path, 'volumeMounts', j];
    if (m.subPath !== undefined && m.subPathExpr !== undefined)
      out.push(
        at(
          p,
          [...here, 'subPathExpr'],
          'ERR_MANIFEST_INVALID',
          `volume mount ${m.mountPath}: subPath and subPathExpr exclude each other (a cluster rejects both)`,
        ),
      );
    if (m.mountPropagation === 'Bidirectional' && c.securityContext?.privileged !== true)
      out.push(
        at(
          p,
          [...here, 'mountPropagation'],
          'ERR_MANIFEST_INVALID',
          `volume mount ${m.mountPath}: Bidirectional mount propagation is for privileged containers only (as in Kubernetes)`,
        ),
      );
    const rro = m.recursiveReadOnly;
    if ((rro === 'Enabled' || rro === 'IfPossible') && m.readOnly !== true)
      out.push(
        at(
          p,
          [...here, 'recursiveReadOnly'],
          'ERR_MANIFEST_INVALID',
          `volume mount ${m.mountPath}: recursiveReadOnly ${rro} needs readOnly: true (as in Kubernetes)`,
        ),
      );
    if ((rro === 'Enabled' || rro === 'IfPossible') && (m.mountPropagation ?? 'None') !== 'None')
      out.push(
        at(
          p,
          [...here, 'recursiveReadOnly'],
          'ERR_MANIFEST_INVALID',
          `volume mount ${m.mountPath}: recursiveReadOnly ${rro} needs mountPropagation None (as in Kubernetes)`,
        ),
      );
  }
  return out;
}
