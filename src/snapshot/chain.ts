// ChainIDs (OCI image-spec): the identity of a layer stacked on the layers below it.
// ChainID(L0) = DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)). Pure.
import { type Digest, sha256Of } from '../oci/digest.js';

export function chainIds(diffIds: readonly string[]): Digest[] {
  const out: Digest[] = [];
  for (const diffId of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? (diffId as Digest) : sha256Of(`${prev} ${diffId}`));
  }
  return out;
}
