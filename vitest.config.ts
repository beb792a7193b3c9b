import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // Generous: a test waits for conditions with deadlines of its own, and a loaded 2-core machine
    // (CI beside other work) may take minutes over an e2e test that takes seconds when idle.
    testTimeout: 180_000,
    hookTimeout: 120_000,
    // Two cores: run files in parallel, but not so many that PostgreSQL starves.
    maxWorkers: 3,
    reporters: ['default', 'json'],
    outputFile: { json: '.data/test-report.json' },
  },
});
