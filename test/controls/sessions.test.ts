import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lifetimeCdf, lifetimeMean, type Lifetime } from '../../src/engine/lifetimes.js';
import { simulate } from '../helpers.js';

/** Kolmogorov-Smirnov statistic of a sample against a continuous CDF. */
function ksStatistic(sample: number[], cdf: (x: number) => number): number {
  const sorted = [...sample].sort((a, b) => a - b);
  const n = sorted.length;
  let d = 0;
  sorted.forEach((x, i) => {
    const f = cdf(x);
    d = Math.max(d, (i + 1) / n - f, f - i / n);
  });
  return d;
}
/** Critical value of the KS statistic at the 1% level (asymptotic). */
const ksCritical1 = (n: number) => 1.628 / Math.sqrt(n);

/**
 * Runs `nodes` nodes whose sessions follow `on` and that never return, long enough
 * for (nearly) every session to complete, and returns the completed session lengths.
 * Every node's one session starts at 0, so the sample is not biased toward short
 * sessions the way "sessions completed within a window" would be.
 */
async function completedSessions(on: Lifetime, nodes: number, cycles: number, seed: number): Promise<number[]> {
  const simulation = await simulate({
    seed, size: nodes, cycles,
    protocols: {},
    controls: { sessions: { type: 'sessions', on, record: nodes } },
  });
  simulation.run(() => {});
  return (simulation.control('sessions') as unknown as { completed: number[] }).completed;
}

describe('session lifetimes', () => {
  it('reproduce a Weibull session distribution (shape 0.38, scale 42.4 minutes, one cycle per minute)', async () => {
    const on: Lifetime = { dist: 'weibull', shape: 0.38, scale: 42.4 };
    const sample = await completedSessions(on, 20_000, 20_000, 1);
    expect(sample.length).toBeGreaterThan(0.9999 * 20_000);
    const mean = sample.reduce((a, b) => a + b, 0) / sample.length;
    expect(Math.abs(mean / lifetimeMean(on) - 1)).toBeLessThan(0.05);
    expect(ksStatistic(sample, (x) => lifetimeCdf(on, x))).toBeLessThan(ksCritical1(sample.length));
  });

  it('reproduce Pareto and exponential session distributions for any parameters', async () => {
    const specs = fc.oneof(
      fc.record({ dist: fc.constant('pareto' as const), alpha: fc.double({ min: 3, max: 6, noNaN: true }), beta: fc.double({ min: 0.5, max: 5, noNaN: true }) }),
      fc.record({ dist: fc.constant('exponential' as const), mean: fc.double({ min: 1, max: 30, noNaN: true }) }),
    );
    await fc.assert(fc.asyncProperty(specs, fc.nat(1000), async (on, seed) => {
      const cycles = Math.ceil(on.dist === 'pareto' ? 50 * on.beta : 20 * on.mean);
      const sample = await completedSessions(on, 20_000, cycles, seed);
      const mean = sample.reduce((a, b) => a + b, 0) / sample.length;
      expect(Math.abs(mean / lifetimeMean(on) - 1)).toBeLessThan(0.05);
      expect(ksStatistic(sample, (x) => lifetimeCdf(on, x))).toBeLessThan(ksCritical1(sample.length));
    }), { numRuns: 6, seed: 20261126 });
  });

  it('alternate ON and OFF, returning nodes keeping their ids', async () => {
    const simulation = await simulate({
      seed: 3, size: 500, cycles: 200,
      protocols: { cyclon: { type: 'cyclon', cache: 8, shuffle: 3 } },
      controls: { sessions: { type: 'sessions', on: { dist: 'exponential', mean: 20 }, off: { dist: 'exponential', mean: 20 } } },
      observers: { churn: { type: 'churn', every: 50 } },
    });
    const rows = new Map<string, number>();
    simulation.run((cycle, observer, metric, value) => rows.set(`${cycle} ${metric}`, value));
    // Half the time ON: about half the nodes live; nobody new was ever created.
    expect(rows.get('200 live')).toBeGreaterThan(200);
    expect(rows.get('200 live')).toBeLessThan(300);
    expect(simulation.store.idsIssued).toBe(500);
    expect(rows.get('200 joined')).toBeGreaterThan(0);
  });

  it('bring returning nodes back as new nodes when asked', async () => {
    const simulation = await simulate({
      seed: 3, size: 500, capacity: 1000, cycles: 100,
      protocols: { cyclon: { type: 'cyclon', cache: 8, shuffle: 3 } },
      controls: { sessions: { type: 'sessions', on: { dist: 'exponential', mean: 10 }, off: { dist: 'exponential', mean: 10 }, returnAs: 'new' } },
    });
    simulation.run(() => {});
    expect(simulation.store.idsIssued).toBeGreaterThan(1000);
  });
});
