import { z } from 'zod';
import { defineProtocol, type Linkable, type ProtocolContext, type ProtocolInstance } from '../engine/protocol.js';
import type { Random } from '../engine/random.js';

const params = z.strictObject({
  cache: z.number().int().min(1).max(255).default(20).describe('cache size c: neighbours each node keeps'),
  shuffle: z.number().int().min(1).default(8).describe('shuffle length l: entries exchanged per shuffle'),
  init: z.strictObject({
    topology: z.enum(['random', 'ring', 'star']).default('random')
      .describe('random: c random peers each; ring: the next c nodes of a ring lattice; star: everyone knows one bootstrap node'),
  }).default({ topology: 'random' }),
});
export type CyclonParams = z.infer<typeof params>;

/**
 * Cyclon with enhanced shuffling (Voulgaris et al. 2005), exactly as SCIENCE.md states it.
 *
 * Layout: one Int32 record per node slot, holding what one shuffle touches together:
 * `cache` neighbour ids, the entry count, the node's own id, then one byte per entry with the cycle (mod 256)
 * at which the entry was created. Storing that birth stamp instead of an age avoids
 * rewriting every entry each cycle; an entry cannot outlive `cache` of its holder's own
 * cycles (the oldest goes every cycle), so ages never wrap.
 */
export class Cyclon implements ProtocolInstance, Linkable {
  readonly linkable = this;
  readonly cache: number;
  readonly shuffleLength: number;
  /** Words per node record (a multiple of 16: whole 64-byte cache lines). */
  readonly stride: number;
  /** Record of slot s starts at s * stride: ids, then the entry count (at + cache), then the owner's id (at + cache + 1). */
  readonly records: Int32Array;
  /** The same memory seen as bytes, for the birth stamps. */
  private readonly stamps: Uint8Array;
  private readonly stampOffset: number;
  private readonly order: Int32Array;
  // Scratch for one exchange, reused: no allocation on the hot path.
  private readonly permP: Int32Array;
  private readonly permQ: Int32Array;
  private readonly sendIds: Int32Array;
  private readonly sendStamps: Uint8Array;
  private readonly replyIds: Int32Array;
  private readonly replyStamps: Uint8Array;
  /** Sum of prefetched words; kept so the early loads are not optimised away. */
  private prefetchSink = 0;
  /** The store's id -> slot table and the cycle stamp, refreshed before each sweep. */
  private slotOfId: Int32Array;
  private now = 0;
  /** Predicted contact slots of the current batch of 16 initiators. */
  private readonly batchQ = new Int32Array(16);

  constructor(private readonly ctx: ProtocolContext, p: CyclonParams) {
    this.cache = p.cache;
    this.shuffleLength = p.shuffle;
    const recordBytes = 4 * (p.cache + 2) + p.cache;
    this.stride = Math.ceil(recordBytes / 64) * 16;
    this.records = new Int32Array(ctx.store.capacity * this.stride);
    this.stamps = new Uint8Array(this.records.buffer);
    this.stampOffset = 4 * (p.cache + 2);
    this.order = new Int32Array(ctx.store.capacity);
    this.permP = new Int32Array(p.cache);
    this.permQ = new Int32Array(p.cache);
    this.sendIds = new Int32Array(p.shuffle);
    this.sendStamps = new Uint8Array(p.shuffle);
    this.replyIds = new Int32Array(p.shuffle);
    this.replyStamps = new Uint8Array(p.shuffle);
    this.topology = p.init.topology;
    this.slotOfId = ctx.store.idMap();
  }

  private readonly topology: CyclonParams['init']['topology'];

  init(): void {
    const { store } = this.ctx;
    const records = this.records;
    const n = store.copyLiveSlots(this.order);
    const c = Math.min(this.cache, n - 1);
    const random = this.ctx.initRandom;
    const now = this.ctx.clock.cycle & 255;
    for (let i = 0; i < n; i++) {
      const slot = this.order[i];
      const base = slot * this.stride;
      const self = store.idOf[slot];
      let count = 0;
      if (this.topology === 'ring') {
        for (let k = 1; k <= c; k++) records[base + count++] = store.idOf[this.order[(i + k) % n]];
      } else if (this.topology === 'star') {
        if (i !== 0) records[base + count++] = store.idOf[this.order[0]];
      } else {
        while (count < c) {
          const id = store.idOf[this.order[random.int(n)]];
          if (id !== self && !this.holds(base, count, id)) records[base + count++] = id;
        }
      }
      this.stamps.fill(now, base * 4 + this.stampOffset, base * 4 + this.stampOffset + count);
      records[base + this.cache] = count;
      records[base + this.cache + 1] = self;
    }
  }

