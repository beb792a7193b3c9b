import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: run files in parallel, but not so many that PostgreSQL starves.
    maxWorkers: 3,
    reporters: ['default', 'json'],
    outputFile: { json: '.data/test-report.json' },
  },
});
