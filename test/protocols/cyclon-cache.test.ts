import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Random } from '../../src/engine/random.js';
import { CyclonCaches, REQUEST_WORDS } from '../../src/protocols/cyclon-cache.js';

/** Caches of size c for `capacity` slots, stamped at cycle `cycle`. */
function caches(c: number, capacity = 4, cycle = 0): CyclonCaches {
  const slotOfId = new Int32Array(2 * capacity).fill(-1);
  const result = new CyclonCaches(c, capacity, slotOfId, new Random('test', 1).generator());
  result.refresh(slotOfId, cycle);
  return result;
}

/** Fills slot's record with entries (ids, birth cycles mod 256), owner `self`. */
function fill(cy: CyclonCaches, slot: number, self: number, ids: number[], births: number[] = ids.map(() => 0)): number {
  const base = slot * cy.stride;
  ids.forEach((id, k) => {
    cy.records[base + k] = id;
    cy.stamps[base * 4 + cy.stampOffset + k] = births[k] & 255;
  });
  cy.records[base + cy.cache] = ids.length;
  cy.records[base + cy.cache + 1] = self;
  return base;
}

function entries(cy: CyclonCaches, slot: number): [number, number][] {
  const base = slot * cy.stride;
  return Array.from({ length: cy.records[base + cy.cache] }, (_, k) => [cy.records[base + k], cy.stamps[base * 4 + cy.stampOffset + k]]);
}

/** Cyclon's merge as stated: in order, drop what names the owner or is in the cache now; append while there is room, then overwrite the sent slots in order. */
function referenceMerge(cache: [number, number][], c: number, self: number, incoming: [number, number][], sent: number[]): [number, number][] {
  const result = cache.map((entry) => [...entry] as [number, number]);
  let replaced = 0;
  for (const [id, birth] of incoming) {
    if (id === self || result.some(([held]) => held === id)) continue;
    if (result.length < c) result.push([id, birth]);
    else if (replaced < sent.length) result[sent[replaced++]] = [id, birth];
    else break;
  }
  return result;
}

