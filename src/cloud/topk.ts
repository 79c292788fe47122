import { z } from 'zod';
import { declaredAttribute } from '../engine/attribute.js';
import { defineProtocol, type BatchedStep, type Linkable, type Protocol, type ProtocolContext } from '../engine/protocol.js';
import type { Random } from '../engine/random.js';
import type { SlabPool } from '../engine/slab-pool.js';

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

/** Exchanges stepAll overlaps. */
const BATCH = 16;

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
   * The lists, one record of `width` numbers per slot at slot * width: the entry count,
   * then the entries best first, each (id, value, timestamp). A message carries a list
   * in the same layout, so copying one is copying a record.
   */
  readonly lists: Float64Array;
  readonly width: number;
  private peers!: Linkable;
  private readonly random: Random;
  /** Expiry in engine time units (cycles, or ms in the event engine). */
  private readonly lifetime: number;
  /** Event engine: one record per message in flight, laid out as a list. */
  private readonly payloads?: SlabPool<Float64Array>;
  /** Scratch for one merge's result. */
  private readonly merged: Float64Array;
  /** Scratch: a list as it was before a merge (the reply), or the node's own entry alone. */
  private readonly scratchList: Float64Array;
  /** stepAll: the peers (slots, -1 for none) of the current batch of initiators. */
  private readonly batchPeer = new Int32Array(BATCH);
  /** Sum of early-loaded values; kept so those loads are not optimised away. */
  private prefetchSink = 0;

  constructor(private readonly ctx: ProtocolContext, private readonly p: TopkParams) {
    const { store } = ctx;
    this.k = p.k;
    this.length = p.k + p.spare;
    this.width = 1 + 3 * this.length;
    this.attribute = declaredAttribute(store, p.attribute, `protocols.${ctx.name}.attribute`);
    this.sign = p.order === 'highest' ? 1 : -1;
    this.lists = ctx.state.array('lists', new Float64Array(store.capacity * this.width));
    this.random = ctx.random;
    this.lifetime = p.expiry * (ctx.engine === 'event' ? ctx.transport!.period : 1);
    this.merged = new Float64Array(this.width);
    this.scratchList = new Float64Array(this.width);
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
    return this.lists[slot * this.width + 1 + 3 * i];
  }

  entryValue(slot: number, i: number): number {
    return this.lists[slot * this.width + 2 + 3 * i];
  }

  entryStamp(slot: number, i: number): number {
    return this.lists[slot * this.width + 3 + 3 * i];
  }

  /** How many entries the node's estimate has: its first min(k, held) entries. */
  estimateSize(slot: number): number {
    const held = this.lists[slot * this.width];
    return held < this.k ? held : this.k;
  }

  /** Id of the i-th best node in `slot`'s estimate, 0 <= i < estimateSize(slot). */
  estimateId(slot: number, i: number): number {
    return this.lists[slot * this.width + 1 + 3 * i];
  }

  /** Whether (value a, id a) ranks before (value b, id b) in this query's order. */
  ranksBefore(valueA: number, idA: number, valueB: number, idB: number): boolean {
    const a = this.sign * valueA, b = this.sign * valueB;
    return a > b || (a === b && idA < idB);
  }

  /** A fresh node knows itself only; a returning one keeps its list (stale entries expire). */
  onJoin(slot: number, returning = false): void {
    if (returning) return;
    const at = slot * this.width;
    this.lists[at] = 1;
    this.lists[at + 1] = this.ctx.store.idOf[slot];
    this.lists[at + 2] = this.attribute[slot];
    this.lists[at + 3] = this.ctx.clock.time;
  }

  step(slot: number): void {
    this.refreshOwn(slot);
    this.exchange(slot, this.drawPeer(slot));
  }

  /**
   * The same as step(order[i]) for each i, in batches of 16 whose memory loads overlap:
   * first each initiator's list and its peer draw (the draws, from the sampler's state
   * and this stream, are the ones step() makes, in the same order: no exchange changes
   * them), then the peers' lists, then the exchanges in order. At 10^6 nodes each list
   * read is a cache miss; JavaScript has no prefetch instruction, an early load folded
   * into a kept sum is the nearest thing.
   */
  stepAll(order: Int32Array, from: number, to: number): void {
    const lists = this.lists, width = this.width, batchPeer = this.batchPeer;
    let sink = 0;
    for (let start = from; start < to; start += BATCH) {
      const end = Math.min(start + BATCH, to);
      for (let i = start; i < end; i++) sink += lists[order[i] * width];
      for (let i = start; i < end; i++) {
        const q = this.drawPeer(order[i]);
        batchPeer[i - start] = q;
        if (q >= 0) sink += lists[q * width] + lists[q * width + width - 1];
      }
      for (let i = start; i < end; i++) {
        this.refreshOwn(order[i]);
        this.exchange(order[i], batchPeer[i - start]);
      }
    }
    this.prefetchSink += sink;
  }

  /** The slot of a peer drawn from the sampler that `slot` can reach now, or -1. */
  private drawPeer(slot: number): number {
    const id = this.peers.samplePeer(slot, this.random);
    if (id < 0) return -1;
    const q = this.ctx.contact(slot, id);
    return q === slot ? -1 : q;
  }

  /** Atomic push-pull between `slot` and peer q (none if -1): both keep the best of the union. */
  private exchange(slot: number, q: number): void {
    if (q < 0) return;
    const lists = this.lists, width = this.width, a = slot * width, b = q * width;
    if (this.sameIds(a, b)) return;
    this.mergeInto(lists, a, lists, b);
    copyList(lists, a, lists, b);
  }

  /**
   * The common case once converged: lists a and b hold the same ids. Then the merge is
   * each entry with the fresher stamp, on both sides: done here, in place, unless an
   * entry has expired (false: merge).
   */
  private sameIds(a: number, b: number): boolean {
    const lists = this.lists, n = lists[a];
    if (lists[b] !== n) return false;
    const end = 1 + 3 * n;
    for (let e = 1; e < end; e += 3) if (lists[a + e] !== lists[b + e]) return false;
    const oldest = this.ctx.clock.time - this.lifetime;
    for (let e = 3; e < end; e += 3) {
      const sa = lists[a + e], sb = lists[b + e];
      if ((sa > sb ? sa : sb) < oldest) return false;
    }
    for (let e = 3; e < end; e += 3) {
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
    copyList(this.lists, slot * this.width, pool.data, record * pool.width);
    if (!this.ctx.transport!.send(slot, id, REQUEST, record, wireBytes(this.held(slot)))) pool.release(record);
  }

  onMessage(slot: number, kind: number, from: number, payload: number): void {
    const pool = this.payloads!;
    const base = payload * pool.width;
    const at = slot * this.width;
    if (kind === REQUEST) {
      // Answer with the list as it was, then merge what came.
      const before = this.scratchList;
      copyList(this.lists, at, before, 0);
      this.mergeInto(this.lists, at, pool.data, base);
      copyList(before, 0, pool.data, base);
      if (this.ctx.transport!.send(slot, from, REPLY, payload, wireBytes(before[0]))) return;
    } else if (kind === REPLY) {
      this.mergeInto(this.lists, at, pool.data, base);
    }
    pool.release(payload);
  }

  onUndelivered(_kind: number, payload: number): void {
    this.payloads!.release(payload);
  }

  /** The node's own entry, stamped now, merged into its list (which also drops expired entries). */
  private refreshOwn(slot: number): void {
    const lists = this.lists, at = slot * this.width, n = lists[at];
    const id = this.ctx.store.idOf[slot], value = this.attribute[slot], now = this.ctx.clock.time;
    const last = at + 1 + 3 * (n - 1);
    if (n === this.length && lists[last] !== id && !this.ranksBefore(value, id, lists[last + 1], lists[last])) {
      // Most nodes: a full list that the node does not make (it ranks below the last
      // entry, which is not itself). Drop expired entries; the node, ranked below every
      // one left, then takes the room at the end.
      const oldest = now - this.lifetime;
      let w = at + 1;
      for (let r = at + 1; r <= last; r += 3) {
        if (lists[r + 2] < oldest) continue;
        if (w !== r) { lists[w] = lists[r]; lists[w + 1] = lists[r + 1]; lists[w + 2] = lists[r + 2]; }
        w += 3;
      }
      if (w <= last) {
        lists[w] = id; lists[w + 1] = value; lists[w + 2] = now;
        lists[at] = (w - at + 2) / 3;
      }
      return;
    }
    const own = this.scratchList;
    own[0] = 1;
    own[1] = id;
    own[2] = value;
    own[3] = now;
    this.mergeInto(lists, at, own, 0);
  }

  /**
   * The list at a[at...] becomes the best `length` entries of its union with the list
   * at b[from...]: an id once, with the fresher stamp; expired entries dropped. Both are
   * sorted, so one pass; an id's two entries (same value) meet side by side.
   */
  private mergeInto(a: Float64Array, at: number, b: Float64Array, from: number): void {
    const length = this.length, sign = this.sign, out = this.merged;
    const oldest = this.ctx.clock.time - this.lifetime;
    const aEnd = at + 1 + 3 * a[at], bEnd = from + 1 + 3 * b[from];
    let i = at + 1, j = from + 1, o = 1;
    const outEnd = 1 + 3 * length;
    while (o < outEnd && (i < aEnd || j < bEnd)) {
      let source: Float64Array, e: number, stamp: number;
      if (j >= bEnd) {
        source = a; e = i; stamp = a[i + 2]; i += 3;
      } else if (i >= aEnd) {
        source = b; e = j; stamp = b[j + 2]; j += 3;
      } else {
        const idA = a[i], idB = b[j];
        if (idA === idB) {
          // The same node on both sides: once, with the fresher stamp.
          const sa = a[i + 2], sb = b[j + 2];
          source = a; e = i; stamp = sa > sb ? sa : sb;
          i += 3; j += 3;
        } else {
          const keyA = sign * a[i + 1], keyB = sign * b[j + 1];
          if (keyA > keyB || (keyA === keyB && idA < idB)) {
            source = a; e = i; stamp = a[i + 2]; i += 3;
          } else {
            source = b; e = j; stamp = b[j + 2]; j += 3;
          }
        }
      }
      if (stamp < oldest) continue;
      out[o] = source[e];
      out[o + 1] = source[e + 1];
      out[o + 2] = stamp;
      o += 3;
    }
    out[0] = (o - 1) / 3;
    copyList(out, 0, a, at);
  }
}

/** Copies the list at from[fromAt...] (count, then entries) to to[toAt...]. */
function copyList(from: Float64Array, fromAt: number, to: Float64Array, toAt: number): void {
  const end = 1 + 3 * from[fromAt];
  for (let i = 0; i < end; i++) to[toAt + i] = from[fromAt + i];
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
