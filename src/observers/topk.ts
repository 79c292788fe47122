import { z } from 'zod';
import { Topk } from '../cloud/topk.js';
import { ScenarioError } from '../engine/errors.js';
import { defineObserver, type Context, type ObserverInstance } from '../engine/protocol.js';

/** 2^32 / golden ratio: Fibonacci hashing of ids. */
const FIBONACCI = 0x9e3779b9 | 0;

const params = z.strictObject({
  protocol: z.string().describe('the topk instance to measure'),
});
type TopkObserverParams = z.infer<typeof params>;

/**
 * How well the live nodes know the top-k. The true top-k is over the live nodes, in
 * the query's order, ties by smaller id; with fewer than k live nodes it is all of them
 * (K = min(k, live nodes)). A node's estimate is its list.
 * - `precision`: mean over live nodes of |estimate ∩ true top-k| / K.
 * - `exact_fraction`: fraction of live nodes whose estimate is exactly the true top-k.
 * Both NaN with no live node.
 */
class TopkObserver implements ObserverInstance {
  private readonly topk: Topk;
  /** The true top-k, best first: slots, kept sorted while scanning. */
  private readonly best: Int32Array;
  /** The true top-k's ids, as an open-addressing set (-1: empty), 2^bits buckets. */
  private readonly topIds: Int32Array;
  private readonly bits: number;
  /** slot -> how many of the true top-k its estimate holds (scratch). */
  private hits = new Uint16Array(0);

  constructor(private readonly ctx: Context, p: TopkObserverParams) {
    const instance = ctx.protocol(p.protocol);
    if (!(instance instanceof Topk)) {
      throw new ScenarioError(`observers.${ctx.name}.protocol`, `expected the name of a topk protocol, found "${p.protocol}" (of another type)`);
    }
    this.topk = instance;
    this.best = new Int32Array(instance.k);
    this.bits = Math.ceil(Math.log2(4 * instance.k));
    this.topIds = new Int32Array(1 << this.bits);
  }

  /**
   * Counts, for each live node, the entries of its estimate that are in the true top-k
   * (by id: ids are never reused, and a list holds an id once), in one pass over the
   * slots in memory order; then sums the shares in the live nodes' order (the order of
   * a floating-point sum is part of its result).
   */
  observe(emit: (metric: string, value: number) => void): void {
    const { store } = this.ctx;
    const { topk, best, topIds } = this;
    if (this.hits.length < store.capacity) this.hits = new Uint16Array(store.capacity);
    const hits = this.hits;
    const n = store.size;
    const top = this.trueTop();
    const idOf = store.idOf, shift = 32 - this.bits, mask = topIds.length - 1;
    topIds.fill(-1);
    for (let r = 0; r < top; r++) {
      const id = idOf[best[r]];
      let bucket = Math.imul(id, FIBONACCI) >>> shift;
      while (topIds[bucket] !== -1) bucket = (bucket + 1) & mask;
      topIds[bucket] = id;
    }
    const alive = store.alive;
    for (let slot = 0, end = store.capacity; slot < end; slot++) {
      if (alive[slot] === 0) continue;
      const size = topk.estimateSize(slot);
      let count = 0;
      for (let e = 0; e < size; e++) {
        const id = topk.estimateId(slot, e);
        let bucket = Math.imul(id, FIBONACCI) >>> shift;
        for (;;) {
          const held = topIds[bucket];
          if (held === id) {
            count++;
            break;
          }
          if (held === -1) break;
          bucket = (bucket + 1) & mask;
        }
      }
      // An exact estimate: all of the top, and nothing else.
      hits[slot] = count === top && size === top ? count + 0x8000 : count;
    }
    let sum = 0, exact = 0;
    for (let i = 0; i < n; i++) {
      const h = hits[store.liveSlot(i)];
      if (h >= 0x8000) {
        exact++;
        sum += (h - 0x8000) / top;
      } else {
        sum += h / top;
      }
    }
    emit('precision', n > 0 ? sum / n : NaN);
    emit('exact_fraction', n > 0 ? exact / n : NaN);
  }

  /**
   * Fills `best` with the true top-k's slots, best first, in one pass over the live
   * nodes (insertion into a sorted array of k: most nodes fail the first comparison);
   * returns how many (min(k, live nodes)).
   */
  private trueTop(): number {
    const { store } = this.ctx;
    const { topk, best } = this;
    const k = topk.k, attribute = topk.attribute, idOf = store.idOf;
    let count = 0;
    for (let i = 0, n = store.size; i < n; i++) {
      const slot = store.liveSlot(i);
      const value = attribute[slot], id = idOf[slot];
      if (count === k) {
        const last = best[k - 1];
        if (!topk.ranksBefore(value, id, attribute[last], idOf[last])) continue;
      } else {
        count++;
      }
      let at = count - 1;
      while (at > 0 && topk.ranksBefore(value, id, attribute[best[at - 1]], idOf[best[at - 1]])) {
        best[at] = best[at - 1];
        at--;
      }
      best[at] = slot;
    }
    return count;
  }
}

export const topkObserver = defineObserver({
  type: 'topk',
  description: 'top-k query: precision (mean share of the true top-k each node holds) and the fraction of nodes holding exactly the true top-k',
  params,
  metrics: ['precision', 'exact_fraction'],
  create: (ctx, p) => new TopkObserver(ctx, p),
});
