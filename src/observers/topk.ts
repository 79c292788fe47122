import { z } from 'zod';
import { Topk } from '../cloud/topk.js';
import { ScenarioError } from '../engine/errors.js';
import { defineObserver, type Context, type ObserverInstance } from '../engine/protocol.js';

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
  /** slot -> 1 if in the true top-k (cleared after each observation). */
  private inTop = new Uint8Array(0);

  constructor(private readonly ctx: Context, p: TopkObserverParams) {
    const instance = ctx.protocol(p.protocol);
    if (!(instance instanceof Topk)) {
      throw new ScenarioError(`observers.${ctx.name}.protocol`, `expected the name of a topk protocol, found "${p.protocol}" (of another type)`);
    }
    this.topk = instance;
    this.best = new Int32Array(instance.k);
  }

  observe(emit: (metric: string, value: number) => void): void {
    const { store } = this.ctx;
    const { topk, best } = this;
    if (this.inTop.length < store.capacity) this.inTop = new Uint8Array(store.capacity);
    const inTop = this.inTop;
    const n = store.size;
    const top = this.trueTop();
    for (let r = 0; r < top; r++) inTop[best[r]] = 1;
    let sum = 0, exact = 0;
    for (let i = 0; i < n; i++) {
      const slot = store.liveSlot(i);
      const size = topk.estimateSize(slot);
      let hits = 0;
      for (let e = 0; e < size; e++) {
        const holder = store.slotOf(topk.estimateId(slot, e));
        if (holder >= 0 && inTop[holder] === 1) hits++;
      }
      sum += hits / top;
      if (hits === top && size === top) exact++;
    }
    for (let r = 0; r < top; r++) inTop[best[r]] = 0;
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
