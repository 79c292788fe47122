import { describe, expect, it } from 'vitest';
import type { Aggregation } from '../../src/protocols/aggregation.js';
import { collect, simulate } from '../helpers.js';

describe('aggregation under churn and failures', () => {
  it('averages within each side of a partition, then globally after it heals', async () => {
    const simulation = await simulate({
      seed: 7, size: 4000, cycles: 100,
      attributes: {
        region: { dist: 'discrete', values: [0, 1, 2, 3] },
        load: { dist: 'lognormal', mu: 0, sigma: 1 },
      },
      protocols: {
        oracle: { type: 'oracle' },
        avg: { type: 'aggregation', function: 'average', sampler: 'oracle', init: { kind: 'attribute', name: 'load' } },
      },
      // Half the oracle's picks cross the cut and fail, so the sides converge at about 0.6 per cycle, not 0.3.
      controls: { split: { type: 'partition', start: 1, end: 61, groups: [[0, 1], [2, 3]] } },
    });
    const { store } = simulation;
    const avg = simulation.protocols.get('avg') as Aggregation;
    const region = store.attribute('region');
    const load = store.attribute('load');
    const side = (slot: number) => (region[slot] < 2 ? 0 : 1);
    const sums = [0, 0], counts = [0, 0];
    for (let i = 0; i < store.size; i++) {
      const slot = store.liveSlot(i);
      sums[side(slot)] += load[slot];
      counts[side(slot)]++;
    }
    const sideMean = [sums[0] / counts[0], sums[1] / counts[1]];
    const globalMean = (sums[0] + sums[1]) / store.size;
    expect(Math.abs(sideMean[0] - sideMean[1]) / globalMean).toBeGreaterThan(0.005);

    const worst = (target: (slot: number) => number) => {
      let error = 0;
      for (let i = 0; i < store.size; i++) {
        const slot = store.liveSlot(i);
        error = Math.max(error, Math.abs(avg.estimate(slot) - target(slot)) / target(slot));
      }
      return error;
    };
    while (simulation.clock.cycle < 60) simulation.runCycle(() => {});
    expect(worst((slot) => sideMean[side(slot)])).toBeLessThan(1e-5);
    while (!simulation.done) simulation.runCycle(() => {});
    expect(worst(() => globalMean)).toBeLessThan(1e-5);
  });

  it('counts the live nodes within 5% at the end of every epoch under 1% churn per cycle (N = 10^4)', async () => {
    const epoch = 30, epochs = 4;
    const rows = collect(await simulate({
      seed: 5, size: 10_000, cycles: epoch * epochs,
      protocols: {
        cyclon: { type: 'cyclon', cache: 20, shuffle: 8 },
        count: { type: 'aggregation', function: 'count', sampler: 'cyclon', epoch, leaders: 4 },
      },
      controls: { churn: { type: 'churn', remove: 0.01, substitute: true } },
      observers: { count: { type: 'aggregation', protocol: 'count', from: epoch, every: epoch } },
    }));
    for (let k = 1; k <= epochs; k++) {
      const at = k * epoch;
      expect(rows.get(`${at} count true_value`)).toBe(10_000);
      expect(rows.get(`${at} count participants`)).toBeGreaterThan(0.7 * 10_000);
      expect(rows.get(`${at} count max_rel_error`)).toBeLessThan(0.05);
    }
  });
});
