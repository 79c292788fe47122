import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    // Simulations are CPU-bound: one worker per core, no more.
    maxWorkers: 2,
  },
});
