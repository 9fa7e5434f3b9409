// Browser end-to-end tests (issue E, kept apart from the unit/integration projects): Playwright (playwright-core) driving the system's Chromium
// against a real local workspace and the real bot. `npm run test:e2e`; run by `.ci/run`.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'e2e',
    include: ['test/e2e/**/*.test.ts'],
    setupFiles: ['test/support/console-guard.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});
