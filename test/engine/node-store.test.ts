import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NodeStore } from '../../src/engine/node-store.js';
import { simulate } from '../helpers.js';

describe('node store', () => {
  it('gives the first nodes ids equal to their slots', () => {
    const store = new NodeStore(5);
    for (let i = 0; i < 5; i++) expect(store.add(0)).toBe(i);
    for (let i = 0; i < 5; i++) expect(store.idOf[i]).toBe(i);
    expect(store.size).toBe(5);
  });

  it('answers slotOfLiveId as slotOf does, through joins, departures, suspensions and slot reuse', () => {
    const op = fc.oneof(fc.constant('add' as const), fc.tuple(fc.constantFrom('remove' as const, 'suspend' as const, 'resume' as const), fc.nat()));
    fc.assert(fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
      const store = new NodeStore(40);
      const offline: number[] = [];
      let reused = false;
      for (const o of ops) {
        if (o === 'add') {
          if (store.freeSlots === 0) continue;
          const slot = store.add(0);
          if (slot !== store.idOf[slot]) reused = true;
        } else if (o[0] === 'resume') {
          if (offline.length > 0) store.resume(offline.splice(o[1] % offline.length, 1)[0], 0);
        } else if (store.size > 0) {
          const slot = store.liveSlot(o[1] % store.size);
          if (o[0] === 'remove') store.remove(slot);
          else { store.suspend(slot); offline.push(slot); }
        }
        expect(store.slotsAreIds).toBe(!reused);
        for (let id = -2; id < 45; id++) expect(store.slotOfLiveId(id)).toBe(store.slotOf(id));
      }
    }));
  });

  it('never reuses an id, so a departed id stays detectably dead', () => {
    const store = new NodeStore(3);
    const slots = [store.add(0), store.add(0), store.add(0)];
    const goneId = store.idOf[slots[1]];
    store.remove(slots[1]);
    expect(store.slotOf(goneId)).toBe(-1);
    const reused = store.add(1);
    expect(reused).toBe(slots[1]);
    expect(store.idOf[reused]).toBe(3);
    expect(store.slotOf(goneId)).toBe(-1);
    expect(store.slotOf(3)).toBe(reused);
    expect(store.joinedAt[reused]).toBe(1);
  });

  it('refuses to remove a dead slot or overfill', () => {
    const store = new NodeStore(1);
    const slot = store.add(0);
    expect(() => store.add(0)).toThrow(/full/);
    store.remove(slot);
    expect(() => store.remove(slot)).toThrow(/no live node/);
  });

  it('keeps the live list, id map and free list consistent under any add/remove sequence', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat()), { maxLength: 300 }), (ops) => {
      const capacity = 20;
      const store = new NodeStore(capacity);
      const model = new Map<number, number>(); // id -> slot
      for (const [add, pick] of ops) {
        if (add && store.size < capacity) {
          const slot = store.add(0);
          model.set(store.idOf[slot], slot);
        } else if (!add && store.size > 0) {
          const slot = store.liveSlot(pick % store.size);
          model.delete(store.idOf[slot]);
          store.remove(slot);
        }
      }
      expect(store.size).toBe(model.size);
      const live = new Set<number>();
      for (let i = 0; i < store.size; i++) live.add(store.liveSlot(i));
      expect([...live].sort()).toEqual([...model.values()].sort());
      for (const [id, slot] of model) expect(store.slotOf(id)).toBe(slot);
      for (let id = 0; id < store.idsIssued; id++) if (!model.has(id)) expect(store.slotOf(id)).toBe(-1);
    }));
  });
});

describe('id -> slot map', () => {
  it('answers like a model map through joins, departures, suspensions, slot reuse and a save/restore', () => {
    const op = fc.oneof(fc.constant('add' as const), fc.constant('restore' as const), fc.tuple(fc.constantFrom('remove' as const, 'suspend' as const, 'resume' as const), fc.nat()));
    fc.assert(fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
      let store = new NodeStore(40);
      const model = new Map<number, number>(); // live id -> slot
      const offline: number[] = [];
      for (const o of ops) {
        if (o === 'add') {
          if (store.freeSlots === 0) continue;
          const slot = store.add(0);
          model.set(store.idOf[slot], slot);
        } else if (o === 'restore') {
          const copy = new NodeStore(40);
          copy.restore(structuredClone(store.save()));
          store = copy;
        } else if (o[0] === 'resume') {
          if (offline.length === 0) continue;
          const slot = offline.splice(o[1] % offline.length, 1)[0];
          store.resume(slot, 0);
          model.set(store.idOf[slot], slot);
        } else if (store.size > 0) {
          const slot = store.liveSlot(o[1] % store.size);
          model.delete(store.idOf[slot]);
          if (o[0] === 'remove') store.remove(slot);
          else { store.suspend(slot); offline.push(slot); }
        }
        for (let id = -2; id < store.idsIssued + 2; id++) expect(store.slotOf(id)).toBe(model.get(id) ?? -1);
      }
    }), { numRuns: 300 });
  });

  it('stays the size the live population needs after a million joins and leaves', async () => {
    const simulation = await simulate({
      seed: 1, size: 1000, capacity: 1000, cycles: 5000,
      protocols: {},
      controls: { churn: { type: 'churn', remove: 200, substitute: true } },
    });
    const { store } = simulation;
    const words = () => store.idMapWords;
    simulation.advance(() => {});
    const afterFirst = words();
    simulation.run(() => {});
    expect(store.idsIssued).toBeGreaterThanOrEqual(1_000_000);
    expect(words()).toBe(afterFirst);
    // Two words per bucket, fewer than three buckets per slot.
    expect(words()).toBeLessThanOrEqual(6 * store.capacity);
    // Every live node still found, every departed one not.
    for (let i = 0; i < store.size; i++) expect(store.slotOf(store.idOf[store.liveSlot(i)])).toBe(store.liveSlot(i));
    for (let id = 0; id < store.idsIssued; id += 997) {
      const slot = store.slotOf(id);
      if (slot >= 0) expect(store.idOf[slot]).toBe(id);
    }
  });
});

