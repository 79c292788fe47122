import { z } from 'zod';
import { defineProtocol, type Linkable, type Protocol, type ProtocolContext } from '../engine/protocol.js';
import type { Random } from '../engine/random.js';
import { declaredAttribute } from '../engine/attribute.js';

const params = z.strictObject({
  method: z.enum(['ordering', 'ranking'])
    .describe('ordering: swap random values with misordered neighbours (Jelasity & Kermarrec 2006); ranking: count the lower attributes seen (Fernández et al. 2007)'),
  attribute: z.string().min(1).describe('the attribute nodes are sliced by, as declared under `attributes:`'),
  sampler: z.string().optional()
    .describe('protocol instance whose neighbour lists supply the peers (cyclon, newscast, static...); default: the first protocol that has one'),
  window: z.number().int().min(2).optional()
    .describe('ranking: weigh recent samples, forgetting old ones with a time constant of this many samples (for churn); default: keep every sample'),
});
export type SlicingParams = z.infer<typeof params>;

/**
 * Distributed slicing: every node estimates its normalised rank, in (0, 1], among the
 * live nodes ordered by an attribute; with k slices its slice is ceil(k * estimate).
 *
 * - ordering (Jelasity & Kermarrec, "Ordered slicing of very large-scale overlay
 *   networks", P2P 2006): each node draws r uniformly in (0, 1]. Each cycle it looks
 *   at its neighbours for those whose order of r disagrees with the order of the
 *   attributes, (a_i - a_j)(r_i - r_j) < 0, and swaps r with one of them drawn
 *   uniformly. Sorting the random values this way converges fast, then stalls: the
 *   sorted draws are not evenly spread, so nodes near slice boundaries stay misplaced.
 *   The estimate is r.
 * - ranking (Fernández, Gramoli, Jiménez, Kermarrec, Raynal, "Distributed slicing in
 *   dynamic systems", ICDCS 2007): each cycle a node compares its attribute with each
 *   live neighbour's, and sends its own to each of them, which compare it with
 *   theirs. A node counts the values it has seen and how many were lower (an equal
 *   one counts half); its estimate is lower / seen (1/2 before it has seen any),
 *   which keeps improving as samples pile up. Under churn correlated with the
 *   attribute, the values of departed nodes linger in the counts: with `window`, each
 *   new sample first scales both counts by 1 - 1/window, so the estimate follows
 *   about the last `window` samples.
 *
 * A neighbour's attribute is read directly, as the descriptors of the peer sampling
 * service carry it in deployments; a swap (which reads the neighbour's r), or a value
 * sent, is a message, which a partition stops: the engine's `contact` says who is in
 * reach. Exchanges are atomic in both engines (the event engine runs `step` at each
 * node's timer). A node that joins draws a new r, or starts counting from nothing.
 */
export class Slicing implements Protocol {
  readonly method: 'ordering' | 'ranking';
  /** The attribute values, by slot (the store's own array). */
  readonly attribute: Float64Array;
  /** ordering: each node's random value r in (0, 1]. */
  readonly r: Float64Array;
  /** ranking: attributes seen so far, and how many of them were lower. */
  readonly seen: Float64Array;
  readonly lower: Float64Array;
  private peers?: Linkable;
  private readonly random: Random;
  /** ranking: what each new sample scales the counts by (1: no forgetting). */
  private readonly keep: number;

  constructor(private readonly ctx: ProtocolContext, private readonly p: SlicingParams) {
    const { store } = ctx;
    this.method = p.method;
    this.attribute = declaredAttribute(store, p.attribute, `protocols.${ctx.name}.attribute`);
    const ordering = p.method === 'ordering';
    this.r = ordering ? ctx.state.array('r', new Float64Array(store.capacity)) : new Float64Array(0);
    this.seen = ordering ? new Float64Array(0) : ctx.state.array('seen', new Float64Array(store.capacity));
    this.lower = ordering ? new Float64Array(0) : ctx.state.array('lower', new Float64Array(store.capacity));
    this.random = ctx.random;
    this.keep = p.window === undefined ? 1 : 1 - 1 / p.window;
  }

  init(): void {
    // Resolved here, not in the constructor, so the sampler may be declared after us.
    this.peers = this.ctx.linkable(this.p.sampler);
    const { store } = this.ctx;
    for (let i = 0; i < store.size; i++) this.onJoin(store.liveSlot(i), false, this.ctx.initRandom);
  }

  /** The node's estimate of its normalised rank, in [0, 1]. */
  estimate(slot: number): number {
    if (this.method === 'ordering') return this.r[slot];
    return this.seen[slot] > 0 ? this.lower[slot] / this.seen[slot] : 0.5;
  }

  onJoin(slot: number, returning = false, random: Random = this.random): void {
    if (returning) return; // a node back from being offline keeps what it knew
    if (this.method === 'ordering') this.r[slot] = random.positive();
    else this.seen[slot] = this.lower[slot] = 0;
  }

  step(slot: number): void {
    const peers = this.peers!;
    const store = this.ctx.store;
    const a = this.attribute;
    const mine = a[slot];
    const degree = peers.degree(slot);
    const ctx = this.ctx;
    if (this.method === 'ranking') {
      for (let k = 0; k < degree; k++) {
        const id = peers.neighbor(slot, k);
        // The neighbour's attribute comes with its descriptor: read even across a partition.
        const q = store.slotOf(id);
        if (q < 0 || q === slot) continue;
        const other = a[q];
        this.sample(slot, other < mine ? 1 : other === mine ? 0.5 : 0);
        if (ctx.contact(slot, id) >= 0) this.sample(q, mine < other ? 1 : mine === other ? 0.5 : 0);
      }
      return;
    }
    // ordering: one misordered neighbour it can reach, drawn uniformly (reservoir
    // sampling over the view).
    const r = this.r;
    let chosen = -1, misordered = 0;
    for (let k = 0; k < degree; k++) {
      const q = ctx.contact(slot, peers.neighbor(slot, k));
      if (q < 0 || q === slot || (mine - a[q]) * (r[slot] - r[q]) >= 0) continue;
      if (this.random.int(++misordered) === 0) chosen = q;
    }
    if (chosen >= 0) {
      const swap = r[slot];
      r[slot] = r[chosen];
      r[chosen] = swap;
    }
  }

  /** ranking: the node saw one more value; `lower` is 1 if it was lower, 1/2 if equal, else 0. */
  private sample(slot: number, lower: number): void {
    this.seen[slot] = this.seen[slot] * this.keep + 1;
    this.lower[slot] = this.lower[slot] * this.keep + lower;
  }
}

export const slicing = defineProtocol({
  type: 'slicing',
  description: 'distributed slicing by an attribute: ordering (Jelasity & Kermarrec 2006) or ranking (Fernández et al. 2007)',
  params,
  check: (p) => (p.window !== undefined && p.method !== 'ranking'
    ? [{ key: 'window', message: `expected window only with method ranking, found method ${p.method}` }]
    : []),
  create: (ctx, p) => new Slicing(ctx, p),
});
