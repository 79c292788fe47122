import { z } from 'zod';
import { declaredAttribute } from '../engine/attribute.js';
import { defineProtocol, type BatchedStep, type Linkable, type Protocol, type ProtocolContext } from '../engine/protocol.js';
import type { Random } from '../engine/random.js';
import type { SlabPool } from '../engine/slab-pool.js';
import { contactId } from './slots.js';

const params = z.strictObject({
  attribute: z.string().min(1).describe('the attribute nodes are ranked by, as declared under `attributes:`'),
  k: z.number().int().min(1).max(1000).default(10).describe('how many nodes the query returns'),
  order: z.enum(['highest', 'lowest']).default('highest').describe('highest: the k largest values; lowest: the k smallest (ties: smaller id first)'),
  sampler: z.string().optional()
    .describe('protocol instance whose neighbour lists supply the peers (cyclon, newscast...); default: the first protocol that has one'),
  spare: z.number().int().min(0).max(1000).default(0)
    .describe('entries kept beyond k (the next best), so that one takes a departed node\'s place at once when its entry expires'),
  expiry: z.number().positive().default(12)
    .describe('cycles an entry lives without being refreshed by its node: older entries are dropped, so departed nodes leave the lists'),
});
export type TopkParams = z.infer<typeof params>;

/** Exchanges whose memory loads stepAll overlaps (their lists' hot parts: 2 x 64 x 3 cache lines for k = 10). */
const BATCH = 64;

/** Event engine message kinds. */
const REQUEST = 0, REPLY = 1;
/** Bytes an entry takes on the wire: a 4-byte id, an 8-byte value, an 8-byte timestamp. */
const ENTRY_BYTES = 20;

/**
 * Top-k by gossip: every node learns the k live nodes with the highest (or lowest) value
 * of an attribute. Each node keeps a bounded list of entries (id, value, timestamp),
 * sorted best first, ties by value broken by the smaller id (so the true top-k is well
 * defined); its estimate is the first k.
 *
 * Each cycle a node refreshes its own entry (timestamp = now: it is a candidate like any
 * other) and does a push-pull exchange with a peer drawn from the sampler: both keep the
 * best entries of the union of their lists, an id once with the fresher timestamp.
 *
 * Expiry: an entry whose timestamp is more than `expiry` cycles old is dropped at every
 * merge (and at the node's own refresh). A departed node no longer refreshes its entry,
 * so it leaves every list `expiry` cycles after it went and the next best takes its
 * place; a live node's fresh timestamp spreads like a rumour, so its entry is never
 * older than the spreading time anywhere (at most 9 cycles at 10^4 nodes, 11 at 10^5).
 * The default, 12, is just above that: a shorter expiry drops live entries at the far
 * nodes, a longer one keeps departed nodes listed longer (each costs 1/k of precision
 * at every node while it lingers).
 *
 * Under churn the lists lag: a top-k node that leaves stays listed for `expiry` cycles,
 * one that joins is known everywhere only after the spreading time. With 1% of 10^4
 * nodes replaced per cycle, about 0.1 of the top-10 leaves and 0.1 joins each cycle, so
 * precision averages about 0.85-0.9 (arrivals alone cap it near 0.94) and dips to 0.9
 * whenever a top node goes; at 0.1% churn it averages above 0.95.
 *
 * Cycle engine: the exchange is atomic, through `ctx.contact` (a departed, offline or
 * partitioned peer: nothing happens). Event engine: the initiator sends its list
 * (REQUEST); the peer merges it and answers with its list as it was before (REPLY),
 * which the initiator merges on arrival. A lost message loses that half of the exchange.
 *
 * A node that joins starts with its own entry only; one that leaves does nothing (expiry
 * removes it); one back from offline keeps its list (its stale entries expire). A merge
 * costs O(k + spare) and allocates nothing: both lists are sorted, and a node's value
 * is fixed for its lifetime, so the two entries of one id meet side by side.
 *
 * Layout, for speed at 10^6 nodes, where each list read is a cache miss (and a TLB
 * miss): a node's list is one record of `width` numbers starting a cache line (256
 * bytes, four lines, for 10 entries): the count, the node's own value (read at each
 * refresh, so kept with the list), the ids, the stamps, and last the values, best
 * last. Once the lists agree (most exchanges), a step reads the ids, the stamps and
 * the last entry's value only: the first three lines; the other values only a merge.
 *
 * Parameters: `attribute` (declared), `k` (default 10), `order` (highest | lowest,
 * default highest), `sampler` (a neighbour source; default the first), `spare` (entries
 * kept beyond k, default 0: with some, the next best is already known when a top node's
 * entry expires), `expiry` (cycles, default 12).
 */