describe('node store tables built on first use', () => {
  it('holds no live list, free list, join table or offline flags while no node has left', () => {
    const store = new NodeStore(1000);
    for (let i = 0; i < 1000; i++) store.add(0);
    const saved = store.save();
    expect(saved.live).toBeNull();
    expect(saved.livePosition).toBeNull();
    expect(saved.joinedAt).toBeNull();
    expect(saved.offline).toBeNull();
    expect((saved.free as Int32Array).length).toBe(0);
    for (let i = 0; i < 1000; i++) expect(store.liveSlot(i)).toBe(i);
    store.remove(500);
    expect(store.save().live).not.toBeNull();
    expect(store.freeSlots).toBe(1);
  });

  it('behaves like the full tables through any joins, departures, suspensions, reads and restores', () => {
    const capacity = 30;
    const op = fc.oneof(
      fc.tuple(fc.constant('add' as const), fc.nat(3)),
      fc.constant('restore' as const), fc.constant('read' as const),
      fc.tuple(fc.constantFrom('remove' as const, 'suspend' as const, 'resume' as const), fc.nat()),
    );
    fc.assert(fc.property(fc.array(op, { maxLength: 150 }), (ops) => {
      let store = new NodeStore(capacity);
      // The tables as they were always kept: a free stack holding capacity-1 .. 0 (0 on top), a byte per slot.
      const free = Array.from({ length: capacity }, (_, i) => capacity - 1 - i);
      const live = new Set<number>();
      const offline = new Set<number>();
      const joined = new Map<number, number>();
      let cycle = 0;
      let alive: Uint8Array | undefined;
      for (const o of ops) {
        cycle++;
        if (o === 'restore') {
          const copy = new NodeStore(capacity);
          copy.restore(structuredClone(store.save()));
          store = copy;
          alive = undefined;
        } else if (o === 'read') {
          alive = store.alive;
        } else if (o[0] === 'add') {
          if (free.length === 0) { expect(() => store.add(0)).toThrow(/full/); continue; }
          const at = o[1] === 0 ? 0 : cycle; // joins at 0 (as the first nodes do) and later
          expect(store.add(at)).toBe(free.pop());
          const slot = store.idOf.indexOf(store.idsIssued - 1);
          live.add(slot);
          joined.set(slot, at);
        } else if (o[0] === 'resume') {
          if (offline.size === 0) continue;
          const slot = [...offline][o[1] % offline.size];
          store.resume(slot, cycle);
          offline.delete(slot);
          live.add(slot);
          joined.set(slot, cycle);
        } else if (live.size > 0) {
          const slot = store.liveSlot(o[1] % store.size);
          live.delete(slot);
          if (o[0] === 'remove') { store.remove(slot); free.push(slot); }
          else { store.suspend(slot); offline.add(slot); }
        }
        expect(store.size).toBe(live.size);
        expect(store.freeSlots).toBe(free.length);
        expect(new Set(Array.from({ length: store.size }, (_, i) => store.liveSlot(i)))).toEqual(live);
        const copied = new Int32Array(capacity);
        expect(store.copyLiveSlots(copied)).toBe(live.size);
        expect(new Set(copied.subarray(0, live.size))).toEqual(live);
        for (let slot = 0; slot < capacity; slot++) {
          expect(store.isLive(slot)).toBe(live.has(slot));
          expect(store.isOffline(slot)).toBe(offline.has(slot));
          if (alive) expect(alive[slot]).toBe(live.has(slot) ? 1 : 0);
          // Read only now and then: until read, the join table exists only once someone joined after 0.
          if (o === 'read' && live.has(slot)) expect(store.joinedAt[slot]).toBe(joined.get(slot));
        }
      }
    }), { numRuns: 300 });
  });
});
