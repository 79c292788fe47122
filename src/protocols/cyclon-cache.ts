import { bytesOf, lineAlignedInt32Array } from '../engine/line-aligned.js';
import type { StateDeclarations } from '../engine/state.js';

/** Words at the end of a record for the request its node has in flight: sequence, entries sent (0: none), send time (ms, mod 2^32). */
export const REQUEST_WORDS = 3;

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
 * Every node's Cyclon cache, and the steps of a shuffle both engines take (the
 * cycle-driven exchange in cyclon.ts, the messages in cyclon-events.ts): P takes its
 * oldest entry out (takeOldest) and makes its offer (offer); Q answers and merges the
 * offer (answer); P merges the answer (mergeAnswer).
 *
 * Layout: one Int32 record per node slot, holding what one shuffle touches together:
 * `cache` neighbour ids, the entry count, the node's own id, then one byte per entry with the cycle (mod 256)
 * at which the entry was created. Storing that birth stamp instead of an age avoids
 * rewriting every entry each cycle; an entry cannot outlive `cache` of its holder's own
 * cycles (the oldest goes every cycle), so ages never wrap. The owner's id word is -1
 * while no live node holds the slot (see slotOf). The event engine keeps the node's
 * request in flight in the record's last words (see requestAt).
 */
export class CyclonCaches {
  readonly cache: number;
  /** Words per node record (a multiple of 16: whole 64-byte cache lines). */
  readonly stride: number;
  /** Record of slot s starts at s * stride: ids, then the entry count (at + cache), then the owner's id (at + cache + 1). */
  readonly records: Int32Array;
  readonly capacity: number;
  /** The same memory seen as bytes, for the birth stamps. */
  readonly stamps: Uint8Array;
  /** Byte offset of the birth stamps in a record. */
  readonly stampOffset: number;
  /**
   * Event engine: where in a record the request in flight is kept (a node starts one
   * per period; a newer one supersedes it).
   */
  readonly requestAt: number;
  /**
   * Event engine: where a record keeps the positions its request's entries were sent
   * from (5 bits each; -1 when they do not fit), or -1 when the record has no spare word
   * for them or the cache is above 32. A spare word only: it never lengthens a record.
   */
  readonly positionsAt: number;
  /** The store's id -> slot table and the cycle stamp, set by refresh. */
  slotOfId: Int32Array;
  now = 0;
  /** Marks of the positions drawn so far, for caches too large for a 32-bit mask. */
  private readonly taken: Uint8Array;

  /**
   * `draw` is the protocol stream's generator itself (Random keeps it private): called
   * from here, it is inlined, whereas Random.int's call site is shared by every stream.
   * With `state`, the records are declared there (checkpoints save them).
   */
  constructor(cache: number, capacity: number, slotOfId: Int32Array, private readonly draw: () => number, state?: StateDeclarations) {
    this.cache = cache;
    this.requestAt = cache + 2 + Math.ceil(cache / 4);
    this.stride = Math.ceil((this.requestAt + REQUEST_WORDS) / 16) * 16;
    this.positionsAt = cache <= 32 && this.requestAt + REQUEST_WORDS < this.stride ? this.requestAt + REQUEST_WORDS : -1;
    this.capacity = capacity;
    const records = lineAlignedInt32Array(capacity * this.stride);
    for (let slot = 0; slot < capacity; slot++) records[slot * this.stride + cache + 1] = -1;
    this.records = state ? state.array('records', records) : records;
    this.stamps = bytesOf(records);
    this.stampOffset = 4 * (cache + 2);
    this.taken = new Uint8Array(cache);
    this.slotOfId = slotOfId;
  }

  /** What may change between sweeps or events: the id table, the cycle stamp. */
  refresh(slotOfId: Int32Array, cycle: number): void {
    this.slotOfId = slotOfId;
    this.now = cycle & 255;
  }

  /** An early read of each cache line of slot's record; returns their sum (see Prefetching.prefetch). */
  prefetch(slot: number): number {
    const records = this.records;
    const base = slot * this.stride;
    let sum = 0;
    // One word per 64-byte line (the records are line-aligned: see line-aligned.ts).
    for (let at = base, end = base + this.stride; at < end; at += 16) sum += records[at];
    return sum;
  }

