import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CyclonCaches } from '../../src/protocols/cyclon-cache.js';
import type { Cyclon } from '../../src/protocols/cyclon.js';
import { simulate } from '../helpers.js';
import { cacheProblems } from './cyclon-problems.js';

describe('cyclon events', () => {
  it('keeps every cache sound while shuffles overlap, are lost or time out, under churn', async () => {
    await fc.assert(fc.asyncProperty(
      fc.record({
        size: fc.integer({ min: 3, max: 80 }),
        // Up to 40: caches above 32 keep no sent positions and search for them.
        cache: fc.integer({ min: 1, max: 40 }),
        shuffleFraction: fc.double({ min: 0, max: 1, noNaN: true }),
        maxLatency: fc.integer({ min: 0, max: 2500 }),
        loss: fc.constantFrom(0, 0.1),
        churn: fc.boolean(),
        seed: fc.nat(1000),
      }),
      async ({ size, cache, shuffleFraction, maxLatency, loss, churn, seed }) => {
        const c = Math.min(cache, size - 1);
        const shuffle = 1 + Math.floor(shuffleFraction * (c - 1));
        const simulation = await simulate({
          seed, size, capacity: 2 * size, cycles: 6, engine: 'event',
          event: { period: 1000 },
          transport: { latency: { model: 'uniform', min: 0, max: maxLatency }, loss },
          protocols: { cyclon: { type: 'cyclon', cache: c, shuffle } },
          controls: churn ? { churn: { type: 'churn', remove: 0.1, substitute: true, every: 1 } } : {},
        });
        const cyclon = simulation.protocols.get('cyclon') as Cyclon;
        while (!simulation.done) {
          simulation.advance(() => {});
          expect(cacheProblems(cyclon, simulation)).toEqual([]);
        }
      },
    ), { numRuns: 40 });
  });

  it('ages a cache only when its node initiates: its clock counts its own shuffles, answering none', async () => {
    const simulation = await simulate({
      seed: 3, size: 200, cycles: 8, engine: 'event',
      event: { period: 1000 },
      transport: { latency: { model: 'uniform', min: 0, max: 1500 } },
      protocols: { cyclon: { type: 'cyclon', cache: 8, shuffle: 4 } },
    });
    const cyclon = simulation.protocols.get('cyclon') as Cyclon;
    const caches = (cyclon as unknown as { caches: CyclonCaches }).caches;
    const initiated = new Uint32Array(200);
    const onTimer = cyclon.onTimer.bind(cyclon);
    cyclon.onTimer = (p) => {
      if (cyclon.degree(p) > 0) initiated[p]++;
      onTimer(p);
    };
    simulation.run(() => {});
    expect(Math.min(...initiated)).toBeGreaterThan(0);
    for (let slot = 0; slot < 200; slot++) expect(caches.stampAt(slot * caches.stride, caches.cache)).toBe(initiated[slot] & 255);
  });
});