export class Topk implements Protocol, BatchedStep {
  readonly k: number;
  /** Entries a list holds: k plus the spares. */
  readonly length: number;
  /** The attribute values, by slot (the store's own array). */
  readonly attribute: Float64Array;
  /** +1 for highest, -1 for lowest: a value's rank key is sign * value. */
  readonly sign: number;
  /**
   * The lists, one record of `width` numbers per slot (a multiple of 8: whole cache
   * lines) at slot * width: the entry count, the node's own value, then `length` ids
   * and `length` timestamps, best first, then `length` values, best last (entry i's at
   * valuesEnd - i).
   */
  private readonly lists: Float64Array;
  private readonly width: number;
  /** Offset of the stamps in a record. */
  private readonly stampsAt: number;
  /** Offset of the best entry's value in a record (entry i's is at valuesEnd - i). */
  private readonly valuesEnd: number;
  /** Offset of the last number a converged exchange reads (the last entry's value). */
  private readonly hotEnd: number;
  private peers!: Linkable;
  private readonly random: Random;
  /** Expiry in engine time units (cycles, or ms in the event engine). */
  private readonly lifetime: number;
  /** Event engine: one record per message in flight, laid out as a list. */
  private readonly payloads?: SlabPool<Float64Array>;
  /** Scratch for one merge's result, laid out as a list. */
  private readonly merged: Float64Array;
  /** Scratch: the node's own entry alone, as a list. */
  private readonly own: Float64Array;
  /** stepAll: the peers (slots, -1 for none) of the current batch of initiators. */
  private readonly batchPeer = new Int32Array(BATCH);
  /** Sum of early-loaded values; kept so those loads are not optimised away. */
  private prefetchSink = 0;

  constructor(private readonly ctx: ProtocolContext, private readonly p: TopkParams) {
    const { store } = ctx;
    this.k = p.k;
    this.length = p.k + p.spare;
    this.stampsAt = 2 + this.length;
    this.valuesEnd = 1 + 3 * this.length;
    this.hotEnd = 2 + 2 * this.length;
    this.width = Math.ceil((2 + 3 * this.length) / 8) * 8;
    this.attribute = declaredAttribute(store, p.attribute, `protocols.${ctx.name}.attribute`);
    this.sign = p.order === 'highest' ? 1 : -1;
    this.lists = ctx.state.array('lists', lineAlignedFloat64Array(store.capacity * this.width));
    this.random = ctx.random;
    this.lifetime = p.expiry * (ctx.engine === 'event' ? ctx.transport!.period : 1);
    this.merged = new Float64Array(this.width);
    this.own = new Float64Array(this.width);
    if (ctx.engine === 'event') this.payloads = ctx.state.pool('messages', this.width, (n) => new Float64Array(n));
  }

  init(): void {
    // Resolved here, not in the constructor, so the sampler may be declared after us.
    this.peers = this.ctx.linkable(this.p.sampler);
    const { store } = this.ctx;
    for (let i = 0; i < store.size; i++) this.onJoin(store.liveSlot(i), false);
  }

  /** Entries in slot's list (at most `length`). */
  held(slot: number): number {
    return this.lists[slot * this.width];
  }

  /** The i-th best entry of slot's list: its id, value, timestamp. */
  entryId(slot: number, i: number): number {
    return this.lists[slot * this.width + 2 + i];
  }

  entryValue(slot: number, i: number): number {
    return this.lists[slot * this.width + this.valuesEnd - i];
  }

