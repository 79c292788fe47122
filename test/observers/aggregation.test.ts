import { describe, expect, test } from 'vitest';
import { Aggregation } from '../../src/protocols/aggregation.js';
import { collect, simulate } from '../helpers.js';

const ORACLE = { type: 'oracle' };

async function rowsOf(agg: Record<string, unknown>, extra: Record<string, unknown> = {}, size = 1000, cycles = 3) {
  return collect(await simulate({
    size, cycles, protocols: { peers: ORACLE, agg: { type: 'aggregation', ...agg } },
    observers: { obs: { type: 'aggregation', protocol: 'agg' } }, ...extra,
  }));
}

describe('aggregation observer', () => {
  test('emits every metric each cycle; the first convergence factor is NaN, later ones are variance ratios', async () => {
    const rows = await rowsOf({ init: { kind: 'uniform', a: 0, b: 1 } });
    const metrics = ['participants', 'mean', 'variance', 'min', 'max', 'true_value', 'mean_rel_error', 'max_rel_error', 'convergence_factor'];
    for (let cycle = 0; cycle <= 3; cycle++) for (const metric of metrics) expect(rows.has(`${cycle} obs ${metric}`)).toBe(true);
    expect(rows.get('0 obs convergence_factor')).toBeNaN();
    expect(rows.get('2 obs convergence_factor')).toBeCloseTo(rows.get('2 obs variance')! / rows.get('1 obs variance')!, 12);
    expect(rows.get('0 obs participants')).toBe(1000);
  });

  test('the variance stays exact when estimates agree to 11 digits (two passes, not a sum of squares)', async () => {
    // 1001 inputs evenly spaced by h = 1e-6 around 1e8: variance h^2 (n^2 - 1) / 12. The
    // sum-of-squares form would subtract two numbers near 1e16, whose spacing is 2.
    const rows = await rowsOf({ init: { kind: 'linear', a: 1e8, b: 1e8 + 1e-3 } }, {}, 1001, 0);
    const h = ((1e8 + 1e-3) - 1e8) / 1000; // the range as doubles hold it: 1.000002e-3
    expect(rows.get('0 obs variance')! / ((h * h * (1001 * 1001 - 1)) / 12)).toBeCloseTo(1, 6);
  });

  test('true_value is the exact aggregate of the live inputs, per function', async () => {
    const linear = { kind: 'linear', a: 1, b: 100 };
    expect((await rowsOf({ init: linear }, {}, 100, 0)).get('0 obs true_value')).toBeCloseTo(50.5, 12);
    expect((await rowsOf({ function: 'sum', init: linear }, {}, 100, 0)).get('0 obs true_value')).toBe(5050);
    expect((await rowsOf({ function: 'min', init: linear }, {}, 100, 0)).get('0 obs true_value')).toBe(1);
    expect((await rowsOf({ function: 'max', init: linear }, {}, 100, 0)).get('0 obs true_value')).toBe(100);
    expect((await rowsOf({ function: 'count' }, {}, 100, 0)).get('0 obs true_value')).toBe(100);
  });

  test('relative errors: zero for a constant; for a peak, max is N - 1 and mean is 2(N - 1)/N', async () => {
    const constant = await rowsOf({ init: { kind: 'constant', value: 3 } }, {}, 100, 0);
    expect(constant.get('0 obs mean_rel_error')).toBe(0);
    expect(constant.get('0 obs max_rel_error')).toBe(0);
    const peak = await rowsOf({ init: { kind: 'peak' } }, {}, 100, 0);
    expect(peak.get('0 obs max_rel_error')).toBe(99);
    expect(peak.get('0 obs mean_rel_error')).toBeCloseTo((99 + 99 * 1) / 100, 12);
  });

  test('count estimates are Infinity where no instance has arrived yet', async () => {
    const rows = await rowsOf({ function: 'count' }, {}, 1000, 1);
    expect(rows.get('0 obs min')).toBe(1);
    expect(rows.get('0 obs max')).toBe(Infinity);
    expect(rows.get('0 obs mean')).toBe(Infinity);
  });

  test('observing changes nothing in the simulation', async () => {
    const scenario = (observers: Record<string, unknown>) => ({
      size: 2000, cycles: 5, protocols: { peers: ORACLE, agg: { type: 'aggregation', init: { kind: 'uniform' } } }, observers,
    });
    const watched = await simulate(scenario({ obs: { type: 'aggregation', protocol: 'agg' } }));
    const unwatched = await simulate(scenario({}));
    watched.run(() => {});
    unwatched.run(() => {});
    expect((watched.protocols.get('agg') as Aggregation).values).toEqual((unwatched.protocols.get('agg') as Aggregation).values);
  });

  test('refuses to observe a protocol that is not an aggregation', async () => {
    await expect(simulate({
      size: 100, cycles: 1, protocols: { peers: ORACLE }, observers: { obs: { type: 'aggregation', protocol: 'peers' } },
    })).rejects.toThrow('observers.obs.protocol: expected the name of an aggregation protocol, found "peers" (of another type)');
  });
});