  /** Index of the oldest of the n entries of the record at `base` (the first one on ties); 0 when empty. */
  oldestIndex(base: number, n: number): number {
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
   * while that node is live (-1 otherwise: see the constructor and Cyclon.onLeave).
   */
  slotOf(id: number): number {
    if (id < this.capacity && this.records[id * this.stride + this.cache + 1] === id) return id;
    return this.slotOfId[id];
  }

  /**
   * Takes the oldest of the n entries of the record at `pBase` (at index `oldest`, or
   * found when -1) out of the cache, moving the last entry into its place; returns its id.
   */
  takeOldest(pBase: number, n: number, oldest: number): number {
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
   * P's offer, once its contact's entry is out of its n entries: itself (age 0) and
   * min(l - 1, n) of its entries drawn at random, written to ids[idsAt...] and
   * stamps[stampsAt...]; the positions they come from go to `sent`, in draw order.
   * Returns how many entries it offers.
   */
  offer(pBase: number, n: number, shuffle: number, sent: Int32Array, ids: Int32Array, idsAt: number, stamps: Uint8Array, stampsAt: number): number {
    const records = this.records;
    const own = this.stamps;
    const pStamps = pBase * 4 + this.stampOffset;
    const picked = Math.min(shuffle - 1, n);
    this.pickRandom(sent, n, picked);
    ids[idsAt] = records[pBase + this.cache + 1];
    stamps[stampsAt] = this.now;
    for (let k = 0; k < picked; k++) {
      const at = sent[k];
      ids[idsAt + k + 1] = records[pBase + at];
      stamps[stampsAt + k + 1] = own[pStamps + at];
    }
    return picked + 1;
  }

  /**
   * Q's answer to an offer of `offered` entries: l of its entries (or all it has) drawn
   * at random, written to replyIds[replyAt...] and replyStamps[replyStampsAt...]; then
   * it merges the offer over the positions it answered from (`sent`). Uses up
   * `offerIds`. Returns how many entries it answers with.
   */
  answer(
    qBase: number, shuffle: number, offerIds: Int32Array, offerStamps: Uint8Array, offered: number, sent: Int32Array,
    replyIds: Int32Array, replyAt: number, replyStamps: Uint8Array, replyStampsAt: number,
  ): number {
    const records = this.records;
    const own = this.stamps;
    const qStamps = qBase * 4 + this.stampOffset;
    const nq = records[qBase + this.cache];
    const answered = Math.min(shuffle, nq);
    this.pickRandom(sent, nq, answered);
    for (let k = 0; k < answered; k++) {
      const at = sent[k];
      replyIds[replyAt + k] = records[qBase + at];
      replyStamps[replyStampsAt + k] = own[qStamps + at];
    }
    records[qBase + this.cache] = this.merge(qBase, qStamps, nq, records[qBase + this.cache + 1], offerIds, offerStamps, offered, sent, answered);
    return answered;
  }

  /**
   * P merges Q's answer into its n entries, over the positions the entries it offered
   * (after itself) sit at (`sent[0..sentCount-1]`). Uses up `ids`.
   */
  mergeAnswer(pBase: number, n: number, ids: Int32Array, stamps: Uint8Array, count: number, sent: Int32Array, sentCount: number): void {
    const records = this.records;
    records[pBase + this.cache] = this.merge(pBase, pBase * 4 + this.stampOffset, n, records[pBase + this.cache + 1], ids, stamps, count, sent, sentCount);
  }

  /**
   * Puts k distinct positions drawn uniformly from 0..n-1 in picks[0..k-1], in draw
   * order: by rejection (a position already drawn is drawn again), a uniformly random
   * ordered choice, as a partial Fisher-Yates gives.
   */
  pickRandom(picks: Int32Array, n: number, k: number): void {
    const draw = this.draw;
    if (n <= 32) {
      // Two positions per draw: Alea (engine/random.ts) yields multiples of 2^-32, so u * n
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
  merge(
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

  /** Whether the first n entries of the record at `base` include `id`. */
  holds(base: number, n: number, id: number): boolean {
    for (let i = 0; i < n; i++) if (this.records[base + i] === id) return true;
    return false;
  }
}
