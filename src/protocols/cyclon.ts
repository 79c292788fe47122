import { z } from 'zod';
import { defineProtocol, randomNeighbor, type Linkable, type ProtocolContext, type ProtocolInstance } from '../engine/protocol.js';
import type { Random } from '../engine/random.js';
import { SlabPool } from '../engine/slab-pool.js';

/** Event engine message kinds. */
const REQUEST = 0, REPLY = 1;
/**
 * Event engine: one shuffle's message record, carried by the request and then by
 * its reply: the request's sequence number, the entry counts of P and of Q, then
 * P's entries (l ids, l birth stamps) and Q's (the same).
 */
const SEQUENCE = 0, P_COUNT = 1, Q_COUNT = 2, P_ENTRIES = 3;
/** Words at the end of a record for the request its node has in flight: sequence, entries sent (0: none), send time (ms, mod 2^32). */
const REQUEST_WORDS = 3;

const params = z.strictObject({
  cache: z.number().int().min(1).max(255).default(20).describe('cache size c: neighbours each node keeps'),
  shuffle: z.number().int().min(1).default(8).describe('shuffle length l: entries exchanged per shuffle'),
  init: z.strictObject({
    topology: z.enum(['random', 'ring', 'star']).default('random')
      .describe('random: c random peers each; ring: the next c nodes of a ring lattice; star: everyone knows one bootstrap node'),
  }).default({ topology: 'random' }),
  join: z.strictObject({
    contacts: z.number().int().min(1).default(1).describe('random live nodes a joining node starts knowing'),
  }).default({ contacts: 1 }),
});
export type CyclonParams = z.infer<typeof params>;

/** Whether a word read over four stamp bytes holds the first in its low byte (see oldestIndex). */
const littleEndian = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** The larger of two keys below 2^30, without a branch. */
function maxKey(a: number, b: number): number {
  const d = a - b;
  return a - (d & (d >> 31));
}

/** 1 if `id` may be among the ids whose bits 0-4 and 5-9 set the two 32-bit filters (shift counts are taken mod 32). */
function mayHold(low: number, high: number, id: number): number {
  return (low >>> id) & (high >>> (id >>> 5)) & 1;
}

/**
 * Cyclon with enhanced shuffling (Voulgaris et al. 2005), exactly as SCIENCE.md states it.
 *
 * Layout: one Int32 record per node slot, holding what one shuffle touches together:
 * `cache` neighbour ids, the entry count, the node's own id, then one byte per entry with the cycle (mod 256)
 * at which the entry was created. Storing that birth stamp instead of an age avoids
 * rewriting every entry each cycle; an entry cannot outlive `cache` of its holder's own
 * cycles (the oldest goes every cycle), so ages never wrap. The owner's id word is -1
 * while no live node holds the slot (see slotOf).
 */
export class Cyclon implements ProtocolInstance, Linkable {
  readonly linkable = this;
  readonly cache: number;
  readonly shuffleLength: number;
  /** Words per node record (a multiple of 16: whole 64-byte cache lines). */
  readonly stride: number;
  /** Record of slot s starts at s * stride: ids, then the entry count (at + cache), then the owner's id (at + cache + 1). */
  readonly records: Int32Array;
  private readonly capacity: number;
  /** The same memory seen as bytes, for the birth stamps. */
  private readonly stamps: Uint8Array;
  private readonly stampOffset: number;
  private readonly order: Int32Array;
  // Scratch for one exchange, reused: no allocation on the hot path.
  /** Positions P and Q send from, in draw order; then the slots they overwrite first. */
  private readonly sentP: Int32Array;
  private readonly sentQ: Int32Array;
  /** Marks of the positions drawn so far, for caches too large for a 32-bit mask. */
  private readonly taken: Uint8Array;
  private readonly sendIds: Int32Array;
  private readonly sendStamps: Uint8Array;
  private readonly replyIds: Int32Array;
  private readonly replyStamps: Uint8Array;
  /** Sum of prefetched words; kept so the early loads are not optimised away. */
  private prefetchSink = 0;
  /** The store's id -> slot table and the cycle stamp, refreshed before each sweep. */
  private slotOfId: Int32Array;
  private now = 0;
  /** Per initiator of the current batch of 16: its predicted contact's slot, then its actual one. */
  private readonly batchQ = new Int32Array(16);
  /** Per initiator of the current batch: index of its oldest entry when the batch began. */
  private readonly batchOldest = new Int32Array(16);
  /**
   * The protocol stream's generator itself (Random keeps it private): called from here,
   * it is inlined, whereas Random.int's call site is shared by every stream.
   */
  private readonly draw: () => number;
  private readonly contacts: number;
  /** Whether a partition is in force this sweep (then each contact is checked). */
  private partitioned = false;
  /**
   * Event engine: where in a record the request in flight is kept (a node starts one
   * per period; a newer one supersedes it), and the shuffles' message records.
   */
  private readonly requestAt: number;
  private messages?: SlabPool<Int32Array>;

