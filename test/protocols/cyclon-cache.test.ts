import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { Random } from '../../src/engine/random.js';
import { CyclonCaches, PUBLISHED_RULES, REQUEST_WORDS, WideCyclonCaches, type CyclonRules } from '../../src/protocols/cyclon-cache.js';

const VARIANT: CyclonRules = { ageing: 'clock', duplicates: 'during-merge' };

/** Which kind of caches the suite below builds: stamps through one byte view, or through views of runs of records (as beyond 2^32 bytes). */
let Kind: typeof CyclonCaches = CyclonCaches;

/** Wide caches whose views hold one record each, so that every record is in a view of its own. */
class OneRecordViews extends WideCyclonCaches {
  protected override viewBytes(): number {
    return 4 * this.stride;
  }
}

/** Caches of size c for `capacity` slots, at cycle `cycle`. */
function caches(c: number, capacity = 4, cycle = 0, rules = PUBLISHED_RULES, slotOfId = new Int32Array(2 * capacity).fill(-1)): CyclonCaches {
  const result = new Kind(c, capacity, { slotOf: (id) => slotOfId[id] ?? -1 }, new Random('test', 1).generator(), rules);
  result.refresh(cycle);
  return result;
}

/** Fills slot's record with entries (ids, ages), owner `self`, its clock at `clock` (published ageing; 0 under clock ageing). */
function fill(cy: CyclonCaches, slot: number, self: number, ids: number[], ages: number[] = ids.map(() => 0), clock = 0): number {
  const base = slot * cy.stride;
  if (cy.rules.ageing === 'initiator') cy.setStampAt(base, cy.cache, clock);
  // An entry's age is (clock + now - stamp) mod 256.
  const ageZero = cy.stampAt(base, cy.cache) + cy.now;
  ids.forEach((id, k) => {
    cy.records[base + k] = id;
    cy.setStampAt(base, k, ageZero - ages[k]);
  });
  cy.records[base + cy.cache] = ids.length;
  cy.records[base + cy.cache + 1] = self;
  return base;
}

/** Slot's entries as [id, age]. */
function entries(cy: CyclonCaches, slot: number): [number, number][] {
  const base = slot * cy.stride;
  return Array.from({ length: cy.records[base + cy.cache] }, (_, k) => [cy.records[base + k], cy.ageOf(base, k)]);
}

/** The byte an entry of age `age` travels as (see CyclonCaches.copyOut): its age, or under clock ageing minus its birth cycle. */
function travelling(cy: CyclonCaches, age: number): number {
  return (age - cy.now) & 255;
}

/**
 * Cyclon's merge as stated: in order, drop what names the owner or is held (before the
 * merge, or, in the variant, in the cache as it is now); append while there is room,
 * then overwrite the sent slots in order.
 */
function referenceMerge(
  cache: [number, number][], c: number, self: number, incoming: [number, number][], sent: number[], duplicates: CyclonRules['duplicates'],
): [number, number][] {
  const result = cache.map((entry) => [...entry] as [number, number]);
  const heldBefore = new Set(cache.map(([id]) => id));
  let replaced = 0;
  for (const [id, age] of incoming) {
    const held = duplicates === 'before-merge' ? heldBefore.has(id) : result.some(([other]) => other === id);
    if (id === self || held) continue;
    if (result.length < c) result.push([id, age]);
    else if (replaced < sent.length) result[sent[replaced++]] = [id, age];
    else break;
  }
  return result;
}

