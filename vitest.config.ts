import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests start real registries on random ports; files may run in parallel.
    pool: 'forks',
    globalSetup: ['test/helpers/global-setup.ts'],
  },
});
