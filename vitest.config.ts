import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // tshark runs as a child process in many tests; two cores, so keep the pool small.
    pool: 'forks',
    testTimeout: 60_000,
  },
});