  entryStamp(slot: number, i: number): number {
    return this.lists[slot * this.width + this.stampsAt + i];
  }

  /** How many entries the node's estimate has: its first min(k, held) entries. */
  estimateSize(slot: number): number {
    const held = this.lists[slot * this.width];
    return held < this.k ? held : this.k;
  }

  /** Id of the i-th best node in `slot`'s estimate, 0 <= i < estimateSize(slot). */
  estimateId(slot: number, i: number): number {
    return this.lists[slot * this.width + 2 + i];
  }

  /** Whether (value a, id a) ranks before (value b, id b) in this query's order. */
  ranksBefore(valueA: number, idA: number, valueB: number, idB: number): boolean {
    const a = this.sign * valueA, b = this.sign * valueB;
    return a > b || (a === b && idA < idB);
  }

  /** A fresh node knows itself only; a returning one keeps its list (stale entries expire). */
  onJoin(slot: number, returning = false): void {
    if (returning) return;
    const lists = this.lists, at = slot * this.width, value = this.attribute[slot];
    lists[at] = 1;
    lists[at + 1] = value;
    lists[at + 2] = this.ctx.store.idOf[slot];
    lists[at + this.stampsAt] = this.ctx.clock.time;
    lists[at + this.valuesEnd] = value;
  }

  step(slot: number): void {
    this.refreshOwn(slot);
    this.exchange(slot, this.drawPeer(slot));
  }

  /**
   * The same as step(order[i]) for each i, in batches of 64 whose memory loads overlap:
   * first each initiator's list, id and value are read, then the peers are drawn (the
   * draws, from the sampler's state and this stream, are the ones step() makes, in the
   * same order: no exchange changes them), where their ids lead is read, then their
   * slots and lists, then the exchanges run in order, on lists already in cache. At
   * 10^6 nodes each list read (and each id lookup) is a cache miss; JavaScript has no
   * prefetch instruction, an early load folded into a kept sum is the nearest thing.
   */
  stepAll(order: Int32Array, from: number, to: number): void {
    const { batchPeer } = this;
    const { store } = this.ctx;
    const { idOf, capacity } = store;
    let sink = 0;
    for (let start = from; start < to; start += BATCH) {
      const end = Math.min(start + BATCH, to);
      for (let i = start; i < end; i++) {
        const slot = order[i];
        sink += this.touch(slot) + idOf[slot];
      }
      // The draws, then early loads of where their ids lead, then their slots.
      for (let i = start; i < end; i++) batchPeer[i - start] = this.peers.samplePeer(order[i], this.random);
      for (let i = start; i < end; i++) {
        const id = batchPeer[i - start];
        if (id >= 0) sink += (id < capacity ? idOf[id] : 0) + store.prefetchId(id);
      }
      for (let i = start; i < end; i++) batchPeer[i - start] = this.peerSlot(order[i], batchPeer[i - start]);
      for (let i = start; i < end; i++) {
        const q = batchPeer[i - start];
        if (q >= 0) sink += this.touch(q);
      }
      for (let i = start; i < end; i++) {
        this.refreshOwn(order[i]);
        this.exchange(order[i], batchPeer[i - start]);
      }
    }
    this.prefetchSink += sink;
  }

  /** Reads one number in each cache line of the part of slot's record a converged exchange reads (an early load). */
  private touch(slot: number): number {
    const lists = this.lists, at = slot * this.width, end = at + this.hotEnd;
    let sum = 0;
    for (let e = at; e <= end; e += 8) sum += lists[e];
    return sum;
  }

  /** The slot of a peer drawn from the sampler that `slot` can reach now, or -1. */
  private drawPeer(slot: number): number {
    return this.peerSlot(slot, this.peers.samplePeer(slot, this.random));
  }

  /** The slot of node `id` (-1: none) if `slot` can reach it now and it is another node, else -1. */
  private peerSlot(slot: number, id: number): number {
    if (id < 0) return -1;
    const q = contactId(this.ctx, slot, id, -1);
    return q === slot ? -1 : q;
  }

