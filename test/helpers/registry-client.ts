// Shared set-up for tests of the registry client: clients with instant back-off that are closed
// after each test, and layer descriptors for blobs a test server holds.
import type { Descriptor } from '../../src/oci/descriptor.js';
import type { Digest } from '../../src/oci/digest.js';
import { createRegistryClient, type RegistryClientOptions } from '../../src/registry/client.js';

export type Closeable = { close(): Promise<void> | void };

/** A client factory whose clients join `cleanup`; `retries` is the file's default. */
export function clientFactory(cleanup: Closeable[], retries: number) {
  return (options: RegistryClientOptions = {}) => {
    const c = createRegistryClient({
      sleep: async () => undefined,
      retries,
      idleTimeoutMs: 2000,
      ...options,
    });
    cleanup.push(c);
    return c;
  };
}

export const layerDescriptor = (d: { digest: string; size: number }): Descriptor => ({
  mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
  digest: d.digest as Digest,
  size: d.size,
});
