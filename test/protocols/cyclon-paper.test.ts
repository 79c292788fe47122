import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Random } from '../../src/engine/random.js';
import { CyclonCaches, PUBLISHED_RULES, type CyclonRules } from '../../src/protocols/cyclon-cache.js';
import type { Cyclon } from '../../src/protocols/cyclon.js';
import { simulate } from '../helpers.js';

/**
 * Cyclon against the paper's seven steps (Voulgaris, Gavidia, van Steen 2005; quoted
 * in SCIENCE.md): a shuffle worked out by hand, then whole runs replayed by a plain
 * reference, one object per node, that uses the same random choices.
 */

type Entry = { id: number; age: number };

/** The paper's enhanced shuffle, written plainly: caches are arrays of {id, age}. */
class Reference {
  constructor(
    readonly caches: Map<number, Entry[]>,
    private readonly c: number,
    private readonly l: number,
    private readonly rules: CyclonRules,
    /** k distinct positions below n, in draw order: the implementation's own draws, replayed. */
    private readonly pick: (n: number, k: number) => number[],
  ) {}

  /** Clock ageing (the variant): at each new cycle every entry everywhere is one older. */
  tick(): void {
    if (this.rules.ageing === 'clock') for (const cache of this.caches.values()) for (const entry of cache) entry.age++;
  }

  shuffle(p: number, live: (id: number) => boolean): void {
    const cache = this.caches.get(p)!;
    if (cache.length === 0) return;
    // 1. Increase by one the age of all neighbours.
    if (this.rules.ageing === 'initiator') for (const entry of cache) entry.age++;
    // 2. Select neighbour Q with the highest age (the first on ties) ...
    let oldest = 0;
    for (let i = 1; i < cache.length; i++) if (cache[i].age > cache[oldest].age) oldest = i;
    const q = cache[oldest].id;
    // ... whose entry leaves P's cache (the last entry takes its place). A departed Q: no shuffle.
    cache[oldest] = cache[cache.length - 1];
    cache.pop();
    if (!live(q)) return;
    // ... and l - 1 other random neighbours. 3. Put P itself, age 0, in place of Q's entry.
    const sentByP = this.pick(cache.length, Math.min(this.l - 1, cache.length));
    const offer = [{ id: p, age: 0 }, ...sentByP.map((i) => ({ ...cache[i] }))];
    // 4. Send the subset to Q. Q answers with at most l random entries of its own and
    // merges the offer, its own entries not ageing.
    const qCache = this.caches.get(q)!;
    const sentByQ = this.pick(qCache.length, Math.min(this.l, qCache.length));
    const reply = sentByQ.map((i) => ({ ...qCache[i] }));
    this.merge(q, offer, sentByQ);
    // 5. Receive Q's subset; 6-7. merge it.
    this.merge(p, reply, sentByP);
  }

  private merge(self: number, received: Entry[], sent: number[]): void {
    const cache = this.caches.get(self)!;
    // 6. Discard entries pointing at the node itself, and entries already in its cache
    // (the variant: in the cache as it is being overwritten).
    const before = new Set(cache.map((entry) => entry.id));
    let replaced = 0;
    for (const entry of received) {
      const held = this.rules.duplicates === 'before-merge' ? before.has(entry.id) : cache.some((other) => other.id === entry.id);
      if (entry.id === self || held) continue;
      // 7. Empty slots first, then the slots of the entries sent.
      if (cache.length < this.c) cache.push(entry);
      else if (replaced < sent.length) cache[sent[replaced++]] = entry;
    }
  }
}

/** An id map in which no id is live: these tests never look one up. */
const NO_LIVE_IDS = { slotOf: () => -1 };

/** Caches of size c for 3 slots, where the positions drawn are the ones `script` lists. */
function scripted(c: number, script: number[][]): CyclonCaches {
  const caches = new CyclonCaches(c, 3, NO_LIVE_IDS, new Random('test', 1).generator());
  caches.refresh(0);
  caches.pickRandom = (picks, _n, k) => {
    const next = script.shift()!;
    expect(next.length).toBe(k);
    picks.set(next);
  };
  return caches;
}