describe.each([
  ['through a byte view', CyclonCaches],
  ['through byte views of runs of records', WideCyclonCaches],
  ['through byte views of one record each', OneRecordViews],
])('cyclon caches, stamps read %s', (_, kind) => {
  beforeEach(() => {
    Kind = kind;
  });

  it('keeps stamp byte k in bits 8 (k mod 4) up of word k / 4 of the stamps, each byte apart from its neighbours', () => {
    const cy = caches(6, 2);
    const base = cy.stride;
    const bytes = [7, 200, 255, 0, 13, 129, 42]; // six stamps and the clock
    bytes.forEach((value, k) => cy.setStampAt(base, k, value + 256)); // mod 256
    cy.setStampAt(base, 3, 0);
    expect(bytes.map((_, k) => cy.stampAt(base, k))).toEqual(bytes);
    // The order of bytes in memory on a little-endian machine, as a byte view had them.
    expect(Array.from(cy.records.subarray(base + cy.stampsAt, base + cy.stampsAt + 2))).toEqual([7 | (200 << 8) | (255 << 16), 13 | (129 << 8) | (42 << 16)]);
    expect(Array.from(cy.records.subarray(0, cy.stride)).filter((word) => word !== 0)).toEqual([-1]); // slot 0: only its owner word
  });

  it('lays records out in whole cache lines, stamps after the owner word, then the clock, request words last', () => {
    // A spare word keeps where a request's entries were sent from, when there is one: c = 21 has none.
    expect([caches(20).stride, caches(20).positionsAt, caches(21).stride, caches(21).positionsAt]).toEqual([32, 31, 32, -1]);
    expect([caches(19).stride, caches(19).positionsAt]).toEqual([32, 29]);
    for (const c of [1, 4, 20, 21, 29, 30, 255]) {
      const cy = caches(c);
      expect(cy.stride % 16).toBe(0);
      // Stamp bytes four to a word, the clock's byte after the c stamps.
      expect(cy.stampsAt).toBe(c + 2);
      expect(cy.requestAt).toBe(cy.stampsAt + Math.ceil((c + 1) / 4));
      expect(cy.requestAt + REQUEST_WORDS).toBeLessThanOrEqual(cy.stride);
      if (cy.positionsAt >= 0) expect([c <= 32, cy.positionsAt === cy.requestAt + REQUEST_WORDS, cy.positionsAt < cy.stride]).toEqual([true, true, true]);
      for (let slot = 0; slot < cy.capacity; slot++) expect(cy.records[slot * cy.stride + c + 1]).toBe(-1);
    }
  });

  it('finds the oldest entry across the wrap of the clock, the first one on ties, under either ageing', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 40 }).chain((c) => fc.record({
        c: fc.constant(c),
        now: fc.integer({ min: 0, max: 1000 }),
        ages: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: c }),
        rules: fc.constantFrom(PUBLISHED_RULES, VARIANT),
      })),
      ({ c, now, ages, rules }) => {
        const cy = caches(c, 2, now, rules);
        const base = fill(cy, 1, 7, ages.map((_, k) => 100 + k), ages, now);
        expect(entries(cy, 1).map(([, age]) => age)).toEqual(ages);
        const expected = ages.length === 0 ? 0 : ages.indexOf(Math.max(...ages));
        expect(cy.oldestIndex(base, ages.length)).toBe(expected);
      },
    ));
  });

  it('ages every entry by one when its node initiates, by one tick of its clock (published ageing only)', () => {
    const cy = caches(5, 2, 7);
    const base = fill(cy, 1, 0, [11, 12, 13], [0, 3, 254], 255);
    cy.ageEntries(base);
    expect([cy.stampAt(base, cy.cache), entries(cy, 1)]).toEqual([0, [[11, 1], [12, 4], [13, 255]]]);
    const clock = caches(5, 2, 7, VARIANT);
    const clockBase = fill(clock, 1, 0, [11, 12], [0, 3]);
    clock.ageEntries(clockBase);
    expect(entries(clock, 1)).toEqual([[11, 0], [12, 3]]);
    clock.refresh(8); // the variant: entries age with the cycle
    expect(entries(clock, 1)).toEqual([[11, 1], [12, 4]]);
  });

  it('takes the oldest entry out, moving the last into its place', () => {
    const cy = caches(5, 2, 10);
    const base = fill(cy, 1, 0, [11, 12, 13, 14], [1, 7, 5, 2], 10);
    expect(cy.takeOldest(base, 4, -1)).toBe(12);
    expect(entries(cy, 1)).toEqual([[11, 1], [14, 2], [13, 5]]);
    expect(cy.takeOldest(base, 3, 0)).toBe(11); // a known index is taken as given
    expect(entries(cy, 1)).toEqual([[13, 5], [14, 2]]);
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
    const cy = caches(3, 4, 0, PUBLISHED_RULES, Int32Array.of(-1, -1, 2, 1, -1, 0, -1, -1));
    fill(cy, 2, 2, []);
    fill(cy, 1, 3, []); // node 3 lives in slot 1 (slots recycled by churn)
    expect(cy.slotOf(2)).toBe(2);
    expect(cy.slotOf(3)).toBe(1); // slot 3's owner word is -1: the table
    expect(cy.slotOf(5)).toBe(0); // beyond the capacity: the table
    expect(cy.slotOf(0)).toBe(-1);
  });

  it('merges as Cyclon states: no owner, no duplicates, empty slots first, then the sent slots in order, under either rules', () => {
    const cases = fc.integer({ min: 1, max: 40 }).chain((c) => fc.record({
      c: fc.constant(c),
      // Ids 33 or 1025 apart share filter bits: the exact check must sort them out.
      scale: fc.constantFrom(1, 33, 1025),
      cache: fc.uniqueArray(fc.integer({ min: 1, max: 3 * c }), { maxLength: c }),
      incoming: fc.uniqueArray(fc.integer({ min: 0, max: 3 * c }), { maxLength: c }),
      clock: fc.nat(300),
      rules: fc.constantFrom(PUBLISHED_RULES, VARIANT, { ageing: 'initiator', duplicates: 'during-merge' } as const),
    })).chain((x) => fc.record({
      x: fc.constant(x),
      sent: fc.shuffledSubarray(x.cache.map((_, k) => k)),
    }));
    fc.assert(fc.property(cases, ({ x: { c, scale, cache, incoming, clock, rules }, sent }) => {
      const self = 0;
      const cy = caches(c, 2, clock, rules);
      const held = cache.map((id) => id * scale);
      const heldAges = held.map((id) => (id * 7) % 60);
      const base = fill(cy, 1, self, held, heldAges, clock);
      const ids = Int32Array.from(incoming, (id) => id * scale);
      const ages = Array.from(ids, (id) => (id * 13 + 1) % 60);
      const wire = Uint8Array.from(ages, (age) => travelling(cy, age));
      const expected = referenceMerge(held.map((id, k) => [id, heldAges[k]]), c, self,
        Array.from(ids, (id, k) => [id, ages[k]]), sent, rules.duplicates);
      const n = cy.merge(base, held.length, ids, wire, ids.length, Int32Array.from(sent), sent.length);
      cy.records[base + c] = n;
      expect(entries(cy, 1)).toEqual(expected);
    }), { numRuns: 300 });
  });

  it('makes one shuffle in the steps both engines share: P offers, Q answers and merges, P merges the answer', () => {
    fc.assert(fc.property(
      fc.record({
        c: fc.integer({ min: 2, max: 12 }), l: fc.integer({ min: 1, max: 12 }), nq: fc.integer({ min: 0, max: 12 }),
        now: fc.nat(300), pClock: fc.nat(255), qClock: fc.nat(255), rules: fc.constantFrom(PUBLISHED_RULES, VARIANT),
      }),
      ({ c, l: shuffle, nq, now, pClock, qClock, rules }) => {
        const l = Math.min(shuffle, c);
        const cy = caches(c, 3, now, rules);
        // P (id 1) has taken its contact's entry out: c - 1 entries left. Q (id 2) holds up to c.
        const n = c - 1;
        const pHeld: [number, number][] = Array.from({ length: n }, (_, k) => [100 + k, k]);
        const qHeld: [number, number][] = Array.from({ length: Math.min(nq, c) }, (_, k) => [200 + k, 50 + k]);
        const pBase = fill(cy, 1, 1, pHeld.map(([id]) => id), pHeld.map(([, age]) => age), pClock);
        const qBase = fill(cy, 2, 2, qHeld.map(([id]) => id), qHeld.map(([, age]) => age), qClock);
        const sentP = new Int32Array(l + 1), sentQ = new Int32Array(l + 1); // + 1: see pickRandom
        const offerIds = new Int32Array(l), offerAges = new Uint8Array(l);
        const replyIds = new Int32Array(l), replyAges = new Uint8Array(l);
        // What travels is the age, or under clock ageing minus the birth cycle.
        const aged = (bytes: Uint8Array, k: number) => (bytes[k] + cy.now) & 255;

        const offered = cy.offer(pBase, n, l, sentP, offerIds, 0, offerAges, 0);
        const offer = Array.from({ length: offered }, (_, k): [number, number] => [offerIds[k], aged(offerAges, k)]);
        const fromP = Array.from(sentP.subarray(0, offered - 1));
        // Itself, age 0, then l - 1 distinct entries of its own, with their ages.
        expect(offer).toEqual([[1, 0], ...fromP.map((k) => pHeld[k])]);
        expect(new Set(fromP).size).toBe(Math.min(l - 1, n));

        const answered = cy.answer(qBase, l, offerIds, offerAges, offered, sentQ, replyIds, 0, replyAges, 0);
        const fromQ = Array.from(sentQ.subarray(0, answered));
        const reply = Array.from({ length: answered }, (_, k): [number, number] => [replyIds[k], aged(replyAges, k)]);
        expect(reply).toEqual(fromQ.map((k) => qHeld[k]));
        expect(new Set(fromQ).size).toBe(Math.min(l, qHeld.length));
        // Q's entries keep their ages: only its own shuffles age them.
        expect(entries(cy, 2)).toEqual(referenceMerge(qHeld, c, 2, offer, fromQ, rules.duplicates));

        cy.mergeAnswer(pBase, n, replyIds, replyAges, answered, sentP, offered - 1);
        expect(entries(cy, 1)).toEqual(referenceMerge(pHeld, c, 1, reply, fromP, rules.duplicates));
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

describe('cyclon caches beyond one byte view', () => {
  it('are chosen by size: a byte view up to 2^32 bytes of records, the words beyond', () => {
    const ids = { slotOf: () => -1 };
    const draw = new Random('test', 1).generator();
    // 128-byte records (c = 20): 2^25 of them fill one byte view exactly. Not allocated here: only the choice is checked.
    expect(CyclonCaches.strideFor(20) * 4).toBe(128);
    expect(4 * 2 ** 25 * CyclonCaches.strideFor(20)).toBe(2 ** 32);
    expect(CyclonCaches.create(20, 1000, ids, draw)).not.toBeInstanceOf(WideCyclonCaches);
    expect(() => new CyclonCaches(20, 2 ** 25 + 1, ids, draw)).toThrow(/byte view/);
  });
});
