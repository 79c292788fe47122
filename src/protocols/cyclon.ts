import { z } from 'zod';
import { defineProtocol, randomNeighbor, type Linkable, type BatchedStep, type Prefetching, type Protocol, type ProtocolContext } from '../engine/protocol.js';
import type { Random } from '../engine/random.js';
import type { NodeStore } from '../engine/node-store.js';
import { CyclonCaches, mayHold } from './cyclon-cache.js';
import { CyclonEvents } from './cyclon-events.js';

const params = z.strictObject({
  cache: z.number().int().min(1).max(255).default(20).describe('cache size c: neighbours each node keeps (1-255, below size)'),
  shuffle: z.number().int().min(1).default(8).describe('shuffle length l: entries exchanged per shuffle, at most the cache size'),
  init: z.strictObject({
    topology: z.enum(['random', 'ring', 'star']).default('random')
      .describe('random: c random peers each; ring: the next c nodes of a ring lattice; star: everyone knows one bootstrap node'),
  }).default({ topology: 'random' }),
  join: z.strictObject({
    contacts: z.number().int().min(1).default(1).describe('random live nodes a joining node starts knowing, at most the cache size'),
  }).default({ contacts: 1 }),
  ageing: z.enum(['initiator', 'clock']).default('initiator')
    .describe('initiator (published): an entry ages by one each time its holder initiates a shuffle, and its age travels with it; clock (a variant): every entry ages by one each cycle wherever it sits'),
  duplicates: z.enum(['before-merge', 'during-merge']).default('before-merge')
    .describe('before-merge (published): a received entry is discarded if the cache held it before the merge; during-merge (a variant): checked against the cache as it is overwritten, so an entry whose copy sat in a slot overwritten earlier in the same merge is kept'),
  busy: z.enum(['answer', 'refuse', 'defer']).default('answer')
    .describe('event engine: what a node whose own shuffle request is in flight does with a request it receives. answer: answers at once from the same cache (shuffles overlap); refuse: sends a refusal and keeps its cache, and the requester puts its entry for the busy node back; defer: answers once its own shuffle is done (its reply came or it timed out). No effect in the cycle engine, where an exchange is atomic'),
});
export type CyclonParams = z.infer<typeof params>;

/** A contact not yet looked up (see Cyclon.shuffles). */
const UNRESOLVED = -2;

/**
 * The live nodes' ids in the store's order, or null when the i-th live node is node i
 * (slots are ids and none has left or moved in the live list): then no table is needed.
 */
function liveIdsUnlessIdentity(store: NodeStore): Int32Array | null {
  const n = store.size;
  let identity = store.slotsAreIds;
  for (let i = 0; identity && i < n; i++) identity = store.liveSlot(i) === i;
  if (identity) return null;
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) ids[i] = store.idOf[store.liveSlot(i)];
  return ids;
}

/**
 * Cyclon with enhanced shuffling (Voulgaris et al. 2005), as published by default
 * (SCIENCE.md states the seven steps); `ageing` and `duplicates` select the variants
 * described in CyclonRules (cyclon-cache.ts), `busy` the event engine's rule for a
 * request that reaches a node while its own is in flight (CyclonEvents.onMessage).
 *
 * The caches and the operations on them are in CyclonCaches (cyclon-cache.ts); here
 * is the protocol's life cycle, the cycle-driven shuffle, and the neighbour list it
 * offers others. In the event engine, its timers and messages go to CyclonEvents
 * (cyclon-events.ts).
 */
export class Cyclon implements Protocol, BatchedStep, Prefetching, Linkable {
  readonly linkable = this;
  readonly cache: number;
  readonly shuffleLength: number;
  /** The caches' record layout, as CyclonCaches has it (the same array), for readers of this protocol. */
  readonly stride: number;
  /** Record of slot s starts at s * stride: ids, then the entry count (at + cache), then the owner's id (at + cache + 1). */
  readonly records: Int32Array;
  private readonly caches: CyclonCaches;
  /** The event engine's form of the shuffle. */
  private readonly events: CyclonEvents;
  // Scratch for one exchange, reused: no allocation on the hot path. The state that
  // lasts (the caches, the event engine's messages) is declared by CyclonCaches and CyclonEvents.
  /** Positions P and Q send from, in draw order; then the slots they overwrite first. */
  private readonly sentP: Int32Array;
  private readonly sentQ: Int32Array;
  private readonly sendIds: Int32Array;
  private readonly sendAges: Uint8Array;
  private readonly replyIds: Int32Array;
  private readonly replyAges: Uint8Array;
  /** Sum of prefetched words; kept so the early loads are not optimised away. */
  private prefetchSink = 0;
  /** Per initiator of the current batch of 16: its predicted contact's slot, then its actual one. */
  private readonly batchQ = new Int32Array(16);
  /** Per initiator of the current batch: index of its oldest entry when the batch began (-1: not looked up). */
  private readonly batchOldest = new Int32Array(16);
  /** The initiator of a lone shuffle (see step), as a batch of one. */
  private readonly lone = new Int32Array(1);
  private readonly topology: CyclonParams['init']['topology'];
  private readonly contacts: number;
  /** Whether a partition is in force this sweep (then each contact goes through ctx.contact). */
  private partitioned = false;

