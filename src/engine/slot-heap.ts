import type { StateDeclarations } from './state.js';

/**
 * A binary min-heap of slots keyed by a per-slot time (`keys[slot]`), each slot at
 * most once: what a control keeps its nodes' next changes in, so that a run finds the
 * due ones in O(log n) each instead of scanning every slot. With `state`, its arrays
 * are declared there (checkpoints save them).
 */
export class SlotHeap {
  /** The slots, heap-ordered by key. */
  private readonly heap: Int32Array;
  /** slot -> its index in `heap`, or -1. */
  private readonly position: Int32Array;
  private readonly count: { size: number };

  constructor(capacity: number, private readonly keys: Float64Array, state?: StateDeclarations) {
    const heap = new Int32Array(capacity);
    const position = new Int32Array(capacity).fill(-1);
    this.heap = state ? state.array('heap', heap) : heap;
    this.position = state ? state.array('heapPosition', position) : position;
    this.count = state ? state.values('heapSize', { size: 0 }) : { size: 0 };
  }

  get size(): number { return this.count.size; }

  /** The smallest key (Infinity when empty). */
  minKey(): number {
    return this.count.size === 0 ? Infinity : this.keys[this.heap[0]];
  }

  /** Puts `slot` in at its current key, or moves it after its key changed. */
  update(slot: number): void {
    let at = this.position[slot];
    if (at < 0) {
      at = this.count.size++;
      this.heap[at] = slot;
      this.position[slot] = at;
    }
    this.down(this.up(at));
  }

  /** Takes out and returns the slot with the smallest key (the heap must not be empty). */
  pop(): number {
    const top = this.heap[0];
    const last = this.heap[--this.count.size];
    this.position[top] = -1;
    if (this.count.size > 0) {
      this.heap[0] = last;
      this.position[last] = 0;
      this.down(0);
    }
    return top;
  }

  /** Takes `slot` out, if it is in. */
  remove(slot: number): void {
    const at = this.position[slot];
    if (at < 0) return;
    const last = this.heap[--this.count.size];
    this.position[slot] = -1;
    if (at < this.count.size) {
      this.heap[at] = last;
      this.position[last] = at;
      this.down(this.up(at));
    }
  }

  private up(at: number): number {
    const { heap, position, keys } = this;
    const slot = heap[at];
    const key = keys[slot];
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (keys[heap[parent]] <= key) break;
      heap[at] = heap[parent];
      position[heap[at]] = at;
      at = parent;
    }
    heap[at] = slot;
    position[slot] = at;
    return at;
  }

  private down(at: number): void {
    const { heap, position, keys } = this;
    const size = this.count.size;
    const slot = heap[at];
    const key = keys[slot];
    for (;;) {
      let child = 2 * at + 1;
      if (child >= size) break;
      if (child + 1 < size && keys[heap[child + 1]] < keys[heap[child]]) child++;
      if (keys[heap[child]] >= key) break;
      heap[at] = heap[child];
      position[heap[at]] = at;
      at = child;
    }
    heap[at] = slot;
    position[slot] = at;
  }
}