  constructor(private readonly ctx: ProtocolContext, p: CyclonParams) {
    this.cache = p.cache;
    this.shuffleLength = p.shuffle;
    this.requestAt = p.cache + 2 + Math.ceil(p.cache / 4);
    this.stride = Math.ceil((this.requestAt + REQUEST_WORDS) / 16) * 16;
    this.capacity = ctx.store.capacity;
    this.records = new Int32Array(this.capacity * this.stride);
    for (let slot = 0; slot < this.capacity; slot++) this.records[slot * this.stride + p.cache + 1] = -1;
    this.stamps = new Uint8Array(this.records.buffer);
    this.stampOffset = 4 * (p.cache + 2);
    this.order = new Int32Array(this.capacity);
    this.sentP = new Int32Array(p.shuffle);
    this.sentQ = new Int32Array(p.shuffle);
    this.taken = new Uint8Array(p.cache);
    this.sendIds = new Int32Array(p.shuffle);
    this.sendStamps = new Uint8Array(p.shuffle);
    this.replyIds = new Int32Array(p.shuffle);
    this.replyStamps = new Uint8Array(p.shuffle);
    this.topology = p.init.topology;
    this.slotOfId = ctx.store.idMap();
    this.draw = ctx.random.generator();
    this.contacts = p.join.contacts;
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

  /**
   * A new node starts knowing `join.contacts` random live nodes (those that
   * introduced it); a node back from being offline keeps the cache it had.
   */
  onJoin(slot: number, returning = false): void {
    const { store } = this.ctx;
    const base = slot * this.stride;
    const self = store.idOf[slot];
    this.records[base + this.cache + 1] = self;
    if (returning) return;
    let count = 0;
    const wanted = Math.min(this.contacts, this.cache, store.size - 1);
    while (count < wanted) {
      const id = store.idOf[store.liveSlot(this.ctx.random.int(store.size))];
      if (id !== self && !this.holds(base, count, id)) {
        this.records[base + count] = id;
        this.stamps[base * 4 + this.stampOffset + count] = this.ctx.clock.cycle & 255;
        count++;
      }
    }
    this.records[base + this.cache] = count;
  }

  /** A node that goes offline keeps its cache for its return; one that leaves for good, not. */
  onLeave(slot: number, temporary = false): void {
    const base = slot * this.stride;
    if (!temporary) this.records[base + this.cache] = 0;
    this.records[base + this.cache + 1] = -1; // no live node here: see slotOf
    this.records[base + this.requestAt + 1] = 0; // its request in flight is void
  }

  stepAll(order: Int32Array, from: number, to: number): void {
    this.refresh();
    const records = this.records;
    const stride = this.stride;
    const slotOfId = this.slotOfId;
    const c = this.cache;
    const capacity = this.capacity;
    const contacts = this.batchQ;
    const oldestAt = this.batchOldest;
    const B = contacts.length;
    let sink = 0;
    for (let start = from; start < to; start += B) {
      const end = Math.min(start + B, to);
      // Group prefetch: loops of independent loads, so that the CPU keeps many cache
      // misses in flight at once (JavaScript has no prefetch instruction): the batch's
      // initiators, then the contacts they will pick.
      for (let i = start; i < end; i++) {
        const base = order[i] * stride;
        sink = (sink + records[base] + records[base + 16]) | 0;
      }
      for (let i = start; i < end; i++) {
        const base = order[i] * stride;
        const oldest = this.oldestIndex(base, records[base + c]);
        oldestAt[i - start] = oldest;
        // The contact's likely slot (see slotOf), checked by exchange.
        const qId = records[base + oldest];
        contacts[i - start] = qId < capacity ? qId : slotOfId[qId];
      }
      // Kept apart from the loop above: a short loop lets all the batch's misses start at once.
      for (let i = start; i < end; i++) {
        const q = contacts[i - start];
        if (q >= 0) sink = (sink + records[q * stride] + records[q * stride + 16]) | 0;
      }
      // The oldest index found above still holds unless an earlier exchange of this
      // batch changed P's cache, i.e. P was its contact: `changed` is a 32-bit filter
      // of those contacts' slots, checked exactly on a hit.
      let changed = 0;
      for (let i = start; i < end; i++) {
        const p = order[i];
        let oldest = oldestAt[i - start];
        if ((changed >>> (p & 31)) & 1) {
          for (let j = start; j < i; j++) if (contacts[j - start] === p) oldest = -1;
        }
        const q = this.exchange(p, oldest);
        contacts[i - start] = q;
        if (q >= 0) changed |= 1 << (q & 31);
      }
    }
    this.prefetchSink = (this.prefetchSink + sink) | 0;
  }

  step(p: number): void {
    this.refresh();
    this.exchange(p, -1);
  }

  /** What may change between sweeps or events: the id table, the cycle stamp, partitions. */
  private refresh(): void {
    this.slotOfId = this.ctx.store.idMap();
    this.now = this.ctx.clock.cycle & 255;
    this.partitioned = this.ctx.network.partitioned;
  }

  /**
   * Event engine: the node's timer fired. It takes its oldest neighbour Q out of its
   * cache and sends Q itself plus l-1 random entries; the entries stay in its cache
   * until Q's reply replaces them. Q answers every request, as a deployed node would
   * (it cannot know whether P is still waiting). A request to a departed node gets no
   * reply (Q's entry is gone already); a reply later than `timeoutAfter`, or
   * overtaken by the node's next request, is ignored. Shuffles overlap freely.
   */
  onTimer(p: number): void {
    this.refresh();
    const records = this.records;
    const stamps = this.stamps;
    const c = this.cache;
    const l = this.shuffleLength;
    const pBase = p * this.stride;
    const pStamps = pBase * 4 + this.stampOffset;
    let n = records[pBase + c];
    if (n === 0) return;
    const qId = this.takeOldest(pBase, n, -1);
    n--;

    const sent = Math.min(l - 1, n);
    this.pickRandom(this.sentP, n, sent);
    const transport = this.ctx.transport!;
    const request = pBase + this.requestAt;
    const sequence = (records[request] + 1) | 0;
    records[request] = sequence;
    records[request + 1] = sent + 1;
    records[request + 2] = transport.now | 0;

    const messages = this.messagePool();
    const message = messages.allocate();
    const data = messages.data;
    const at = message * messages.width;
    data[at + SEQUENCE] = sequence;
    data[at + P_COUNT] = sent + 1;
    data[at + P_ENTRIES] = records[pBase + c + 1];
    data[at + P_ENTRIES + l] = this.now;
    for (let k = 0; k < sent; k++) {
      data[at + P_ENTRIES + 1 + k] = records[pBase + this.sentP[k]];
      data[at + P_ENTRIES + l + 1 + k] = stamps[pStamps + this.sentP[k]];
    }
    if (!transport.send(p, qId, REQUEST, message, 8 * (sent + 1))) messages.release(message);
  }

  /** Event engine: early reads of the records an upcoming timer, request or reply will touch. */
  prefetch(slot: number, message: number, _from: number, payload: number): number {
    const sum = this.prefetchPeers(slot);
    return message < 0 ? sum : sum + this.messages!.data[payload * this.messages!.width];
  }

  prefetchPeers(slot: number): number {
    const records = this.records;
    let sum = 0;
    for (let at = slot * this.stride, end = at + this.stride; at < end; at += 16) sum += records[at];
    return sum;
  }

  onMessage(slot: number, kind: number, from: number, payload: number): void {
    this.refresh();
    if (kind === REQUEST) this.answer(slot, from, payload);
    else this.takeReply(slot, payload);
  }

  onUndelivered(_kind: number, payload: number): void {
    this.messages!.release(payload);
  }

  /** Q received P's request: reply with l random entries (in the same record), then merge P's into its cache. */
  private answer(q: number, from: number, message: number): void {
    const records = this.records;
    const stamps = this.stamps;
    const l = this.shuffleLength;
    const qBase = q * this.stride;
    const qStamps = qBase * 4 + this.stampOffset;
    const nq = records[qBase + this.cache];
    const sentByQ = Math.min(l, nq);
    this.pickRandom(this.sentQ, nq, sentByQ);
    const messages = this.messages!;
    const data = messages.data;
    const at = message * messages.width;
    const qEntries = at + P_ENTRIES + 2 * l;
    data[at + Q_COUNT] = sentByQ;
    for (let k = 0; k < sentByQ; k++) {
      data[qEntries + k] = records[qBase + this.sentQ[k]];
      data[qEntries + l + k] = stamps[qStamps + this.sentQ[k]];
    }
    const count = data[at + P_COUNT];
    for (let k = 0; k < count; k++) {
      this.sendIds[k] = data[at + P_ENTRIES + k];
      this.sendStamps[k] = data[at + P_ENTRIES + l + k];
    }
    records[qBase + this.cache] = this.merge(qBase, qStamps, nq, records[qBase + this.cache + 1], this.sendIds, this.sendStamps, count, this.sentQ, sentByQ);
    if (!this.ctx.transport!.send(q, from, REPLY, message, 8 * sentByQ)) messages.release(message);
  }

  /** P received Q's reply: merge it, overwriting the entries P sent (where it still holds them). */
  private takeReply(p: number, message: number): void {
    const messages = this.messages!;
    const data = messages.data;
    const at = message * messages.width;
    const records = this.records;
    const l = this.shuffleLength;
    const pBase = p * this.stride;
    const request = pBase + this.requestAt;
    const transport = this.ctx.transport!;
    const fresh = records[request] === data[at + SEQUENCE] && records[request + 1] > 0
      && (((transport.now | 0) - records[request + 2]) | 0) <= transport.timeoutAfter;
    if (fresh) {
      const n = records[pBase + this.cache];
      // Where the entries P sent (after itself) sit now: other shuffles may have moved them.
      let positions = 0;
      for (let k = 1, sent = data[at + P_COUNT]; k < sent; k++) {
        const id = data[at + P_ENTRIES + k];
        for (let i = 0; i < n; i++) if (records[pBase + i] === id) { this.sentP[positions++] = i; break; }
      }
      const count = data[at + Q_COUNT];
      const qEntries = at + P_ENTRIES + 2 * l;
      for (let k = 0; k < count; k++) {
        this.replyIds[k] = data[qEntries + k];
        this.replyStamps[k] = data[qEntries + l + k];
      }
      const pStamps = pBase * 4 + this.stampOffset;
      records[pBase + this.cache] = this.merge(pBase, pStamps, n, records[pBase + this.cache + 1], this.replyIds, this.replyStamps, count, this.sentP, positions);
      records[request + 1] = 0;
    }
    messages.release(message);
  }

  private messagePool(): SlabPool<Int32Array> {
    this.messages ??= new SlabPool(P_ENTRIES + 4 * this.shuffleLength, (n) => new Int32Array(n));
    return this.messages;
  }

  /** Index of the oldest of the n entries of the record at `base` (the first one on ties); 0 when empty. */
  private oldestIndex(base: number, n: number): number {
    const now = this.now;
    // The largest key, age then lowest index, wins: no data-dependent branch.
    let best = 0;
    let k = 0;
    if (littleEndian) {
      // Four birth stamps per word, turned into four ages at once by a byte-wise
      // subtraction (no borrow crosses bytes).
      const records = this.records;
      const first = base + this.cache + 2;
      const now4 = Math.imul(now, 0x01010101);
      for (; k + 4 <= n; k += 4) {
        const word = records[first + (k >> 2)];
        const ages = ((now4 | 0x80808080) - (word & 0x7f7f7f7f)) ^ ((now4 ^ ~word) & 0x80808080);
        best = maxKey(best, ((ages & 0xff) << 8) | (255 - k));
        best = maxKey(best, (ages & 0xff00) | (254 - k));
        best = maxKey(best, ((ages >>> 8) & 0xff00) | (253 - k));
        best = maxKey(best, ((ages >>> 16) & 0xff00) | (252 - k));
      }
    }
    const stamps = this.stamps;
    const stampBase = base * 4 + this.stampOffset;
    for (; k < n; k++) best = maxKey(best, (((now - stamps[stampBase + k]) & 0xff) << 8) | (255 - k));
    return n === 0 ? 0 : 255 - (best & 0xff);
  }

  /**
   * Slot of the live node `id`, or -1. Until churn recycles slots, ids equal slots:
   * trying that first saves a random read of the id -> slot table, and costs nothing
   * since Q's record is read next anyway. A record's owner word names its node only
   * while that node is live (-1 otherwise: see the constructor and onLeave).
   */
  private slotOf(id: number): number {
    if (id < this.capacity && this.records[id * this.stride + this.cache + 1] === id) return id;
    return this.slotOfId[id];
  }

  /**
   * Takes the oldest of the n entries of the record at `pBase` (at index `oldest`, or
   * found when -1) out of the cache, moving the last entry into its place; returns its id.
   */
  private takeOldest(pBase: number, n: number, oldest: number): number {
    const records = this.records;
    const stamps = this.stamps;
    const index = oldest >= 0 ? oldest : this.oldestIndex(pBase, n);
    const id = records[pBase + index];
    const last = n - 1;
    const stampBase = pBase * 4 + this.stampOffset;
    records[pBase + index] = records[pBase + last];
    stamps[stampBase + index] = stamps[stampBase + last];
    records[pBase + this.cache] = last;
    return id;
  }

  /**
   * One shuffle initiated by the node in slot p, whose oldest entry is at `oldest`
   * (-1: find it). Returns the contact's slot, or -1 if no exchange took place.
   */
  private exchange(p: number, oldest: number): number {
    const records = this.records;
    const stamps = this.stamps;
    const c = this.cache;
    const pBase = p * this.stride;
    const pStamps = pBase * 4 + this.stampOffset;
    let n = records[pBase + c];
    if (n === 0) return -1;

    // The oldest neighbour Q is the one to shuffle with; its entry leaves P's cache.
    const qId = this.takeOldest(pBase, n, oldest);
    n--;
    const q = this.slotOf(qId);
    // Q has left, or a partition cuts it off: the contact fails and its entry stays dropped.
    if (q < 0 || (this.partitioned && !this.ctx.network.reachable(p, q))) return -1;

    // P sends itself (age 0) plus l-1 random other entries.
    const pId = records[pBase + c + 1];
    const sentP = this.sentP, sendIds = this.sendIds, sendStamps = this.sendStamps;
    const sentByP = Math.min(this.shuffleLength - 1, n);
    this.pickRandom(sentP, n, sentByP);
    sendIds[0] = pId;
    sendStamps[0] = this.now;
    for (let k = 0; k < sentByP; k++) {
      const at = sentP[k];
      sendIds[k + 1] = records[pBase + at];
      sendStamps[k + 1] = stamps[pStamps + at];
    }

    // Q answers with l random entries of its own; then each side merges what it got.
    const qBase = q * this.stride;
    const qStamps = qBase * 4 + this.stampOffset;
    const sentQ = this.sentQ, replyIds = this.replyIds, replyStamps = this.replyStamps;
    const nq = records[qBase + c];
    const sentByQ = Math.min(this.shuffleLength, nq);
    this.pickRandom(sentQ, nq, sentByQ);
    for (let k = 0; k < sentByQ; k++) {
      const at = sentQ[k];
      replyIds[k] = records[qBase + at];
      replyStamps[k] = stamps[qStamps + at];
    }
    records[qBase + c] = this.merge(qBase, qStamps, nq, qId, sendIds, sendStamps, sentByP + 1, sentQ, sentByQ);
    records[pBase + c] = this.merge(pBase, pStamps, n, pId, replyIds, replyStamps, sentByQ, sentP, sentByP);
    return q;
  }

  /**
   * Puts k distinct positions drawn uniformly from 0..n-1 in picks[0..k-1], in draw
   * order: by rejection (a position already drawn is drawn again), a uniformly random
   * ordered choice, as a partial Fisher-Yates gives.
   */
  private pickRandom(picks: Int32Array, n: number, k: number): void {
    const draw = this.draw;
    if (n <= 32) {
      // Two positions per draw: seedrandom's alea yields multiples of 2^-32, so u * n
      // and (u * n - d1) * n are exact and (d1, d2) are the base-n digits of
      // floor(u * n^2). Each of the n^2 pairs thus has probability (1 + e) / n^2
      // with |e| <= n^2 / 2^32 <= 2.4e-7.
      let taken = 0; // bit i: position i drawn
      let i = 0;
      while (i < k) {
        const f = draw() * n;
        const d1 = f | 0;
        const d2 = ((f - d1) * n) | 0;
        if (((taken >>> d1) & 1) === 0) {
          taken |= 1 << d1;
          picks[i++] = d1;
        }
        if (i < k && ((taken >>> d2) & 1) === 0) {
          taken |= 1 << d2;
          picks[i++] = d2;
        }
      }
    } else {
      // One position per draw, Math.floor(u * n) as Random.int computes it: a bias below n / 2^32.
      const taken = this.taken;
      for (let i = 0; i < k; i++) {
        let d = (draw() * n) | 0;
        while (taken[d]) d = (draw() * n) | 0;
        taken[d] = 1;
        picks[i] = d;
      }
      for (let i = 0; i < k; i++) taken[picks[i]] = 0;
    }
  }

  /**
   * Cyclon's merge of `count` incoming entries into the cache of n entries at `base`:
   * drop entries naming the owner or already held; fill empty slots first, then
   * overwrite the slots whose entries were sent away (sent[0..sentCount-1], in order).
   * Returns the new count. Uses up `ids`.
   */
  private merge(
    base: number, stampBase: number, n: number, selfId: number,
    ids: Int32Array, birth: Uint8Array, count: number, sent: Int32Array, sentCount: number,
  ): number {
    const records = this.records;
    const stamps = this.stamps;
    // Find the incoming ids the cache holds, in one pass over it: two 32-bit filters of
    // their bits 0-4 and 5-9 let most entries through without a search. A held id
    // is replaced in `ids` by -1 - its position.
    let low = 0, high = 0;
    for (let e = 0; e < count; e++) {
      low |= 1 << ids[e];
      high |= 1 << (ids[e] >>> 5);
    }
    let held = 0;
    for (let from = 0; from < n; from += 32) {
      const to = Math.min(from + 32, n);
      // Bit i - from: entry i may be held. Four entries per step, with no branch.
      let hits = 0;
      let i = from;
      for (; i + 4 <= to; i += 4) {
        const at = base + i;
        hits |= (mayHold(low, high, records[at]) | (mayHold(low, high, records[at + 1]) << 1)
          | (mayHold(low, high, records[at + 2]) << 2) | (mayHold(low, high, records[at + 3]) << 3)) << (i - from);
      }
      for (; i < to; i++) hits |= mayHold(low, high, records[base + i]) << (i - from);
      while (hits !== 0) {
        const i = from + 31 - Math.clz32(hits & -hits);
        hits &= hits - 1;
        const id = records[base + i];
        for (let e = 0; e < count; e++) {
          if (ids[e] === id) { ids[e] = -1 - i; held++; break; }
        }
      }
    }
    let replaced = 0;
    for (let e = 0; e < count; e++) {
      const id = ids[e];
      if (id < 0 || id === selfId) continue;
      if (n < this.cache) {
        records[base + n] = id;
        stamps[stampBase + n] = birth[e];
        n++;
      } else if (replaced < sentCount) {
        const index = sent[replaced++];
        // Once overwritten, the entry sent from there no longer counts as held (the
        // incoming ids being distinct, only one can name it).
        if (held > 0) {
          const mark = -1 - index;
          for (let later = e + 1; later < count; later++) {
            if (ids[later] === mark) { ids[later] = records[base + index]; held--; break; }
          }
        }
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
    return randomNeighbor(this, slot, random);
  }

  snapshot(): Record<string, unknown> {
    return { records: this.records, messages: this.messages?.snapshot(), prefetchSink: this.prefetchSink };
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
