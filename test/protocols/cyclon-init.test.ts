import { describe, expect, it } from 'vitest';
import type { NodeStore } from '../../src/engine/node-store.js';
import { Random, type RandomState } from '../../src/engine/random.js';
import type { Cyclon } from '../../src/protocols/cyclon.js';
import { simulate } from '../helpers.js';

type Topology = 'random' | 'ring' | 'star';

/**
 * The initial caches as a plain reading of their definition builds them: the live
 * nodes in the store's order, each knowing the next c of them (ring), the first (star),
 * or c distinct others drawn by index from the init stream (random). Slot -> ids.
 */
function reference(store: NodeStore, cache: number, topology: Topology, random: Random): Map<number, number[]> {
  const order = Array.from({ length: store.size }, (_, i) => store.liveSlot(i));
  const n = order.length;
  const c = Math.min(cache, n - 1);
  const caches = new Map<number, number[]>();
  order.forEach((slot, i) => {
    const self = store.idOf[slot];
    const entries: number[] = [];
    if (topology === 'ring') for (let k = 1; k <= c; k++) entries.push(store.idOf[order[(i + k) % n]]);
    else if (topology === 'star') { if (i !== 0) entries.push(store.idOf[order[0]]); }
    else {
      while (entries.length < c) {
        const id = store.idOf[order[random.int(n)]];
        if (id !== self && !entries.includes(id)) entries.push(id);
      }
    }
    caches.set(slot, entries);
  });
  return caches;
}

/** Each live node's cache as Cyclon holds it, with its owner word and every entry's age. */
function held(cyclon: Cyclon, store: NodeStore): Map<number, number[]> {
  const caches = new Map<number, number[]>();
  for (let i = 0; i < store.size; i++) {
    const slot = store.liveSlot(i);
    expect(cyclon.records[slot * cyclon.stride + cyclon.cache + 1]).toBe(store.idOf[slot]);
    caches.set(slot, Array.from({ length: cyclon.degree(slot) }, (_, k) => cyclon.neighbor(slot, k)));
  }
  return caches;
}

/** Runs Cyclon's init again and compares its caches and draws with the reference's, from the same state of the init stream. */
function initMatchesReference(cyclon: Cyclon, store: NodeStore, topology: Topology): void {
  const initRandom = (cyclon as unknown as { ctx: { initRandom: Random } }).ctx.initRandom;
  const state: RandomState = initRandom.state();
  cyclon.init();
  const replay = new Random('reference', 0, state);
  const expected = reference(store, cyclon.cache, topology, replay);
  expect(held(cyclon, store)).toEqual(expected);
  // The stream moved on exactly as far as the reference's draws took it.
  expect(initRandom.state()).toEqual(replay.state());
}

describe('cyclon init', () => {
  for (const topology of ['random', 'ring', 'star'] as const) {
    it(`builds the ${topology} caches of the reference, at a run's start and after churn moved nodes between slots`, async () => {
      for (const [size, cache] of [[200, 20], [6, 20], [2, 1], [64, 63]]) {
        const simulation = await simulate({
          seed: 5, size, cycles: 1,
          protocols: { cyclon: { type: 'cyclon', cache: Math.min(cache, size - 1), shuffle: 1, init: { topology } } },
        });
        const cyclon = simulation.protocols.get('cyclon') as Cyclon;
        const store = simulation.store;
        // Slots equal ids, the live order is the identity: ids are drawn directly.
        initMatchesReference(cyclon, store, topology);
        // Nodes leave and new ones take their slots: slots and ids differ, the live order is shuffled.
        let left = 0;
        for (const slot of [0, Math.floor(size / 2)]) if (store.isLive(slot) && store.size > 2) { store.remove(slot); left++; }
        for (let k = 0; k < left; k++) store.add(0);
        if (size > 2) expect(store.slotsAreIds).toBe(false);
        initMatchesReference(cyclon, store, topology);
      }
    });
  }
});
