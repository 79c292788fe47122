import { describe, expect, it } from 'vitest';
import { fitWeibull, incompleteGamma, logGamma, logLikelihood, type SessionRecord } from '../../src/observers/session-fit.js';
import { Random } from '../../src/engine/random.js';

/** A plain Weibull draw (inverse transform). */
const weibull = (random: Random, shape: number, scale: number) => scale * (-Math.log(random.positive())) ** (1 / shape);

/**
 * Sessions as a crawler polling every `every` cycles sees them, drawn the way the
 * session-fit model says the sessions control makes them: `initial` sessions start at
 * cycle 0, the others at a uniformly random time; all are watched until `end`.
 */
function crawl(shape: number, scale: number, options: { initial: number; later: number; end: number; every: number; seed: number }): SessionRecord[] {
  const random = new Random('crawl', options.seed);
  const counts = new Map<string, number>();
  const add = (key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
  for (let i = 0; i < options.initial + options.later; i++) {
    const initial = i < options.initial;
    const start = initial ? 0 : random.next() * options.end;
    const length = weibull(random, shape, scale);
    const joined = Math.ceil(start);
    const left = Math.max(joined + 1, Math.ceil(start + length));
    // Observations at multiples of `every` from 0 to end; the node is in the overlay at t if joined <= t < left.
    const firstSeen = Math.ceil(joined / options.every) * options.every;
    if (firstSeen >= left || firstSeen > options.end) continue; // never seen
    const from = firstSeen - joined + 1;
    const lastSeen = Math.min(Math.floor((left - 1) / options.every) * options.every, Math.floor(options.end / options.every) * options.every);
    const exact = joined === 0 ? 1 : 0;
    if (left - 1 > lastSeen && lastSeen + options.every > options.end) add(`${exact}|${lastSeen - joined + 1}|Infinity|${from}`);
    else add(`${exact}|${lastSeen - joined + 1}|${lastSeen + options.every - joined}|${from}`);
  }
  return [...counts].map(([key, count]) => {
    const [exact, lo, hi, from] = key.split('|').map(Number);
    return { exactStart: exact === 1, lo, hi, from, count };
  });
}

describe('special functions', () => {
  it('logGamma matches known values', () => {
    expect(logGamma(1)).toBeCloseTo(0, 12);
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 12);
    for (const x of [0.3, 2.6316, 7.5]) expect(logGamma(x + 1)).toBeCloseTo(logGamma(x) + Math.log(x), 12);
  });

  it('the incomplete gamma functions: P(1, x) = 1 - e^-x, both branches, and P + Q = 1', () => {
    for (const x of [0.1, 1, 1.9, 2.1, 5, 30]) {
      const { lower, upper } = incompleteGamma(1, x);
      expect(lower).toBeCloseTo(1 - Math.exp(-x), 13);
      expect(upper).toBeCloseTo(Math.exp(-x), 13);
    }
    // P(a, x) for a = 2: 1 - (1 + x) e^-x.
    for (const x of [0.5, 2.9, 3.1, 10]) expect(incompleteGamma(2, x).lower).toBeCloseTo(1 - (1 + x) * Math.exp(-x), 13);
  });
});

describe('fitWeibull', () => {
  it('the likelihood of exactly timed sessions from cycle 0 is that of interval censoring on whole cycles', () => {
    const records: SessionRecord[] = [
      { exactStart: true, lo: 3, hi: 3, from: 1, count: 2 },
      { exactStart: true, lo: 10, hi: Infinity, from: 1, count: 1 },
    ];
    const S = (t: number) => Math.exp(-((t / 5) ** 0.7));
    expect(logLikelihood(records, 0.7, 5)).toBeCloseTo(2 * Math.log(S(2) - S(3)) + Math.log(S(9)), 12);
  });

  it('a session spread over its first cycle: P(D >= d) is the mean of S over [d - 1, d]', () => {
    const shape = 0.5, scale = 4;
    const S = (t: number) => Math.exp(-((t / scale) ** shape));
    const mean = (a: number, b: number) => { // Simpson's rule, fine steps
      const n = 2000, h = (b - a) / n;
      let sum = S(a) + S(b);
      for (let i = 1; i < n; i++) sum += (i % 2 ? 4 : 2) * S(a + i * h);
      return (sum * h) / 3 / (b - a);
    };
    const records: SessionRecord[] = [{ exactStart: false, lo: 4, hi: 6, from: 2, count: 1 }];
    const expected = Math.log(mean(3, 4) - mean(6, 7)) - Math.log(mean(1, 2));
    expect(logLikelihood(records, shape, scale)).toBeCloseTo(expected, 7);
  });

  it('gives back the shape and scale of BitTorrent sessions (0.38, 42.4) from a crawl every cycle', () => {
    const records = crawl(0.38, 42.4, { initial: 5000, later: 15000, end: 400, every: 1, seed: 7 });
    const fit = fitWeibull(records);
    expect(fit.shape).toBeCloseTo(0.38, 1);
    expect(Math.abs(fit.shape - 0.38)).toBeLessThan(0.02);
    expect(Math.abs(fit.scale / 42.4 - 1)).toBeLessThan(0.08);
  });

  it('stays unbiased when the crawl misses the short sessions between observations (left truncation)', () => {
    const records = crawl(0.38, 42.4, { initial: 5000, later: 15000, end: 400, every: 10, seed: 8 });
    const fit = fitWeibull(records);
    expect(Math.abs(fit.shape - 0.38)).toBeLessThan(0.02);
    expect(Math.abs(fit.scale / 42.4 - 1)).toBeLessThan(0.1);
  });

  it('has no fit until a session has ended', () => {
    const fit = fitWeibull([{ exactStart: true, lo: 5, hi: Infinity, from: 1, count: 10 }]);
    expect(fit.shape).toBeNaN();
    expect(fit.scale).toBeNaN();
  });
});
