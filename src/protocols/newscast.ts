import { z } from 'zod';
import { defineProtocol, randomNeighbor, type Linkable, type Protocol, type ProtocolContext } from '../engine/protocol.js';
import type { Random } from '../engine/random.js';

const params = z.strictObject({
  cache: z.number().int().min(1).max(255).default(20).describe('cache size c: the freshest entries each node keeps (1-255, below size)'),
});
type NewscastParams = z.infer<typeof params>;

/**
 * Newscast (Jelasity, Kowalczyk, van Steen 2003; PeerSim's SimpleNewscast): each cycle
 * a node picks a random live entry of its cache, and both nodes replace their caches
 * with the c freshest distinct entries of the two caches plus a fresh entry for each
 * of them (a node never keeps itself). Entries carry the cycle they were created in.
 *
 * Layout: per slot, `cache` ids, then `cache` timestamps, then the entry count.
 */
class Newscast implements Protocol, Linkable {
  readonly linkable = this;
  private readonly c: number;
  private readonly stride: number;
  private readonly records: Int32Array;
  // Scratch for one exchange: the candidate entries and their order by freshness.
  private readonly candidateIds: Int32Array;
  private readonly candidateTimes: Int32Array;
  private readonly byFreshness: Int32Array;

  constructor(private readonly ctx: ProtocolContext, p: NewscastParams) {
    this.c = p.cache;
    this.stride = 2 * p.cache + 1;
    this.records = ctx.state.array('records', new Int32Array(ctx.store.capacity * this.stride));
    this.candidateIds = new Int32Array(2 * p.cache + 2);
    this.candidateTimes = new Int32Array(2 * p.cache + 2);
    this.byFreshness = new Int32Array(2 * p.cache + 2);
  }

  /** Every node starts with c distinct random peers, all stamped 0. */
  init(): void {
    const { store, initRandom } = this.ctx;
    const n = store.size;
    const wanted = Math.min(this.c, n - 1);
    for (let i = 0; i < n; i++) {
      const slot = store.liveSlot(i);
      const base = slot * this.stride;
      let count = 0;
      while (count < wanted) {
        const id = store.idOf[store.liveSlot(initRandom.int(n))];
        if (id !== store.idOf[slot] && !this.holds(base, count, id)) this.records[base + count++] = id;
      }
      this.records[base + 2 * this.c] = count;
    }
  }

  /** A new node knows one random live node; a returning one keeps its cache. */
  onJoin(slot: number, returning = false): void {
    if (returning) return;
    const { store, random } = this.ctx;
    const base = slot * this.stride;
    let count = 0;
    if (store.size > 1) {
      let contact = slot;
      while (contact === slot) contact = store.liveSlot(random.int(store.size));
      this.records[base] = store.idOf[contact];
      this.records[base + this.c] = this.ctx.clock.cycle;
      count = 1;
    }
    this.records[base + 2 * this.c] = count;
  }

  onLeave(slot: number, temporary = false): void {
    if (!temporary) this.records[slot * this.stride + 2 * this.c] = 0;
  }

  step(p: number): void {
    const q = this.livePeer(p);
    if (q < 0) return;
    const count = this.gather(p, q);
    this.keepFreshest(p, count);
    this.keepFreshest(q, count);
  }

  /**
   * Slot of a random live entry of p's cache, -1 if p cannot reach it (a partition) or
   * holds none; dead entries met on the way are dropped.
   */
  private livePeer(p: number): number {
    const { store, random } = this.ctx;
    const base = p * this.stride;
    const records = this.records;
    while (records[base + 2 * this.c] > 0) {
      const n = records[base + 2 * this.c];
      const k = random.int(n);
      const id = records[base + k];
      const q = this.ctx.contact(p, id);
      if (q >= 0) return q;
      if (store.slotOf(id) >= 0) return -1; // live, but out of reach
      records[base + k] = records[base + n - 1];
      records[base + this.c + k] = records[base + this.c + n - 1];
      records[base + 2 * this.c] = n - 1;
    }
    return -1;
  }

  /** Both caches plus a fresh entry for each node, ordered freshest first (ties: the order gathered). */
  private gather(p: number, q: number): number {
    const { store, clock } = this.ctx;
    const ids = this.candidateIds, times = this.candidateTimes;
    let count = 0;
    ids[count] = store.idOf[p]; times[count++] = clock.cycle;
    ids[count] = store.idOf[q]; times[count++] = clock.cycle;
    for (let side = 0; side < 2; side++) {
      const base = (side === 0 ? p : q) * this.stride;
      for (let k = 0, n = this.records[base + 2 * this.c]; k < n; k++) {
        ids[count] = this.records[base + k];
        times[count++] = this.records[base + this.c + k];
      }
    }
    const order = this.byFreshness;
    for (let i = 0; i < count; i++) {
      let j = i;
      while (j > 0 && times[order[j - 1]] < times[i]) { order[j] = order[j - 1]; j--; }
      order[j] = i;
    }
    return count;
  }

  /** Replaces the cache of `slot` with the c freshest distinct candidates other than itself. */
  private keepFreshest(slot: number, count: number): void {
    const self = this.ctx.store.idOf[slot];
    const base = slot * this.stride;
    let kept = 0;
    for (let i = 0; i < count && kept < this.c; i++) {
      const e = this.byFreshness[i];
      const id = this.candidateIds[e];
      if (id === self || this.holds(base, kept, id)) continue;
      this.records[base + kept] = id;
      this.records[base + this.c + kept] = this.candidateTimes[e];
      kept++;
    }
    this.records[base + 2 * this.c] = kept;
  }

  private holds(base: number, n: number, id: number): boolean {
    for (let i = 0; i < n; i++) if (this.records[base + i] === id) return true;
    return false;
  }

  degree(slot: number): number {
    return this.records[slot * this.stride + 2 * this.c];
  }

  neighbor(slot: number, i: number): number {
    return this.records[slot * this.stride + i];
  }

  samplePeer(slot: number, random: Random): number {
    return randomNeighbor(this, slot, random);
  }
}

export const newscast = defineProtocol({
  type: 'newscast',
  description: 'Newscast peer sampling: exchange and keep the freshest entries (Jelasity et al. 2003)',
  params,
  check: (p, scenario) => (p.cache >= scenario.size
    ? [{ key: 'cache', message: `expected a cache smaller than the network (size ${scenario.size}), found ${p.cache}` }]
    : []),
  create: (ctx, p) => new Newscast(ctx, p),
});
