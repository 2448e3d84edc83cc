import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // The build's precompiled schema validators (scripts/bundle.mjs): none from source.
    alias: [
      {
        find: /^berth:validator\/.*$/,
        replacement: fileURLToPath(new URL('./test/helpers/no-precompiled-validator.ts', import.meta.url)),
      },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests start real registries on random ports; files may run in parallel.
    pool: 'forks',
    globalSetup: ['test/helpers/global-setup.ts'],
  },
});