  /** Atomic push-pull between `slot` and peer q (none if -1): both keep the best of the union. */
  private exchange(slot: number, q: number): void {
    if (q < 0) return;
    const { lists, width } = this;
    const a = slot * width, b = q * width;
    if (this.sameIds(a, b)) return;
    this.merge(lists, a, lists, b);
    this.copyList(this.merged, 0, lists, a);
    this.copyList(this.merged, 0, lists, b);
  }

  /**
   * The common case once converged: lists a and b hold the same ids. Then the merge is
   * each entry with the fresher stamp, on both sides: done here, in place, unless an
   * entry has expired (false: merge).
   */
  private sameIds(a: number, b: number): boolean {
    const lists = this.lists;
    const n = lists[a];
    if (lists[b] !== n) return false;
    for (let e = 2; e < 2 + n; e++) if (lists[a + e] !== lists[b + e]) return false;
    const oldest = this.ctx.clock.time - this.lifetime;
    const first = this.stampsAt, end = this.stampsAt + n;
    for (let e = first; e < end; e++) {
      const sa = lists[a + e], sb = lists[b + e];
      if ((sa > sb ? sa : sb) < oldest) return false;
    }
    for (let e = first; e < end; e++) {
      const sa = lists[a + e], sb = lists[b + e];
      if (sa > sb) lists[b + e] = sa;
      else lists[a + e] = sb;
    }
    return true;
  }

  /** Event engine: the timer fired: refresh the own entry, send the list to a peer. */
  onTimer(slot: number): void {
    this.refreshOwn(slot);
    const id = this.peers.samplePeer(slot, this.random);
    if (id < 0 || id === this.ctx.store.idOf[slot]) return;
    const pool = this.payloads!;
    const record = pool.allocate();
    this.copyList(this.lists, slot * this.width, pool.data, record * pool.width);
    if (!this.ctx.transport!.send(slot, id, REQUEST, record, wireBytes(this.held(slot)))) pool.release(record);
  }

  onMessage(slot: number, kind: number, from: number, payload: number): void {
    const pool = this.payloads!;
    const base = payload * pool.width;
    const at = slot * this.width;
    if (kind === REQUEST) {
      // Answer with the list as it was, then keep the merge.
      const held = this.held(slot);
      this.merge(this.lists, at, pool.data, base);
      this.copyList(this.lists, at, pool.data, base);
      this.copyList(this.merged, 0, this.lists, at);
      if (this.ctx.transport!.send(slot, from, REPLY, payload, wireBytes(held))) return;
    } else if (kind === REPLY) {
      this.merge(this.lists, at, pool.data, base);
      this.copyList(this.merged, 0, this.lists, at);
    }
    pool.release(payload);
  }

  onUndelivered(_kind: number, payload: number): void {
    this.payloads!.release(payload);
  }

  /** The node's own entry, stamped now, merged into its list (which also drops expired entries). */
  private refreshOwn(slot: number): void {
    const { lists, length, stampsAt, valuesEnd } = this;
    const at = slot * this.width, n = lists[at];
    const id = this.ctx.store.idOf[slot], value = lists[at + 1], now = this.ctx.clock.time;
    if (n === length && lists[at + 1 + n] !== id && !this.ranksBefore(value, id, lists[at + valuesEnd - n + 1], lists[at + 1 + n])) {
      // Most nodes: a full list that the node does not make (it ranks below the last
      // entry, which is not itself). Drop expired entries; the node, ranked below every
      // one left, then takes the room at the end.
      const oldest = now - this.lifetime;
      const s = at + stampsAt, v = at + valuesEnd;
      let w = 0;
      for (let r = 0; r < n; r++) {
        if (lists[s + r] < oldest) continue;
        if (w !== r) {
          lists[at + 2 + w] = lists[at + 2 + r];
          lists[v - w] = lists[v - r];
          lists[s + w] = lists[s + r];
        }
        w++;
      }
      if (w < n) {
        lists[at + 2 + w] = id;
        lists[v - w] = value;
        lists[s + w] = now;
        lists[at] = w + 1;
      }
      return;
    }
    const own = this.own;
    own[0] = 1;
    own[2] = id;
    own[valuesEnd] = value;
    own[stampsAt] = now;
    this.merge(lists, at, own, 0);
    this.copyList(this.merged, 0, lists, at);
  }

