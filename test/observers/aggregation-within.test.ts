import { describe, expect, test } from 'vitest';
import { collect, simulate } from '../helpers.js';

const ORACLE = { type: 'oracle' };

/** Each metric's values by cycle for observer `obs`. */
async function series(agg: Record<string, unknown>, observer: Record<string, unknown>, size: number, cycles: number) {
  const rows = collect(await simulate({
    size, cycles, protocols: { peers: ORACLE, agg: { type: 'aggregation', ...agg } },
    observers: { obs: { type: 'aggregation', protocol: 'agg', ...observer } },
  }));
  const of = (metric: string) => Array.from({ length: cycles + 1 }, (_, cycle) => rows.get(`${cycle} obs ${metric}`));
  return { rows, of };
}

/** The first index whose value passes `test`, or -1. */
const firstWhere = (values: (number | undefined)[], test: (v: number) => boolean) => values.findIndex((v) => v !== undefined && test(v));

describe('aggregation observer: within (fraction within a bound, cycles until every node was)', () => {
  test('without within, no extra metrics', async () => {
    const { rows } = await series({ function: 'max' }, {}, 100, 2);
    expect([...rows.keys()].some((key) => key.includes('within'))).toBe(false);
  });

  test('max from a peak: the fraction holding the maximum grows to 1; cycles_to_within is the first cycle it is 1, then stays', async () => {
    const { of } = await series({ function: 'max', init: { kind: 'peak' } }, { within: 0 }, 2000, 20);
    const fraction = of('fraction_within');
    expect(fraction[0]).toBe(1 / 2000);
    for (let c = 1; c <= 20; c++) expect(fraction[c]!).toBeGreaterThanOrEqual(fraction[c - 1]!);
    const all = firstWhere(fraction, (v) => v === 1);
    expect(all).toBeGreaterThan(3);
    expect(all).toBeLessThan(15);
    // Holding the maximum exactly is having no relative error.
    expect(firstWhere(of('max_rel_error'), (v) => v === 0)).toBe(all);
    const cycles = of('cycles_to_within');
    for (let c = 0; c < all; c++) expect(cycles[c]).toBeNaN();
    for (let c = all; c <= 20; c++) expect(cycles[c]).toBe(all);
  });

  test('count within 1%: every participant within it exactly when max_rel_error is at most 0.01', async () => {
    const { of } = await series({ function: 'count' }, { within: 0.01 }, 1000, 30);
    const reached = firstWhere(of('max_rel_error'), (v) => v <= 0.01);
    expect(reached).toBeGreaterThan(0);
    expect(of('fraction_within')[reached]).toBe(1);
    expect(of('fraction_within')[reached - 1]!).toBeLessThan(1);
    expect(of('cycles_to_within')[30]).toBe(reached);
  });

  test('counts from the start of each epoch, afresh', async () => {
    const { of } = await series({ function: 'max', init: { kind: 'peak' }, epoch: 15 }, { within: 0 }, 500, 30);
    const cycles = of('cycles_to_within');
    const fraction = of('fraction_within');
    // The second epoch starts after observation 15 (15 rounds done): observation 16 is one round into it.
    const first = firstWhere(fraction, (v) => v === 1);
    expect(first).toBeLessThan(15);
    expect(cycles[15]).toBe(first);
    expect(fraction[16]!).toBeLessThan(1);
    expect(cycles[16]).toBeNaN();
    const second = firstWhere(fraction.slice(16), (v) => v === 1) + 16;
    expect(second).toBeGreaterThan(16);
    expect(cycles[30]).toBe(second - 15);
  });

  test('pooled instances: the mean fraction, and the slowest instance\'s time', async () => {
    const max = { type: 'aggregation', function: 'max', init: { kind: 'peak' } };
    const scenario = (observers: Record<string, unknown>) => ({
      size: 1000, cycles: 20, protocols: { peers: ORACLE, a: max, b: max }, observers,
    });
    const rows = collect(await simulate(scenario({
      a: { type: 'aggregation', protocol: 'a', within: 0 },
      b: { type: 'aggregation', protocol: 'b', within: 0 },
      both: { type: 'aggregation', protocol: ['a', 'b'], within: 0 },
    })));
    for (let c = 0; c <= 20; c++) {
      expect(rows.get(`${c} both fraction_within`)).toBeCloseTo((rows.get(`${c} a fraction_within`)! + rows.get(`${c} b fraction_within`)!) / 2, 12);
    }
    expect(rows.get('20 both cycles_to_within')).toBe(Math.max(rows.get('20 a cycles_to_within')!, rows.get('20 b cycles_to_within')!));
  });
});
