import { describe, expect, it } from 'vitest';
import { checkExpectations, expectationsSchema, type Row } from '../../src/expect/expectations.js';
import { junitXml } from '../../src/expect/junit.js';

const series = (observer: string, metric: string, values: number[], step = 1): Row[] =>
  values.map((value, i) => ({ at: i * step, observer, metric, value }));
const rows = [...series('avg', 'variance', [1, 0.3, 0.09, 0.027]), ...series('avg', 'mean', [5, 5, 5, 5])];
const check = (spec: unknown, r: readonly Row[] = rows, unit = 1, golden: Row[] = []) =>
  checkExpectations(expectationsSchema.parse(spec), r, unit, () => golden);

describe('metric expectations', () => {
  it('reads the last observation by default, or a given cycle', () => {
    const [last, third, missing] = check({
      last: { observer: 'avg', metric: 'variance', max: 0.03 },
      third: { observer: 'avg', metric: 'variance', at: 2, value: 0.1, relative: 0.05 },
      missing: { observer: 'avg', metric: 'variance', at: 9, max: 1 },
    });
    expect(last).toMatchObject({ name: 'last', passed: true, found: '0.027 at cycle 3' });
    expect(third).toMatchObject({ passed: false, expected: 'avg/variance at cycle 2 = 0.1 ± 5%', found: '0.09 at cycle 2' });
    expect(missing).toMatchObject({ passed: false, found: 'no row of avg/variance at cycle 9' });
  });

  it('bounds every value of a window, or its mean, minimum or maximum', () => {
    const outcomes = check({
      every: { observer: 'avg', metric: 'mean', window: { from: 1 }, value: 5, tolerance: 0 },
      everyFails: { observer: 'avg', metric: 'variance', window: { from: 1, to: 3 }, max: 0.1 },
      mean: { observer: 'avg', metric: 'variance', window: { from: 1, to: 3 }, of: 'mean', max: 0.15 },
      max: { observer: 'avg', metric: 'variance', window: { from: 0, to: 1 }, of: 'max', min: 1 },
    });
    expect(outcomes.map((o) => o.passed)).toEqual([true, false, true, true]);
    expect(outcomes[1].found).toBe('0.3 at cycle 1');
    expect(outcomes[2].found).toBe('mean 0.139 over 3 observations');
  });

  it('counts cycles in periods in the event engine, and fails on NaN and on a metric with no rows', () => {
    const timed = series('o', 'm', [1, 2, NaN], 1000);
    const [at1, last, none] = check({
      at1: { observer: 'o', metric: 'm', at: 1, value: 2 },
      last: { observer: 'o', metric: 'm', min: 0 },
      none: { observer: 'o', metric: 'x', min: 0 },
    }, timed, 1000);
    expect(at1).toMatchObject({ passed: true, found: '2 at time 1000 ms' });
    expect(last).toMatchObject({ passed: false, found: 'NaN at time 2000 ms' });
    expect(none).toMatchObject({ passed: false, found: 'no rows of o/x' });
  });

  it('refuses contradictory or empty bounds', () => {
    for (const bad of [
      { observer: 'o', metric: 'm' },
      { observer: 'o', metric: 'm', value: 1, max: 2 },
      { observer: 'o', metric: 'm', at: 1, window: { from: 0 }, max: 2 },
      { observer: 'o', metric: 'm', of: 'mean', max: 2 },
    ]) expect(expectationsSchema.safeParse({ bad }).success).toBe(false);
  });
});

describe('golden expectations', () => {
  const golden = rows.map((r) => ({ ...r }));
  it('matches every row, with per-metric tolerances', () => {
    expect(check({ g: { golden: 'x.csv' } }, rows, 1, golden)[0]).toMatchObject({ passed: true, found: '8 rows match' });
    const moved = rows.map((r) => (r.metric === 'variance' ? { ...r, value: r.value * 1.01 } : r));
    expect(check({ g: { golden: 'x.csv' } }, moved, 1, golden)[0]).toMatchObject({ passed: false, found: '1.01 for avg/variance at 0 (golden 1)' });
    expect(check({ g: { golden: 'x.csv', metrics: { variance: { relative: 0.02 } } } }, moved, 1, golden)[0].passed).toBe(true);
  });

  it('fails on a missing or an extra row', () => {
    expect(check({ g: { golden: 'x.csv' } }, rows.slice(1), 1, golden)[0].found).toBe('no row avg/variance at 0');
    expect(check({ g: { golden: 'x.csv' } }, [...rows, { at: 9, observer: 'avg', metric: 'mean', value: 5 }], 1, golden)[0].found)
      .toBe('an extra row avg/mean at 9');
  });
});

describe('JUnit XML', () => {
  it('has one test case per expectation and a failure element for each that failed', () => {
    const xml = junitXml('cloud & co', [
      { name: 'a', passed: true, expected: 'x', found: 'y' },
      { name: 'b<', passed: false, expected: 'o/m <= 1', found: '2 at cycle 3' },
    ]);
    expect(xml).toContain('<testsuites name="pcsim" tests="2" failures="1"');
    expect(xml).toContain('<testsuite name="cloud &amp; co" tests="2" failures="1"');
    expect(xml).toContain('<testcase classname="cloud &amp; co" name="a" time="0"/>');
    expect(xml).toContain('<failure message="expected o/m &lt;= 1, found 2 at cycle 3" type="expectation">');
  });
});
