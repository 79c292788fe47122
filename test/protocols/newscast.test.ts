import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Linkable } from '../../src/engine/protocol.js';
import { collect, simulate } from '../helpers.js';

describe('newscast', () => {
  it('keeps every cache free of its owner and of duplicates, and within size, after every cycle', async () => {
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 2, max: 120 }), fc.integer({ min: 1, max: 30 }), fc.nat(1000),
      async (size, cache, seed) => {
        const simulation = await simulate({ seed, size, cycles: 6, protocols: { news: { type: 'newscast', cache: Math.min(cache, size - 1) } } });
        const news = simulation.protocols.get('news')!.linkable as Linkable;
        const { store } = simulation;
        const check = () => {
          for (let i = 0; i < store.size; i++) {
            const slot = store.liveSlot(i);
            const ids = Array.from({ length: news.degree(slot) }, (_, k) => news.neighbor(slot, k));
            expect(ids.length).toBeLessThanOrEqual(Math.min(cache, size - 1));
            expect(ids).not.toContain(store.idOf[slot]);
            expect(new Set(ids).size).toBe(ids.length);
          }
        };
        check();
        while (!simulation.done) { simulation.runCycle(() => {}); check(); }
      },
    ), { numRuns: 40 });
  });

  it('supports averaging at about the rate PeerSim reports for it (0.30-0.36 per cycle, N = 10^4)', async () => {
    const rows = collect(await simulate({
      seed: 1, size: 10_000, cycles: 50,
      protocols: {
        news: { type: 'newscast', cache: 20 },
        avg: { type: 'aggregation', sampler: 'news', epoch: 30, init: { kind: 'uniform', a: 0, b: 1 } },
      },
      observers: { avg: { type: 'aggregation', protocol: 'avg', from: 31 }, overlay: { type: 'overlay', every: 50, sample: 100 } },
    }));
    // The first 10 cycles of the epoch that starts at cycle 31 (the factor creeps up later,
    // as Newscast's caches grow correlated).
    const factors = Array.from({ length: 10 }, (_, i) => rows.get(`${32 + i} avg convergence_factor`)!);
    const geometric = Math.exp(factors.reduce((sum, x) => sum + Math.log(x), 0) / factors.length);
    expect(geometric).toBeGreaterThanOrEqual(0.30);
    expect(geometric).toBeLessThanOrEqual(0.37);
    expect(rows.get('50 overlay largest_component')).toBe(10_000);
  });
});