  /**
   * The best `length` entries of the union of the lists at a[at...] and b[bt...], into
   * `merged`: an id once, with the fresher stamp; expired entries dropped. Both are
   * sorted, so one pass; an id's two entries (same value) meet side by side.
   */
  private merge(a: Float64Array, at: number, b: Float64Array, bt: number): void {
    const length = this.length, sign = this.sign, out = this.merged, stampsAt = this.stampsAt, valuesEnd = this.valuesEnd;
    const oldest = this.ctx.clock.time - this.lifetime;
    const na = a[at], nb = b[bt], sa = at + stampsAt, sb = bt + stampsAt, va = at + valuesEnd, vb = bt + valuesEnd;
    let i = 0, j = 0, o = 0;
    // While both lists have entries; then whichever has some left.
    while (o < length && i < na && j < nb) {
      const idA = a[at + 2 + i], idB = b[bt + 2 + j];
      let id: number, value: number, stamp: number;
      if (idA === idB) {
        // The same node on both sides: once, with the fresher stamp.
        const stampA = a[sa + i], stampB = b[sb + j];
        id = idA; value = a[va - i]; stamp = stampA > stampB ? stampA : stampB;
        i++; j++;
      } else {
        const valueA = a[va - i], valueB = b[vb - j];
        const keyA = sign * valueA, keyB = sign * valueB;
        if (keyA > keyB || (keyA === keyB && idA < idB)) {
          id = idA; value = valueA; stamp = a[sa + i]; i++;
        } else {
          id = idB; value = valueB; stamp = b[sb + j]; j++;
        }
      }
      if (stamp < oldest) continue;
      out[2 + o] = id;
      out[valuesEnd - o] = value;
      out[stampsAt + o] = stamp;
      o++;
    }
    for (; o < length && i < na; i++) {
      const stamp = a[sa + i];
      if (stamp < oldest) continue;
      out[2 + o] = a[at + 2 + i];
      out[valuesEnd - o] = a[va - i];
      out[stampsAt + o] = stamp;
      o++;
    }
    for (; o < length && j < nb; j++) {
      const stamp = b[sb + j];
      if (stamp < oldest) continue;
      out[2 + o] = b[bt + 2 + j];
      out[valuesEnd - o] = b[vb - j];
      out[stampsAt + o] = stamp;
      o++;
    }
    out[0] = o;
  }

  /** Copies the list at from[fromAt...] (its count, ids, stamps and values; not the own value) to to[toAt...]. */
  private copyList(from: Float64Array, fromAt: number, to: Float64Array, toAt: number): void {
    const n = from[fromAt];
    to[toAt] = n;
    const ids = 2, stamps = this.stampsAt, values = this.valuesEnd - n + 1;
    for (let e = 0; e < n; e++) {
      to[toAt + ids + e] = from[fromAt + ids + e];
      to[toAt + stamps + e] = from[fromAt + stamps + e];
      to[toAt + values + e] = from[fromAt + values + e];
    }
  }
}

/**
 * A Float64Array whose element 0 starts a cache line (best effort; see line-aligned.ts:
 * a view from byte 48 of a slightly larger buffer), so that each list's record spans
 * whole lines.
 */
function lineAlignedFloat64Array(length: number): Float64Array {
  return new Float64Array(new ArrayBuffer(48 + 8 * length), 48, length);
}

/** Bytes a list of n entries takes on the wire: its count, then the entries. */
function wireBytes(n: number): number {
  return 4 + ENTRY_BYTES * n;
}
export const topk = defineProtocol({
  type: 'topk',
  description: 'top-k by gossip: every node learns the k live nodes with the highest (or lowest) value of an attribute, by push-pull of bounded lists with expiry',
  params,
  create: (ctx, p) => new Topk(ctx, p),
});
