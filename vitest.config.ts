import { defineConfig } from 'vitest/config';

/**
 * Tests that spawn pcsim processes, install the package, fuzz thousands of inputs or
 * run every registered type through the contract checks:
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
  // Every registered protocol through batching, prefetch, checkpoint and partitions.
  'test/contract.test.ts',
  'test/checkpoint-builtins.test.ts',
  // Campaigns of real pcsim processes: sweeps, shards, kills and resumes, the cluster examples.
  'test/campaign/sweep.test.ts',
  'test/campaign/cluster.test.ts',
  // Expectations, check and diff through the command line.
  'test/expect/cli-expect.test.ts',
  // Campaign expectations through the command line; every experiment's quick version.
  'test/campaign/sweep-expect.test.ts',
  'test/experiments.test.ts',
];

/**
 * Property tests that run a few cases in `npm test` and many in the slow tier, where
 * PCSIM_TIER=full tells them to.
 */
const tiered = [
  'test/checkpoint-property.test.ts',
  'test/protocols/cyclon-paper.test.ts',
];

/** Files that replace modules (vi.mock): they need modules of their own. */
const mocking = [
  'test/output/manifest.test.ts',
  'test/checkpoint-chunks.test.ts',
  'test/checkpoint-durable.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    // Simulations are CPU-bound: one worker per core, no more.
    maxWorkers: 2,
    projects: [
      // The everyday files share each worker's modules: importing pcsim afresh for every
      // file cost about 0.6 s each. Files that mock modules keep a fresh import.
      { extends: true, test: { name: 'quick', include: ['test/**/*.test.ts'], exclude: [...slow, ...mocking], isolate: false } },
      { extends: true, test: { name: 'quick-mocking', include: mocking } },
      { extends: true, test: { name: 'slow', include: [...slow, ...tiered], env: { PCSIM_TIER: 'full' } } },
    ],
  },
});
