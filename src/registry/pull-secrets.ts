// A pod's `imagePullSecrets` (`kubernetes.io/dockerconfigjson` Secrets) as credentials, the way
// the kubelet uses them: for a registry one of them names, its entry (the first Secret that names
// it wins); for any other registry, the host's own credentials. So a pod's secret goes only to the
// registries it names. A Secret whose JSON cannot be read is skipped (the loader already reported
// it); no message ever quotes its content. Pure.
import { type CredentialLookup, parseCredentials } from './credentials.js';

export function pullSecretCredentials(texts: string[], host: CredentialLookup): CredentialLookup {
  const lookups = texts.flatMap((text, i) => {
    try {
      return [parseCredentials(text, `imagePullSecrets[${i}]`)];
    } catch {
      return [];
    }
  });
  return (registry) => {
    for (const lookup of lookups) {
      const found = lookup(registry);
      if (found) return found;
    }
    return host(registry);
  };
}