/** Puts entries ([id, age]) in slot's record for node `self`, its clock at `clock`. */
function fill(caches: CyclonCaches, slot: number, self: number, clock: number, entries: [number, number][]): number {
  const base = slot * caches.stride;
  caches.setStampAt(base, caches.cache, clock);
  entries.forEach(([id, age], k) => {
    caches.records[base + k] = id;
    caches.setStampAt(base, k, clock - age);
  });
  caches.records[base + caches.cache] = entries.length;
  caches.records[base + caches.cache + 1] = self;
  return base;
}

function entriesOf(caches: CyclonCaches, slot: number): [number, number][] {
  const base = slot * caches.stride;
  return Array.from({ length: caches.records[base + caches.cache] }, (_, k) => [caches.records[base + k], caches.ageOf(base, k)]);
}

describe('cyclon, as published', () => {
  it('makes a shuffle worked out by hand (c = 4, l = 3)', () => {
    // P (node 1, slot 1) and Q (node 2, slot 2). P picks positions 0 and 2 to send; Q picks 0, 1, 3.
    const caches = scripted(4, [[0, 2], [0, 1, 3]]);
    const p = fill(caches, 1, 1, 5, [[7, 1], [2, 4], [8, 2], [9, 0]]);
    const q = fill(caches, 2, 2, 10, [[8, 6], [5, 1], [1, 2], [6, 4]]);
    const ids = new Int32Array(3), ages = new Uint8Array(3), replyIds = new Int32Array(3), replyAges = new Uint8Array(3);
    const sentP = new Int32Array(3), sentQ = new Int32Array(3);

    // Step 1: P's entries age by one: (7, 2) (2, 5) (8, 3) (9, 1); its clock goes 5 -> 6.
    // Step 2: the oldest is node 2, Q: its entry leaves, the last one takes its place.
    expect(caches.takeOldest(p, 4, -1)).toBe(2);
    caches.ageEntries(p);
    expect(entriesOf(caches, 1)).toEqual([[7, 2], [9, 1], [8, 3]]);
    // Steps 3-4: P sends itself (age 0) and the entries at 0 and 2, with their ages.
    expect(caches.offer(p, 3, 3, sentP, ids, 0, ages, 0)).toBe(3);
    expect([Array.from(ids), Array.from(ages)]).toEqual([[1, 7, 8], [0, 2, 3]]);
    // Q answers with its entries at 0, 1, 3, with their ages (Q's own do not age), and
    // merges [(1, 0), (7, 2), (8, 3)]: 1 is held, discarded; 7 goes to the first slot Q
    // sent from (0, where 8 was); 8 was held before the merge: discarded, although its
    // slot was overwritten a moment ago. Q's cache is full, so the slots it sent from
    // that are not needed keep their entries (5 at 1, 6 at 3).
    expect(caches.answer(q, 3, ids, ages, 3, sentQ, replyIds, 0, replyAges, 0)).toBe(3);
    expect([Array.from(replyIds), Array.from(replyAges)]).toEqual([[8, 5, 6], [6, 1, 4]]);
    expect(entriesOf(caches, 2)).toEqual([[7, 2], [5, 1], [1, 2], [6, 4]]);
    // Steps 5-7: P merges [(8, 6), (5, 1), (6, 4)]: 8 is held, discarded; 5 fills the
    // empty slot (3); 6 goes to the first slot P sent from (0, where 7 was).
    caches.mergeAnswer(p, 3, replyIds, replyAges, 3, sentP, 2);
    expect(entriesOf(caches, 1)).toEqual([[6, 4], [9, 1], [8, 3], [5, 1]]);
    // Ages are stored as stamps under each node's clock: P's is 6, Q's still 10.
    expect([caches.stampAt(p, caches.cache), caches.stampAt(q, caches.cache)]).toEqual([6, 10]);
    expect([0, 1, 2, 3].map((k) => caches.stampAt(p, k))).toEqual([2, 5, 3, 5]);
  });

  it('keeps, in the variant, an entry whose copy was overwritten earlier in the same merge', () => {
    const rules: CyclonRules = { ageing: 'initiator', duplicates: 'during-merge' };
    const caches = new CyclonCaches(4, 3, NO_LIVE_IDS, new Random('test', 1).generator(), rules);
    const q = fill(caches, 2, 2, 10, [[8, 6], [5, 1], [1, 2], [6, 4]]);
    // Q sent from 0, 1, 3 and merges the same offer as above: 8, held at 0 until 7 took
    // that slot, now counts as new and takes the next slot Q sent from (1).
    const n = caches.merge(q, 4, Int32Array.of(1, 7, 8), Uint8Array.of(0, 2, 3), 3, Int32Array.of(0, 1, 3), 3);
    caches.records[q + caches.cache] = n;
    expect(entriesOf(caches, 2)).toEqual([[7, 2], [8, 3], [1, 2], [6, 4]]);
  });

  it('gives the caches and ages of a plain reference of the seven steps, run after run', async () => {
    const full = process.env.PCSIM_TIER === 'full';
    await fc.assert(fc.asyncProperty(
      fc.record({
        // Networks of c + 1 to 3c + 1 nodes: entries held on both sides are common.
        cache: fc.integer({ min: 1, max: 12 }),
        spread: fc.double({ min: 0, max: 1, noNaN: true }),
        shuffleFraction: fc.double({ min: 0, max: 1, noNaN: true }),
        topology: fc.constantFrom('random', 'ring', 'star'),
        cycles: fc.integer({ min: 1, max: 12 }),
        // Nodes that fail at the start of a cycle: (cycle, node) pairs.
        failures: fc.array(fc.tuple(fc.integer({ min: 1, max: 12 }), fc.nat(39)), { maxLength: 8 }),
        rules: fc.constantFrom<CyclonRules>(
          PUBLISHED_RULES,
          { ageing: 'clock', duplicates: 'during-merge' },
          { ageing: 'initiator', duplicates: 'during-merge' },
          { ageing: 'clock', duplicates: 'before-merge' },
        ),
        seed: fc.nat(1000),
      }),
      async ({ cache: c, spread, shuffleFraction, topology, cycles, failures, rules, seed }) => {
        const size = c + 1 + Math.floor(spread * 2 * c);
        const l = 1 + Math.floor(shuffleFraction * (c - 1));
        const simulation = await simulate({
          seed, size, cycles,
          protocols: { cyclon: { type: 'cyclon', cache: c, shuffle: l, init: { topology }, ...rules } },
        });
        const cyclon = simulation.protocols.get('cyclon') as Cyclon;
        const inside = cyclon as unknown as { caches: CyclonCaches; shuffles: (order: Int32Array, start: number, end: number) => void };
        const caches = inside.caches;
        // Without churn that adds nodes, slots are ids.
        const read = (slot: number): Entry[] => Array.from({ length: cyclon.degree(slot) }, (_, k) => ({
          id: cyclon.neighbor(slot, k), age: caches.ageOf(slot * caches.stride, k),
        }));
        const live = new Set(Array.from({ length: size }, (_, i) => i));
        const picks: number[][] = [];
        const reference = new Reference(new Map([...live].map((i) => [i, read(i)])), c, l, rules, (n, k) => {
          const next = picks.shift();
          expect(next?.length).toBe(k);
          for (const at of next!) expect(at).toBeLessThan(n);
          return next!;
        });
        // Each batch of shuffles, in the order the engine runs them: the implementation's
        // first, then the reference's with the implementation's draws, which they must use up.
        const pickRandom = caches.pickRandom.bind(caches);
        caches.pickRandom = (out, n, k) => {
          pickRandom(out, n, k);
          picks.push(Array.from(out.subarray(0, k)));
        };
        const shuffles = inside.shuffles.bind(cyclon);
        inside.shuffles = (order, start, end) => {
          shuffles(order, start, end);
          for (let i = start; i < end; i++) reference.shuffle(order[i], (id) => live.has(id));
          expect(picks).toEqual([]);
        };
        for (let cycle = 1; !simulation.done; cycle++) {
          for (const [at, node] of failures) {
            if (at !== cycle || node >= size || !live.has(node) || live.size === 1) continue;
            simulation.membership.leave(simulation.store.slotOf(node));
            live.delete(node);
            reference.caches.set(node, []);
          }
          if (cycle > 1) reference.tick();
          simulation.runCycle(() => {});
          for (const node of live) expect([node, read(node)]).toEqual([node, reference.caches.get(node)]);
        }
      },
    ), { numRuns: full ? 400 : 40 });
  });
});