describe('cyclon caches', () => {
  it('lays records out in whole cache lines, stamps after the owner word, request words last', () => {
    // A spare word keeps where a request's entries were sent from, when there is one: c = 21 has none.
    expect([caches(20).stride, caches(20).positionsAt, caches(21).stride, caches(21).positionsAt]).toEqual([32, 30, 32, -1]);
    for (const c of [1, 4, 20, 21, 29, 30, 255]) {
      const cy = caches(c);
      expect(cy.stride % 16).toBe(0);
      expect(cy.stampOffset).toBe(4 * (c + 2));
      expect(cy.requestAt * 4).toBeGreaterThanOrEqual(cy.stampOffset + c);
      expect(cy.requestAt + REQUEST_WORDS).toBeLessThanOrEqual(cy.stride);
      if (cy.positionsAt >= 0) expect([c <= 32, cy.positionsAt === cy.requestAt + REQUEST_WORDS, cy.positionsAt < cy.stride]).toEqual([true, true, true]);
      for (let slot = 0; slot < cy.capacity; slot++) expect(cy.records[slot * cy.stride + c + 1]).toBe(-1);
    }
  });

  it('finds the oldest entry across the wrap of the cycle stamp, the first one on ties', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 40 }).chain((c) => fc.record({
        c: fc.constant(c),
        now: fc.integer({ min: 0, max: 1000 }),
        ages: fc.array(fc.integer({ min: 0, max: c }), { maxLength: c }),
      })),
      ({ c, now, ages }) => {
        const cy = caches(c, 2, now);
        const base = fill(cy, 1, 7, ages.map((_, k) => 100 + k), ages.map((age) => now - age));
        const expected = ages.length === 0 ? 0 : ages.indexOf(Math.max(...ages));
        expect(cy.oldestIndex(base, ages.length)).toBe(expected);
      },
    ));
  });

  it('takes the oldest entry out, moving the last into its place', () => {
    const cy = caches(5, 2, 10);
    const base = fill(cy, 1, 0, [11, 12, 13, 14], [9, 3, 5, 8]);
    expect(cy.takeOldest(base, 4, -1)).toBe(12);
    expect(entries(cy, 1)).toEqual([[11, 9], [14, 8], [13, 5]]);
    expect(cy.takeOldest(base, 3, 0)).toBe(11); // a known index is taken as given
    expect(entries(cy, 1)).toEqual([[13, 5], [14, 8]]);
  });

  it('picks distinct positions below n, with either kind of draw (n <= 32, n > 32)', () => {
    const cy = caches(60);
    const picks = new Int32Array(60);
    for (const n of [1, 2, 5, 32, 33, 60]) {
      for (let k = 0; k <= n; k++) {
        cy.pickRandom(picks, n, k);
        const chosen = Array.from(picks.subarray(0, k));
        expect(new Set(chosen).size).toBe(k);
        for (const d of chosen) expect(d >= 0 && d < n).toBe(true);
      }
    }
  });

  it('names a live node by its slot, trying slot = id first', () => {
    const cy = caches(3, 4);
    fill(cy, 2, 2, []);
    fill(cy, 1, 3, []); // node 3 lives in slot 1 (slots recycled by churn)
    cy.slotOfId.set([-1, -1, 2, 1, -1, 0]);
    expect(cy.slotOf(2)).toBe(2);
    expect(cy.slotOf(3)).toBe(1); // slot 3's owner word is -1: the table
    expect(cy.slotOf(5)).toBe(0); // beyond the capacity: the table
    expect(cy.slotOf(0)).toBe(-1);
  });

  it('merges as Cyclon states: no owner, no duplicates, empty slots first, then the sent slots in order', () => {
    const cases = fc.integer({ min: 1, max: 40 }).chain((c) => fc.record({
      c: fc.constant(c),
      // Ids 33 or 1025 apart share filter bits: the exact check must sort them out.
      scale: fc.constantFrom(1, 33, 1025),
      cache: fc.uniqueArray(fc.integer({ min: 1, max: 3 * c }), { maxLength: c }),
      incoming: fc.uniqueArray(fc.integer({ min: 0, max: 3 * c }), { maxLength: c }),
    })).chain((x) => fc.record({
      x: fc.constant(x),
      sent: fc.shuffledSubarray(x.cache.map((_, k) => k)),
    }));
    fc.assert(fc.property(cases, ({ x: { c, scale, cache, incoming }, sent }) => {
      const self = 0;
      const cy = caches(c, 2);
      const held = cache.map((id) => id * scale);
      const births = held.map((id) => (id * 7) & 255);
      const base = fill(cy, 1, self, held, births);
      const ids = Int32Array.from(incoming, (id) => id * scale);
      const birth = Uint8Array.from(ids, (id) => (id * 13 + 1) & 255);
      const expected = referenceMerge(held.map((id, k) => [id, births[k]]), c, self,
        Array.from(ids, (id, k) => [id, birth[k]]), sent);
      const n = cy.merge(base, base * 4 + cy.stampOffset, held.length, self, ids, birth, ids.length, Int32Array.from(sent), sent.length);
      cy.records[base + c] = n;
      expect(entries(cy, 1)).toEqual(expected);
    }), { numRuns: 300 });
  });

  it('makes one shuffle in the steps both engines share: P offers, Q answers and merges, P merges the answer', () => {
    fc.assert(fc.property(
      fc.record({ c: fc.integer({ min: 2, max: 12 }), l: fc.integer({ min: 1, max: 12 }), nq: fc.integer({ min: 0, max: 12 }), now: fc.nat(300) }),
      ({ c, l: shuffle, nq, now }) => {
        const l = Math.min(shuffle, c);
        const cy = caches(c, 3, now);
        // P (id 1) has taken its contact's entry out: c - 1 entries left. Q (id 2) holds up to c.
        const n = c - 1;
        const pHeld: [number, number][] = Array.from({ length: n }, (_, k) => [100 + k, k]);
        const qHeld: [number, number][] = Array.from({ length: Math.min(nq, c) }, (_, k) => [200 + k, 50 + k]);
        const pBase = fill(cy, 1, 1, pHeld.map(([id]) => id), pHeld.map(([, birth]) => birth));
        const qBase = fill(cy, 2, 2, qHeld.map(([id]) => id), qHeld.map(([, birth]) => birth));
        const sentP = new Int32Array(l), sentQ = new Int32Array(l);
        const offerIds = new Int32Array(l), offerStamps = new Uint8Array(l);
        const replyIds = new Int32Array(l), replyStamps = new Uint8Array(l);

        const offered = cy.offer(pBase, n, l, sentP, offerIds, 0, offerStamps, 0);
        const offer = Array.from({ length: offered }, (_, k): [number, number] => [offerIds[k], offerStamps[k]]);
        const fromP = Array.from(sentP.subarray(0, offered - 1));
        // Itself, born now, then l - 1 distinct entries of its own, as they were.
        expect(offer).toEqual([[1, now & 255], ...fromP.map((k) => pHeld[k])]);
        expect(new Set(fromP).size).toBe(Math.min(l - 1, n));

        const answered = cy.answer(qBase, l, offerIds, offerStamps, offered, sentQ, replyIds, 0, replyStamps, 0);
        const fromQ = Array.from(sentQ.subarray(0, answered));
        const reply = Array.from({ length: answered }, (_, k): [number, number] => [replyIds[k], replyStamps[k]]);
        expect(reply).toEqual(fromQ.map((k) => qHeld[k]));
        expect(new Set(fromQ).size).toBe(Math.min(l, qHeld.length));
        expect(entries(cy, 2)).toEqual(referenceMerge(qHeld, c, 2, offer, fromQ));

        cy.mergeAnswer(pBase, n, replyIds, replyStamps, answered, sentP, offered - 1);
        expect(entries(cy, 1)).toEqual(referenceMerge(pHeld, c, 1, reply, fromP));
      },
    ), { numRuns: 200 });
  });

  it('tells whether a record holds an id among its first n entries', () => {
    const cy = caches(4);
    const base = fill(cy, 0, 9, [3, 4, 5]);
    expect(cy.holds(base, 3, 5)).toBe(true);
    expect(cy.holds(base, 2, 5)).toBe(false);
    expect(cy.holds(base, 3, 9)).toBe(false);
  });
});
