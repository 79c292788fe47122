import { describe, expect, it } from 'vitest';
import { WorldState, type Section } from '../../src/engine/state.js';

/** The sections' bytes copied out of the live memory, as a checkpoint file holds them. */
const copied = (sections: readonly Section[]): Section[] => sections.map((section) => ({ ...section, bytes: section.bytes.slice() }));

/** A world declaring one pool of 3-wide records, starting with room for 4: what a fresh run and a resumed one both build. */
function worldWithPool() {
  const world = new WorldState();
  const pool = world.scope('protocols.p').pool('payloads', 3, (length) => new Float64Array(length), 4);
  return { world, pool };
}

describe('world state: restore', () => {
  it('puts back a pool that grew past its initial room, its records and its free list in reuse order', () => {
    const { world, pool } = worldWithPool();
    const held: number[] = [];
    for (let i = 0; i < 37; i++) {
      const record = pool.allocate();
      pool.data.set([i, i + 0.5, -i], record * 3);
      held.push(record);
    }
    for (const record of [5, 30, 2, 17, 9, 22]) pool.release(record);
    const saved = copied(world.save());

    const fresh = worldWithPool();
    fresh.world.restore(saved);
    expect(Array.from(fresh.pool.data.subarray(0, 37 * 3))).toEqual(Array.from(pool.data.subarray(0, 37 * 3)));
    // Both hand out the same records from here on: the freed ones last released first, then new ones.
    const next = (p: typeof pool) => Array.from({ length: 8 }, () => p.allocate());
    expect(next(fresh.pool)).toEqual([22, 9, 17, 2, 30, 5, 37, 38]);
    expect(next(pool)).toEqual([22, 9, 17, 2, 30, 5, 37, 38]);
    // And the restored pool keeps growing and freeing as the original does.
    for (let i = 0; i < 100; i++) {
      const [a, b] = [pool.allocate(), fresh.pool.allocate()];
      expect(b).toBe(a);
      pool.data[a * 3] = fresh.pool.data[b * 3] = i;
      if (i % 3 === 0) {
        pool.release(a);
        fresh.pool.release(b);
      }
    }
    expect(copied(fresh.world.save())).toEqual(copied(world.save()));
  });

  it('puts a restored pool back exactly when the fresh one had grown further than the saved one', () => {
    const { world, pool } = worldWithPool();
    for (let i = 0; i < 3; i++) pool.data[pool.allocate() * 3] = i + 1;
    const saved = copied(world.save());

    const fresh = worldWithPool();
    for (let i = 0; i < 50; i++) fresh.pool.data[fresh.pool.allocate() * 3] = 99;
    fresh.world.restore(saved);
    expect(copied(fresh.world.save())).toEqual(saved);
    expect(fresh.pool.allocate()).toBe(3);
  });

  it('restores values in place, removing keys the checkpoint does not have and keeping NaN', () => {
    const world = new WorldState();
    const tally = world.scope('observers.o').values('tally', { count: 0, learned: NaN } as Record<string, number>);
    tally.count = 7;
    const saved = copied(world.save());

    const fresh = new WorldState();
    const restored = fresh.scope('observers.o').values('tally', { count: 0, learned: NaN } as Record<string, number>);
    restored.extra = 3; // added after the checkpoint was taken: not part of it
    delete restored.learned;
    restored.learned = 1;
    fresh.restore(saved);
    expect(Object.keys(restored).sort()).toEqual(['count', 'learned']);
    expect(restored.count).toBe(7);
    expect(restored.learned).toBeNaN();
    expect(copied(fresh.save())).toEqual(saved);
  });

  it('restores arrays in place, so that views of their memory see the saved data', () => {
    const world = new WorldState();
    const array = world.scope('protocols.p').array('x', new Int32Array(6));
    array.set([1, 2, 3, 4, 5, 6]);
    const saved = copied(world.save());
    const fresh = new WorldState();
    const target = fresh.scope('protocols.p').array('x', new Int32Array(6));
    const view = new Uint8Array(target.buffer);
    fresh.restore(saved);
    expect(Array.from(target)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(view[4]).toBe(2);
  });
});
