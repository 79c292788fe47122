import { defineConfig } from 'vitest/config';

/**
 * Tests that spawn pcsim processes, install the package or fuzz thousands of inputs:
 * `npm run test:full` (and CI) runs them with the rest; `npm test` leaves them out.
 */
const slow = [
  'test/cli.test.ts',
  'test/signals.test.ts',
  'test/plugin.test.ts',
  'test/package.test.ts',
  'test/fuzz/**/*.test.ts',
  'test/output/folder.test.ts',
  'test/output/progress.test.ts',
  'test/engine/event-queue.test.ts',
];

/**
 * Property tests that run a few cases in `npm test` and many in the slow tier, where
 * PCSIM_TIER=full tells them to.
 */
const tiered = [
  'test/checkpoint-property.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    // Simulations are CPU-bound: one worker per core, no more.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'quick', include: ['test/**/*.test.ts'], exclude: slow } },
      { extends: true, test: { name: 'slow', include: [...slow, ...tiered], env: { PCSIM_TIER: 'full' } } },
    ],
  },
});
