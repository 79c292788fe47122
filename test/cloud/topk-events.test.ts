import { describe, expect, it } from 'vitest';
import { listProblems, meanMin, runTopk, settledFrom, topkScenario } from './topk-scenario.js';

/** Observations are every period (1000 ms): index c of the series is cycle c. */
const everyPeriod = (values: number[]) => values.filter((_, time) => time % 1000 === 0);

describe('topk (event engine: REQUEST / REPLY messages)', () => {
  it('a top-10 query over 3000 nodes: every live node holds exactly the true top-10 within 15 cycles, even with 5% of messages lost', async () => {
    for (const loss of [0, 0.05]) {
      const { simulation, precision, exact } = await runTopk(topkScenario({
        size: 3000, cycles: 20, engine: 'event',
        extra: { transport: { latency: { model: 'uniform', min: 10, max: 300 }, loss } },
      }));
      const settled = settledFrom(everyPeriod(exact));
      expect(settled, `loss ${loss}`).toBeGreaterThan(0);
      expect(settled, `loss ${loss}`).toBeLessThanOrEqual(15);
      expect(everyPeriod(precision)[settled]).toBe(1);
      expect(listProblems(simulation, 13_000)).toEqual([]);
    }
  });

  it('under 1% churn per cycle, departed nodes drop out and precision is 1.0 again soon after the churn stops (3000 nodes)', async () => {
    const { simulation, precision: series } = await runTopk(topkScenario({ size: 3000, cycles: 65, engine: 'event', churn: 0.01, churnUntil: 40 }));
    const precision = everyPeriod(series);
    const { mean, min } = meanMin(precision, 15, 40);
    expect(mean).toBeGreaterThan(0.8);
    expect(min).toBeGreaterThan(0.6);
    const back = precision.findIndex((value, cycle) => cycle > 40 && value === 1);
    expect(back).toBeGreaterThan(40);
    expect(back).toBeLessThanOrEqual(40 + 12 + 12);
    expect(precision.slice(back).every((value) => value === 1)).toBe(true);
    expect(listProblems(simulation, 13_000)).toEqual([]);
  });
});
