// YAML 1.1's octal integers (`0400`), as Kubernetes reads manifests (sigs.k8s.io/yaml is YAML 1.1):
// `defaultMode: 0400` is 256 there, and every example in the Kubernetes docs writes modes so. The
// YAML 1.2 core schema reads it as decimal 400 (mode 0620: group-writable), so without this tag a
// Secret file meant to be owner-only would be written readable and writable by others. Pure.
import type { ScalarTag, Tags } from 'yaml';

const octal11: ScalarTag = {
  identify: () => false, // parsing only: berth never writes a number as octal
  default: true,
  tag: 'tag:yaml.org,2002:int',
  format: 'OCT',
  test: /^[-+]?0[0-7]+$/,
  resolve: (text) => Number.parseInt(text, 8),
};

/** The schema's tags with YAML 1.1 octal integers tried first. */
export const withYaml11Octal = (tags: Tags): Tags => [octal11, ...tags];
