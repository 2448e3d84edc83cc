// What an archive offers, whatever its format: named images (a reference → its top descriptor,
// an index or a manifest) and a way to find each blob. OCI layouts keep blobs by digest; docker
// archives have none, so their OCI manifests are made up here, and held in memory.
import type { Descriptor } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import type { ArchiveFiles } from './files.js';

export interface ArchiveImage {
  /** The full normalised reference, e.g. docker.io/library/busybox:latest. */
  name: string;
  descriptor: Descriptor;
}

/** A blob: a file of the archive, or bytes made up from it (docker archives' manifests). */
export type ArchiveBlob = { path: string } | { bytes: Buffer };

export interface ImageSet {
  format: 'oci' | 'docker';
  files: ArchiveFiles;
  images: ArchiveImage[];
  /** Images the archive holds without a name berth can give them (imported only with `--name`). */
  unnamed: Descriptor[];
  /** An OCI layout's every entry, those its images were made up of too (for REF@DIGEST). */
  listed?: Descriptor[];
  blob(digest: Digest): ArchiveBlob;
}