  /** A new node knows one random live node (the contact that introduced it). */
  onJoin(slot: number): void {
    const { store } = this.ctx;
    const base = slot * this.stride;
    const self = store.idOf[slot];
    let count = 0;
    if (store.size > 1) {
      let contact = slot;
      while (contact === slot) contact = store.liveSlot(this.ctx.random.int(store.size));
      this.records[base] = store.idOf[contact];
      this.stamps[base * 4 + this.stampOffset] = this.ctx.clock.cycle & 255;
      count = 1;
    }
    this.records[base + this.cache] = count;
    this.records[base + this.cache + 1] = self;
  }

  onLeave(slot: number): void {
    this.records[slot * this.stride + this.cache] = 0;
  }

  stepAll(order: Int32Array, count: number): void {
    this.slotOfId = this.ctx.store.idMap();
    this.now = this.ctx.clock.cycle & 255;
    const records = this.records;
    const stride = this.stride;
    const stamps = this.stamps;
    const slotOfId = this.slotOfId;
    const c = this.cache;
    const now = this.now;
    const batch = this.batchQ;
    const B = batch.length;
    let sink = 0;
    for (let start = 0; start < count; start += B) {
      const end = Math.min(start + B, count);
      // Group prefetch: three short loops of independent loads, so that the CPU keeps
      // many cache misses in flight at once (JavaScript has no prefetch instruction).
      // They only warm the caches; the exchanges below recompute everything.
      for (let i = start; i < end; i++) {
        const base = order[i] * stride;
        sink = (sink + records[base] + records[base + 16]) | 0;
      }
      for (let i = start; i < end; i++) {
        const base = order[i] * stride;
        const n = records[base + c];
        const stampBase = base * 4 + this.stampOffset;
        let oldestIndex = 0, oldest = -1;
        for (let k = 0; k < n; k++) {
          const age = (now - stamps[stampBase + k]) & 255;
          if (age > oldest) { oldest = age; oldestIndex = k; }
        }
        batch[i - start] = slotOfId[records[base + oldestIndex]];
      }
      for (let i = start; i < end; i++) {
        const q = batch[i - start];
        if (q >= 0) sink = (sink + records[q * stride] + records[q * stride + 16]) | 0;
      }
      for (let i = start; i < end; i++) this.exchange(order[i]);
    }
    this.prefetchSink = (this.prefetchSink + sink) | 0;
  }

  step(p: number): void {
    if (this.slotOfId !== this.ctx.store.idMap() || this.now !== (this.ctx.clock.cycle & 255)) {
      this.slotOfId = this.ctx.store.idMap();
      this.now = this.ctx.clock.cycle & 255;
    }
    this.exchange(p);
  }

  /** One shuffle initiated by the node in slot p. */
  private exchange(p: number): void {
    const records = this.records;
    const stamps = this.stamps;
    const c = this.cache;
    const pBase = p * this.stride;
    const pStamps = pBase * 4 + this.stampOffset;
    let n = records[pBase + c];
    if (n === 0) return;
    const now = this.now;

    // The oldest neighbour Q is the one to shuffle with; its entry leaves P's cache.
    let qIndex = 0;
    let oldest = -1;
    for (let i = 0; i < n; i++) {
      const age = (now - stamps[pStamps + i]) & 255;
      if (age > oldest) { oldest = age; qIndex = i; }
    }
    const qId = records[pBase + qIndex];
    n--;
    records[pBase + qIndex] = records[pBase + n];
    stamps[pStamps + qIndex] = stamps[pStamps + n];
    records[pBase + c] = n;
    const q = this.slotOfId[qId];
    if (q < 0) return; // Q has left: the contact fails and its entry stays dropped.

    // P sends itself (age 0) plus l-1 random other entries.
    const random = this.ctx.random;
    const pId = records[pBase + c + 1];
    const sentByP = Math.min(this.shuffleLength - 1, n);
    this.pickRandom(this.permP, n, sentByP, random);
    this.sendIds[0] = pId;
    this.sendStamps[0] = now;
    for (let k = 0; k < sentByP; k++) {
      this.sendIds[k + 1] = records[pBase + this.permP[k]];
      this.sendStamps[k + 1] = stamps[pStamps + this.permP[k]];
    }

    // Q answers with l random entries of its own, then merges what P sent.
    const qBase = q * this.stride;
    const qStamps = qBase * 4 + this.stampOffset;
    const nq = records[qBase + c];
    const sentByQ = Math.min(this.shuffleLength, nq);
    this.pickRandom(this.permQ, nq, sentByQ, random);
    for (let k = 0; k < sentByQ; k++) {
      this.replyIds[k] = records[qBase + this.permQ[k]];
      this.replyStamps[k] = stamps[qStamps + this.permQ[k]];
    }
    records[qBase + c] = this.merge(qBase, qStamps, nq, qId, this.sendIds, this.sendStamps, sentByP + 1, this.permQ, sentByQ);
    records[pBase + c] = this.merge(pBase, pStamps, n, pId, this.replyIds, this.replyStamps, sentByQ, this.permP, sentByP);
  }

