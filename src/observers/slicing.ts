import { z } from 'zod';
import { defineObserver, type Context, type ObserverInstance } from '../engine/protocol.js';
import { Slicing } from '../protocols/slicing.js';
import { ScenarioError } from '../engine/errors.js';

const params = z.strictObject({
  protocol: z.string().describe('the slicing instance to measure'),
  slices: z.number().int().positive().default(10)
    .describe('number of slices k, at most capacity (one node per slice): node of rank p among N belongs to slice ceil(k p / N)'),
});
type SlicingObserverParams = z.infer<typeof params>;

/**
 * How well the live nodes know their slice. A node's true rank p (1..N) orders the
 * live nodes by attribute (ties by id); its true slice is ceil(k p / N) and its
 * estimated slice ceil(k * estimate), within 1..k.
 * - `sdm`: the slice disorder measure, the sum over nodes of |true - estimated slice|
 *   (Fernández et al. 2007); 0 is perfect. `sdm_per_node` divides it by N.
 * - `misplaced`: the fraction of nodes whose estimated slice is wrong.
 * - `gdm`: the global disorder measure of Jelasity & Kermarrec, the mean squared
 *   difference between a node's rank by attribute and its rank by estimate.
 */
class SlicingObserver implements ObserverInstance {
  private readonly slicing: Slicing;
  private byAttribute = new Int32Array(0);
  private byEstimate = new Int32Array(0);
  private rank = new Float64Array(0);

  constructor(private readonly ctx: Context, private readonly p: SlicingObserverParams) {
    const instance = ctx.protocol(p.protocol);
    if (!(instance instanceof Slicing)) {
      throw new ScenarioError(`observers.${ctx.name}.protocol`, `expected the name of a slicing protocol, found "${p.protocol}" (of another type)`);
    }
    this.slicing = instance;
  }

  observe(emit: (metric: string, value: number) => void): void {
    const { store } = this.ctx;
    const { slicing } = this;
    const n = store.size;
    const k = this.p.slices;
    if (this.byAttribute.length !== n) {
      this.byAttribute = new Int32Array(n);
      this.byEstimate = new Int32Array(n);
    }
    if (this.rank.length < store.capacity) this.rank = new Float64Array(store.capacity);
    for (let i = 0; i < n; i++) this.byAttribute[i] = this.byEstimate[i] = store.liveSlot(i);
    const idOf = store.idOf;
    const attribute = slicing.attribute;
    this.byAttribute.sort((x, y) => attribute[x] - attribute[y] || idOf[x] - idOf[y]);
    this.byEstimate.sort((x, y) => slicing.estimate(x) - slicing.estimate(y) || idOf[x] - idOf[y]);
    const rank = this.rank;
    for (let p = 0; p < n; p++) rank[this.byAttribute[p]] = p + 1;
    let sdm = 0, misplaced = 0, squares = 0;
    for (let q = 0; q < n; q++) {
      const slot = this.byEstimate[q];
      const trueSlice = Math.ceil((k * rank[slot]) / n);
      const estimated = Math.min(k, Math.max(1, Math.ceil(k * slicing.estimate(slot))));
      sdm += Math.abs(trueSlice - estimated);
      if (trueSlice !== estimated) misplaced++;
      squares += (rank[slot] - (q + 1)) ** 2;
    }
    // Means over no nodes are undefined: NaN (the sum, sdm, is 0).
    emit('sdm', sdm);
    emit('sdm_per_node', n > 0 ? sdm / n : NaN);
    emit('misplaced', n > 0 ? misplaced / n : NaN);
    emit('gdm', n > 0 ? squares / n : NaN);
  }
}

export const slicingObserver = defineObserver({
  type: 'slicing',
  description: 'slice disorder (SDM), fraction of nodes in the wrong slice, global disorder (GDM)',
  params,
  metrics: ['sdm', 'sdm_per_node', 'misplaced', 'gdm'],
  check: (p, scenario) => (p.slices > scenario.capacity
    ? [{ key: 'slices', message: `expected at most capacity (${scenario.capacity}) slices, found ${p.slices}` }]
    : []),
  create: (ctx, p) => new SlicingObserver(ctx, p),
});
