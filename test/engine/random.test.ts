import { describe, expect, it } from 'vitest';
import { Random, RandomStreams } from '../../src/engine/random.js';

describe('random streams', () => {
  it('gives the same draws for the same seed and name', () => {
    const a = new Random('protocol/cyclon', 7);
    const b = new Random('protocol/cyclon', 7);
    for (let i = 0; i < 100; i++) expect(a.next()).toBe(b.next());
  });

  it('gives unrelated draws for another name or seed', () => {
    const base = Array.from({ length: 5 }, ((r) => () => r.next())(new Random('x', 1)));
    const otherName = Array.from({ length: 5 }, ((r) => () => r.next())(new Random('y', 1)));
    const otherSeed = Array.from({ length: 5 }, ((r) => () => r.next())(new Random('x', 2)));
    expect(otherName).not.toEqual(base);
    expect(otherSeed).not.toEqual(base);
  });

  it('does not let one stream disturb another', () => {
    const alone = new RandomStreams(3).stream('protocol/a');
    const streams = new RandomStreams(3);
    const shared = streams.stream('protocol/a');
    const observer = streams.stream('observer/o');
    const expected = Array.from({ length: 10 }, () => alone.next());
    const got = Array.from({ length: 10 }, () => { observer.next(); return shared.next(); });
    expect(got).toEqual(expected);
  });

  it('refuses to hand out one stream twice', () => {
    const streams = new RandomStreams(1);
    streams.stream('engine');
    expect(() => streams.stream('engine')).toThrow(/twice/);
  });

  it('resumes bit-exactly from a saved state', () => {
    const r = new Random('engine', 42);
    for (let i = 0; i < 17; i++) r.next();
    const resumed = new Random('engine', 42, structuredClone(r.state()));
    for (let i = 0; i < 50; i++) expect(resumed.next()).toBe(r.next());
  });

  it('draws integers in range', () => {
    const r = new Random('ints', 1);
    for (let i = 0; i < 1000; i++) {
      const x = r.int(7);
      expect(Number.isInteger(x) && x >= 0 && x < 7).toBe(true);
    }
  });
});