  constructor(private readonly ctx: ProtocolContext, p: CyclonParams) {
    this.cache = p.cache;
    this.shuffleLength = p.shuffle;
    this.caches = CyclonCaches.create(p.cache, ctx.store.capacity, ctx.store, ctx.random.generator(), p, ctx.state);
    this.stride = this.caches.stride;
    this.records = this.caches.records;
    this.events = new CyclonEvents(ctx, this.caches, p.shuffle, p.busy);
    this.sentP = new Int32Array(p.shuffle + 1); // + 1: see CyclonCaches.pickRandom
    this.sentQ = new Int32Array(p.shuffle + 1);
    this.sendIds = new Int32Array(p.shuffle);
    this.sendAges = new Uint8Array(p.shuffle);
    this.replyIds = new Int32Array(p.shuffle);
    this.replyAges = new Uint8Array(p.shuffle);
    this.topology = p.init.topology;
    this.contacts = p.join.contacts;
  }

  /**
   * The initial caches, in one streaming pass over the records. While the i-th live
   * node is node i in slot i (a run's start: no node has left or moved), peers are
   * drawn as ids directly, with no read of another node's memory per entry; otherwise
   * through a table of the live ids in the store's order. Either way the draws and the
   * caches are those of drawing live nodes by their index in the store's order.
   */
  init(): void {
    const { store } = this.ctx;
    const caches = this.caches;
    const records = this.records;
    const stride = this.stride;
    const n = store.size;
    const c = Math.min(this.cache, n - 1);
    const draw = this.ctx.initRandom.generator();
    caches.refresh(this.ctx.clock.cycle);
    const ids = liveIdsUnlessIdentity(store);
    for (let i = 0; i < n; i++) {
      const slot = ids === null ? i : store.liveSlot(i);
      const self = ids === null ? i : ids[i];
      const base = slot * stride;
      let count = 0;
      if (this.topology === 'ring') {
        for (let k = 1; k <= c; k++) {
          const next = i + k < n ? i + k : i + k - n;
          records[base + count++] = ids === null ? next : ids[next];
        }
      } else if (this.topology === 'star') {
        if (i !== 0) records[base + count++] = ids === null ? 0 : ids[0];
      } else {
        // Distinct random peers other than itself, by rejection; two bit filters of the
        // ids taken so far spare most searches of the record.
        let low = 0, high = 0;
        while (count < c) {
          const drawn = Math.floor(draw() * n); // Random.int(n)
          const id = ids === null ? drawn : ids[drawn];
          if (id === self || (mayHold(low, high, id) === 1 && caches.holds(base, count, id))) continue;
          low |= 1 << id;
          high |= 1 << (id >>> 5);
          records[base + count++] = id;
        }
      }
      caches.stampAllNew(base, count);
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
    const caches = this.caches;
    const base = slot * this.stride;
    const self = store.idOf[slot];
    this.records[base + this.cache + 1] = self;
    if (returning) return;
    let count = 0;
    const wanted = Math.min(this.contacts, this.cache, store.size - 1);
    caches.refresh(this.ctx.clock.cycle);
    while (count < wanted) {
      const id = store.idOf[store.liveSlot(this.ctx.random.int(store.size))];
      if (id !== self && !caches.holds(base, count, id)) {
        this.records[base + count] = id;
        caches.stampNew(base, count);
        count++;
      }
    }
    this.records[base + this.cache] = count;
  }

  /** A node that goes offline keeps its cache for its return; one that leaves for good, not. */
  onLeave(slot: number, temporary = false): void {
    const base = slot * this.stride;
    if (!temporary) this.records[base + this.cache] = 0;
    this.records[base + this.cache + 1] = -1; // no live node here: see CyclonCaches.slotOf
    this.records[base + this.caches.requestAt + 1] = 0; // its request in flight is void
    this.events.onLeave(slot);
  }

  stepAll(order: Int32Array, from: number, to: number): void {
    this.refresh();
    const caches = this.caches;
    const records = this.records;
    const stride = this.stride;
    // A record's second line, if it has one (not the next record's first).
    const second = stride > 16 ? 16 : 0;
    const partitioned = this.partitioned;
    const contact = this.ctx.contact;
    const store = this.ctx.store;
    const c = this.cache;
    const capacity = caches.capacity;
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
        sink = (sink + records[base] + records[base + second]) | 0;
      }
      for (let i = start; i < end; i++) {
        const p = order[i];
        const base = p * stride;
        const oldest = caches.oldestIndex(base, records[base + c]);
        oldestAt[i - start] = oldest;
        // The contact's likely slot (see CyclonCaches.slotOf), checked by shuffles; while
        // partitioned, the engine's answer, so that no early read touches a node out of reach.
        const qId = records[base + oldest];
        contacts[i - start] = partitioned ? contact(p, qId) : qId < capacity ? qId : store.slotOf(qId);
      }
      // Kept apart from the loop above: a short loop lets all the batch's misses start at once.
      for (let i = start; i < end; i++) {
        const q = contacts[i - start];
        if (q >= 0) sink = (sink + records[q * stride] + records[q * stride + second]) | 0;
      }
      this.shuffles(order, start, end);
    }
    this.prefetchSink = (this.prefetchSink + sink) | 0;
  }

  step(p: number): void {
    this.refresh();
    this.lone[0] = p;
    this.batchOldest[0] = -1;
    this.shuffles(this.lone, 0, 1);
  }

  /** What may change between sweeps: the global cycle, partitions. */
  private refresh(): void {
    this.caches.refresh(this.ctx.clock.cycle);
    this.partitioned = this.ctx.network.partitioned;
  }

  // Event engine: the shuffle as messages (see CyclonEvents).
  onTimer(p: number): void {
    this.events.onTimer(p);
  }

  prefetch(slot: number, message: number, from: number, payload: number): number {
    return this.events.prefetch(slot, message, from, payload);
  }

  onMessage(slot: number, kind: number, from: number, payload: number): void {
    this.events.onMessage(slot, kind, from, payload);
  }

  onUndelivered(kind: number, payload: number): void {
    this.events.onUndelivered(kind, payload);
  }

  /**
   * The shuffles initiated by the nodes in slots order[start..end), a batch of at most
   * 16, in turn. Initiator i's oldest entry is at batchOldest[i - start] (-1: find it)
   * and, while partitioned, batchQ[i - start] holds the contact's slot as ctx.contact
   * gave it for that entry; batchQ[i - start] is left with the contact's slot, or -1 if
   * no exchange took place.
   *
   * One call per batch, with the shuffle written out in its loop rather than called per
   * initiator: V8 (Node 20) inlined a per-shuffle method into stepAll only when stepAll
   * was compiled before that method had optimised code of its own, so whether every
   * shuffle paid a call depended on the order of compilations.
   */
  private shuffles(order: Int32Array, start: number, end: number): void {
    const caches = this.caches;
    const records = this.records;
    const stride = this.stride;
    const c = this.cache;
    const l = this.shuffleLength;
    const partitioned = this.partitioned;
    const contacts = this.batchQ;
    const oldestAt = this.batchOldest;
    // The oldest index found ahead still holds unless an earlier shuffle of this batch
    // changed P's cache, i.e. P was its contact: `changed` is a 32-bit filter of those
    // contacts' slots, checked exactly on a hit.
    let changed = 0;
    for (let i = start; i < end; i++) {
      const p = order[i];
      const pBase = p * stride;
      let oldest = oldestAt[i - start];
      if ((changed >>> (p & 31)) & 1) {
        for (let j = start; j < i; j++) if (contacts[j - start] === p) oldest = -1;
      }
      // While partitioned, the engine's answer found ahead holds for an unchanged oldest entry.
      const known = partitioned && oldest >= 0 ? contacts[i - start] : UNRESOLVED;
      contacts[i - start] = -1;
      let n = records[pBase + c];
      if (n === 0) continue;

      // The oldest neighbour Q is the one to shuffle with; its entry leaves P's cache. Every
      // entry of P's ages by one: the paper does that first, but it changes no entry's
      // rank, and the oldest found before it is the one stepAll looks up ahead.
      const qId = caches.takeOldest(pBase, n, oldest);
      caches.ageEntries(pBase);
      n--;
      // Q has left, or a partition cuts it off: the contact fails and its entry stays
      // dropped. The owner-word guess is the engine's answer too while no partition is in force.
      const q = known !== UNRESOLVED ? known : partitioned ? this.ctx.contact(p, qId) : caches.slotOf(qId);
      if (q < 0) continue;

      // P's offer; Q answers and merges it; P merges the answer (the event engine's steps too).
      const offered = caches.offer(pBase, n, l, this.sentP, this.sendIds, 0, this.sendAges, 0);
      const answered = caches.answer(q * stride, l, this.sendIds, this.sendAges, offered, this.sentQ, this.replyIds, 0, this.replyAges, 0);
      caches.mergeAnswer(pBase, n, this.replyIds, this.replyAges, answered, this.sentP, offered - 1);
      contacts[i - start] = q;
      changed |= 1 << (q & 31);
    }
  }

  prefetchPeers(slot: number): number {
    return this.caches.prefetch(slot);
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
    if (p.join.contacts > p.cache) {
      problems.push({ key: 'join.contacts', message: `expected at most the cache size ${p.cache} contacts, found ${p.join.contacts}` });
    }
    return problems;
  },
  create: (ctx, p) => new Cyclon(ctx, p),
});