  /** Puts a uniform random choice of `k` of the indices 0..n-1 in perm[0..k-1] (partial Fisher-Yates). */
  private pickRandom(perm: Int32Array, n: number, k: number, random: Random): void {
    for (let i = 0; i < n; i++) perm[i] = i;
    for (let i = 0; i < k; i++) {
      const j = i + random.int(n - i);
      const t = perm[i]; perm[i] = perm[j]; perm[j] = t;
    }
  }

  /**
   * Cyclon's merge: drop entries naming the owner or already held; fill empty slots
   * first, then overwrite the slots whose entries were sent away. Returns the new count.
   */
  private merge(
    base: number, stampBase: number, n: number, selfId: number,
    ids: Int32Array, birth: Uint8Array, count: number, sentSlots: Int32Array, sentCount: number,
  ): number {
    const records = this.records;
    const stamps = this.stamps;
    const cache = this.cache;
    let replaced = 0;
    for (let e = 0; e < count; e++) {
      const id = ids[e];
      if (id === selfId) continue;
      let held = false;
      for (let i = base, last = base + n; i < last; i++) {
        if (records[i] === id) { held = true; break; }
      }
      if (held) continue;
      if (n < cache) {
        records[base + n] = id;
        stamps[stampBase + n] = birth[e];
        n++;
      } else if (replaced < sentCount) {
        const index = sentSlots[replaced++];
        records[base + index] = id;
        stamps[stampBase + index] = birth[e];
      } else {
        break;
      }
    }
    return n;
  }

  private holds(base: number, n: number, id: number): boolean {
    for (let i = 0; i < n; i++) if (this.records[base + i] === id) return true;
    return false;
  }

  degree(slot: number): number {
    return this.records[slot * this.stride + this.cache];
  }

  neighbor(slot: number, i: number): number {
    return this.records[slot * this.stride + i];
  }

  samplePeer(slot: number, random: Random): number {
    const n = this.degree(slot);
    return n === 0 ? -1 : this.records[slot * this.stride + random.int(n)];
  }

  /** Age of `slot`'s i-th entry, in cycles. */
  age(slot: number, i: number): number {
    return (this.ctx.clock.cycle - this.stamps[slot * this.stride * 4 + this.stampOffset + i]) & 255;
  }

  snapshot(): Record<string, unknown> {
    return { records: this.records, prefetchSink: this.prefetchSink };
  }
}

export const cyclon = defineProtocol({
  type: 'cyclon',
  description: 'Cyclon peer sampling with enhanced shuffling (Voulgaris, Gavidia, van Steen 2005)',
  params,
  check(p, scenario) {
    const problems = [];
    if (p.cache >= scenario.size) {
      problems.push({ key: 'cache', message: `expected a cache smaller than the network (size ${scenario.size}), found ${p.cache}` });
    }
    if (p.shuffle > p.cache) {
      problems.push({ key: 'shuffle', message: `expected a shuffle length of at most the cache size ${p.cache}, found ${p.shuffle}` });
    }
    return problems;
  },
  create: (ctx, p) => new Cyclon(ctx, p),
});
