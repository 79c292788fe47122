import { describe, expect, it } from 'vitest';
import seedrandom from 'seedrandom';
import { Random, RandomStreams, type RandomState } from '../../src/engine/random.js';

const draws = (g: () => number, n: number) => Float64Array.from({ length: n }, () => g());

describe('random streams: Alea written out', () => {
  it("draws exactly seedrandom.alea's doubles for the same seed and name", () => {
    const seeds: (number | string)[] = [0, 1, 7, 42, -3, 2 ** 31, 1.5, 123456789, 'x', ''];
    const names = ['engine', 'protocol/cyclon', 'observer/degree', '', 'ünïcödé/名前', ' '];
    for (const seed of seeds) {
      for (const name of names) {
        const ours = new Random(name, seed).generator();
        const theirs = seedrandom.alea(`${seed}/${name}`);
        const n = seed === 42 ? 100_000 : 2_000;
        for (let i = 0; i < n; i++) {
          const a = ours();
          const b = theirs();
          if (a !== b) expect({ seed, name, draw: i, value: a }).toEqual({ seed, name, draw: i, value: b });
        }
      }
    }
  });

  it('draws 10^5 equal doubles for many seeds', () => {
    for (let seed = 0; seed < 20; seed++) {
      const ours = new Random(`stream${seed}`, seed * 7919).generator();
      const theirs = seedrandom.alea(`${seed * 7919}/stream${seed}`);
      let mismatch = -1;
      for (let i = 0; i < 100_000 && mismatch < 0; i++) if (ours() !== theirs()) mismatch = i;
      expect(mismatch, `seed ${seed}`).toBe(-1);
    }
  });

  it("saves seedrandom's state shape, and resumes from a state seedrandom saved", () => {
    const theirs = seedrandom.alea('5/engine', { state: true });
    for (let i = 0; i < 33; i++) theirs();
    const ours = new Random('engine', 5);
    for (let i = 0; i < 33; i++) ours.next();
    expect(ours.state()).toEqual(theirs.state());
    expect(Object.keys(ours.state())).toEqual(['c', 's0', 's1', 's2']);

    const resumed = new Random('other', 9, theirs.state() as RandomState);
    expect(draws(resumed.generator(), 1000)).toEqual(draws(theirs, 1000));
  });
});

describe('random streams: restore in place', () => {
  it('continues identically after a mid-sequence restore, through a generator obtained before it', () => {
    const reference = new Random('protocol/cyclon', 11);
    for (let i = 0; i < 500; i++) reference.next();
    const saved = structuredClone(reference.state());
    const expected = draws(reference.generator(), 10_000);

    const r = new Random('protocol/cyclon', 11);
    const g = r.generator();
    for (let i = 0; i < 1234; i++) g(); // drift past the checkpoint
    r.restore(saved);
    expect(r.generator()).toBe(g);
    expect(draws(g, 10_000)).toEqual(expected);
  });

  it('restores a JSON round-tripped state into a fresh stream of another seed', () => {
    const a = new Random('engine', 1);
    for (let i = 0; i < 77; i++) a.normal();
    const json = JSON.parse(JSON.stringify(a.state())) as RandomState;
    const b = new Random('engine', 2);
    const g = b.generator();
    b.restore(json);
    expect([b.int(1000), b.positive(), b.normal()]).toEqual([a.int(1000), a.positive(), a.normal()]);
    expect(draws(g, 100)).toEqual(draws(a.generator(), 100));
  });

  it('state() is a copy: drawing later does not change it', () => {
    const r = new Random('x', 3);
    const s = r.state();
    const before = { ...s };
    r.next();
    expect(s).toEqual(before);
  });

  it('refuses a malformed state with a clear error and leaves the stream as it was', () => {
    const r = new Random('engine', 4);
    const before = r.state();
    const bad: unknown[] = [
      null,
      42,
      {},
      { c: 1, s0: 0.5, s1: 0.5 },
      { c: 1, s0: 0.5, s1: 0.5, s2: '0.5' },
      { c: 1, s0: NaN, s1: 0.5, s2: 0.5 },
      { c: Infinity, s0: 0.5, s1: 0.5, s2: 0.5 },
    ];
    for (const state of bad) {
      expect(() => r.restore(state as RandomState)).toThrow(/random stream "engine": a saved state needs finite numbers c, s0, s1 and s2/);
    }
    expect(() => r.restore({ c: 1, s0: NaN, s1: 0.5, s2: 0.5 })).toThrow(/s0 = NaN/);
    expect(() => new Random('engine', 4, {} as RandomState)).toThrow(/random stream "engine"/);
    expect(r.state()).toEqual(before);
  });
});

describe('RandomStreams.restore', () => {
  function run(seed: number, names: string[], steps: number) {
    const streams = new RandomStreams(seed);
    const gens = names.map((n) => streams.stream(n).generator());
    for (let i = 0; i < steps; i++) for (const g of gens) g();
    return { streams, gens };
  }

  it('restores every stream by name, whatever the order of the saved record', () => {
    const names = ['engine', 'protocol/cyclon', 'observer/o'];
    const original = run(8, names, 300);
    const saved = original.streams.states();
    const reordered = Object.fromEntries(Object.entries(saved).reverse());
    const expected = original.gens.map((g) => draws(g, 200));

    const resumed = run(8, names, 5);
    resumed.streams.restore(reordered);
    expect(resumed.gens.map((g) => draws(g, 200))).toEqual(expected);
  });

  it('throws naming a stream that has no saved state, changing nothing', () => {
    const saved = run(1, ['engine'], 10).streams.states();
    const { streams } = run(1, ['engine', 'observer/o'], 3);
    const before = streams.states();
    expect(() => streams.restore(saved)).toThrow('random stream "observer/o" has no saved state');
    expect(streams.states()).toEqual(before);
  });

  it('throws naming a saved state for a stream this run never requested, changing nothing', () => {
    const saved = run(1, ['engine', 'protocol/extra'], 10).streams.states();
    const { streams } = run(1, ['engine'], 3);
    const before = streams.states();
    expect(() => streams.restore(saved)).toThrow('saved random state for "protocol/extra", a stream this run never requested');
    expect(streams.states()).toEqual(before);
  });

  it('throws naming the stream whose saved state is malformed, changing nothing', () => {
    const saved = run(1, ['engine', 'observer/o'], 10).streams.states();
    saved['observer/o'] = { c: 1, s0: 0.1, s1: 0.2 } as RandomState;
    const { streams } = run(1, ['engine', 'observer/o'], 3);
    const before = streams.states();
    expect(() => streams.restore(saved)).toThrow(/random stream "observer\/o": .*s2 = undefined/);
    expect(streams.states()).toEqual(before);
  });
});
