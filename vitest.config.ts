import { defineConfig } from 'vitest/config';

// Forks, not threads: the integration tests start piscina worker threads of their own, and a
// forked test process gives each file a clean process that must exit by itself (a leaked handle shows).
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    // Builds dist/ first when any source is newer than it: tests never run stale code.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
