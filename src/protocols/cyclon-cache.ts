import { bytesOf, lineAlignedInt32Array } from '../engine/line-aligned.js';
import type { StateDeclarations } from '../engine/state.js';

/** Words at the end of a record for the request its node has in flight: sequence, entries sent (0: none), send time (ms, mod 2^32). */
export const REQUEST_WORDS = 3;

/**
 * Which of Cyclon's rules a run follows: the published ones (the defaults) or a variant.
 * - ageing `initiator` (published): an entry ages by one each time its holder initiates
 *   a shuffle, and travels with its age; `clock` (variant): every entry ages by one each
 *   cycle wherever it sits (a birth cycle travels with it).
 * - duplicates `before-merge` (published): a received entry already in the cache as it
 *   was before the merge is discarded; `during-merge` (variant): checked against the
 *   cache as it is being overwritten, so an entry whose copy sat in a slot overwritten
 *   earlier in the same merge is kept.
 */
export interface CyclonRules {
  readonly ageing: 'initiator' | 'clock';
  readonly duplicates: 'before-merge' | 'during-merge';
}

export const PUBLISHED_RULES: CyclonRules = { ageing: 'initiator', duplicates: 'before-merge' };

/** Where the live nodes' ids lead: the node store (slotOf: the slot of a live id, else -1). */
export interface LiveIds {
  slotOf(id: number): number;
}

/** The larger of two keys below 2^30, without a branch. */
function maxKey(a: number, b: number): number {
  const d = a - b;
  return a - (d & (d >> 31));
}

/** Whether a word read over four stamp bytes of a byte view holds the first in its low byte (see oldestIndex). */
const littleEndian = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** The most bytes one typed array can span (V8 limits a typed array to 2^32 elements). */
const LARGEST_BYTE_VIEW = 2 ** 32;

/** 1 if `id` may be among the ids whose bits 0-4 and 5-9 set the two 32-bit filters (shift counts are taken mod 32). */
export function mayHold(low: number, high: number, id: number): number {
  return (low >>> id) & (high >>> (id >>> 5)) & 1;
}

/**
 * Every node's Cyclon cache, and the steps of a shuffle both engines take (the
 * cycle-driven exchange in cyclon.ts, the messages in cyclon-events.ts): P takes its
 * oldest entry out (takeOldest) and makes its offer (offer); Q answers and merges the
 * offer (answer); P merges the answer (mergeAnswer).
 *
 * Layout: one Int32 record per node slot, holding what one shuffle touches together:
 * `cache` neighbour ids, the entry count, the node's own id, then one byte per entry,
 * its stamp, and one byte for the node's clock, four to a word (byte k in bits 8 (k mod 4)
 * up of word k / 4: the order of bytes in memory on a little-endian machine), read
 * through a byte view of the records (stampView); beyond what one byte view can span (2^32
 * bytes: 33 million records of 128 bytes), through one byte view per run of whole records
 * (WideCyclonCaches). The same protocol code serves both: a process that builds only one
 * kind keeps its calls monomorphic. An entry's age is (clock + now - stamp)
 * mod 256, so that no entry is rewritten to age it:
 * - published ageing: the clock counts the shuffles the node initiated (mod 256) and
 *   `now` is 0. Every entry gets one older by one increment of the clock; an entry
 *   leaves with age clock - stamp and is stored with stamp clock - age.
 * - clock ageing: the clocks stay 0 and `now` is the cycle (mod 256); a stamp is the
 *   cycle the entry was created at. The same arithmetic carries -stamp in messages.
 * Ages stay far below 256: each shuffle a node initiates removes its oldest entry
 * (largest ages measured at 10^5 nodes, with churn or after a catastrophe: 24-36).
 * The owner's id word is -1 while no live node holds the slot (see slotOf). The event
 * engine keeps the node's request in flight in the record's last words (see requestAt).
 */
export class CyclonCaches {
  readonly cache: number;
  /** Words per node record (a multiple of 16: whole 64-byte cache lines). */
  readonly stride: number;
  /** Record of slot s starts at s * stride: ids, then the entry count (at + cache), then the owner's id (at + cache + 1). */
  readonly records: Int32Array;
  readonly rules: CyclonRules;
  readonly capacity: number;
  /** Word offset of the stamp bytes in a record: the entries' stamps, then the node's clock (byte `cache`). */
  readonly stampsAt: number;
  /** The records' memory as bytes, for the stamps (empty in WideCyclonCaches), and the stamps' byte offset in a record. */
  private readonly stamps: Uint8Array;
  protected readonly stampOffset: number;
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
  /** What every entry's age adds to its holder's clock: the cycle (mod 256) under clock ageing, else 0 (set by refresh). */
  now = 0;
  /** What one shuffle a node initiates adds to its clock: 1 under published ageing, else 0. */
  private readonly tick: number;
  /** The published discard rule: duplicates are those held before the merge. */
  private readonly heldBeforeMerge: boolean;
  /** Marks of the positions drawn so far, for caches too large for a 32-bit mask. */
  private readonly taken: Uint8Array;

  /**
   * `draw` is the protocol stream's generator itself (Random keeps it private): called
   * from here, it is inlined, whereas Random.int's call site is shared by every stream.
   * With `state`, the records are declared there (checkpoints save them).
   */
  constructor(
    cache: number, capacity: number, private readonly ids: LiveIds, private readonly draw: () => number,
    rules: CyclonRules = PUBLISHED_RULES, state?: StateDeclarations,
  ) {
    this.cache = cache;
    this.rules = rules;
    this.tick = rules.ageing === 'initiator' ? 1 : 0;
    this.heldBeforeMerge = rules.duplicates === 'before-merge';
    // The stamps and, in the byte after them, the clock.
    this.requestAt = cache + 2 + Math.ceil((cache + 1) / 4);
    this.stride = CyclonCaches.strideFor(cache);
    this.positionsAt = cache <= 32 && this.requestAt + REQUEST_WORDS < this.stride ? this.requestAt + REQUEST_WORDS : -1;
    this.capacity = capacity;
    const wide = this.spansManyByteViews();
    if (!wide && 4 * capacity * this.stride > LARGEST_BYTE_VIEW) {
      throw new Error(`Cyclon caches of ${capacity} nodes need more than one byte view can span: use CyclonCaches.create`);
    }
    const records = lineAlignedInt32Array(capacity * this.stride);
    for (let slot = 0; slot < capacity; slot++) records[slot * this.stride + cache + 1] = -1;
    this.records = state ? state.array('records', records) : records;
    this.stampsAt = cache + 2;
    this.stampOffset = 4 * this.stampsAt;
    this.stamps = wide ? new Uint8Array(0) : bytesOf(this.records);
    this.taken = new Uint8Array(cache);
  }

  /** Caches as the constructor makes them, or WideCyclonCaches when their records exceed one byte view. */
  static create(
    cache: number, capacity: number, ids: LiveIds, draw: () => number, rules: CyclonRules = PUBLISHED_RULES, state?: StateDeclarations,
  ): CyclonCaches {
    return 4 * capacity * CyclonCaches.strideFor(cache) > LARGEST_BYTE_VIEW
      ? new WideCyclonCaches(cache, capacity, ids, draw, rules, state)
      : new CyclonCaches(cache, capacity, ids, draw, rules, state);
  }

  /** Words per record for caches of size `cache` (see the constructor). */
  static strideFor(cache: number): number {
    return Math.ceil((cache + 2 + Math.ceil((cache + 1) / 4) + REQUEST_WORDS) / 16) * 16;
  }

  /** Whether the records need more than one byte view (WideCyclonCaches). */
  protected spansManyByteViews(): boolean {
    return false;
  }

  /** What may change between sweeps or events: the cycle. */
  refresh(cycle: number): void {
    this.now = this.tick === 1 ? 0 : cycle & 255;
  }

  /** Stamp byte k of the record at `base`: entry k's stamp, or for k = cache the node's clock. */
  stampAt(base: number, k: number): number {
    return this.stampView(base)[this.stampIndex(base) + k];
  }

  /** Sets stamp byte k of the record at `base` (see stampAt) to `value` mod 256. */
  setStampAt(base: number, k: number, value: number): void {
    this.stampView(base)[this.stampIndex(base) + k] = value; // mod 256, by the byte array
  }

  /*
   * The hot paths take a record's byte view and stampIndex once, into locals, and index
   * the view directly: reading each byte through a method (one the wide caches
   * overrode) cost about 3% more time per cycle (Cyclon at 10^6 nodes).
   */
  /** The byte view holding the stamps of the record at `base`. */
  protected stampView(base: number): Uint8Array {
    return this.stamps;
  }

  /**
   * Where in its byte view (stampView) the stamp bytes of the record at `base` start:
   * entry k's stamp is at stampIndex + k, the node's clock at stampIndex + cache.
   */
  protected stampIndex(base: number): number {
    return base * 4 + this.stampOffset;
  }

  /** The stamp an entry of age 0 gets in a record whose stamps start at `at` of `view` (see stampIndex, and the layout above). */
  private stampNow(view: Uint8Array, at: number): number {
    return (view[at + this.cache] + this.now) & 255;
  }

  /**
   * Step 1 of a shuffle its node initiates: every entry of the record at `base` ages by
   * one. Published ageing: one tick of the node's clock; clock ageing: nothing (entries
   * age with the cycle).
   */
  ageEntries(base: number): void {
    const view = this.stampView(base);
    const clock = this.stampIndex(base) + this.cache;
    view[clock] += this.tick; // mod 256, by the byte array
  }

  /** Age of entry k of the record at `base`. */
  ageOf(base: number, k: number): number {
    const view = this.stampView(base);
    const at = this.stampIndex(base);
    return (this.stampNow(view, at) - view[at + k]) & 255;
  }

  /** Entry k of the record at `base` gets age 0 (a new entry: initial caches, a joining node's contacts). */
  stampNew(base: number, k: number): void {
    const view = this.stampView(base);
    const at = this.stampIndex(base);
    view[at + k] = this.stampNow(view, at);
  }

  /** Entries 0..count-1 of the record at `base` get age 0 (a new cache). */
  stampAllNew(base: number, count: number): void {
    const view = this.stampView(base);
    const at = this.stampIndex(base);
    view.fill(this.stampNow(view, at), at, at + count);
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
    const view = this.stampView(base);
    const stamps = this.stampIndex(base);
    const now = this.stampNow(view, stamps);
    // The largest key, age then lowest index, wins: no data-dependent branch.
    let best = 0;
    let k = 0;
    if (littleEndian) {
      // Four stamps per word, turned into four ages at once by a byte-wise
      // subtraction (no borrow crosses bytes).
      const records = this.records;
      const first = base + this.stampsAt;
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
    for (; k < n; k++) best = maxKey(best, (((now - view[stamps + k]) & 0xff) << 8) | (255 - k));
    return n === 0 ? 0 : 255 - (best & 0xff);
  }

  /**
   * Slot of the live node `id`, or -1. Until churn recycles slots, ids equal slots:
   * trying that first saves a random read of the id -> slot map, and costs nothing
   * since Q's record is read next anyway. A record's owner word names its node only
   * while that node is live (-1 otherwise: see the constructor and Cyclon.onLeave).
   */
  slotOf(id: number): number {
    if (id < this.capacity && this.records[id * this.stride + this.cache + 1] === id) return id;
    return this.ids.slotOf(id);
  }

  /**
   * Takes the oldest of the n entries of the record at `pBase` (at index `oldest`, or
   * found when -1) out of the cache, moving the last entry into its place; returns its id.
   */
  takeOldest(pBase: number, n: number, oldest: number): number {
    const records = this.records;
    const index = oldest >= 0 ? oldest : this.oldestIndex(pBase, n);
    const id = records[pBase + index];
    const last = n - 1;
    records[pBase + index] = records[pBase + last];
    const view = this.stampView(pBase);
    const stamps = this.stampIndex(pBase);
    view[stamps + index] = view[stamps + last];
    records[pBase + this.cache] = last;
    return id;
  }

  /**
   * P's offer, once its contact's entry is out of its n entries: itself (age 0) and
   * min(l - 1, n) of its entries drawn at random, written to ids[idsAt...] and, as they
   * travel (see copyOut), to ages[agesAt...]; the positions they come from go to
   * `sent`, in draw order. Returns how many entries it offers.
   */
  offer(pBase: number, n: number, shuffle: number, sent: Int32Array, ids: Int32Array, idsAt: number, ages: Uint8Array, agesAt: number): number {
    const picked = Math.min(shuffle - 1, n);
    this.pickRandom(sent, n, picked);
    ids[idsAt] = this.records[pBase + this.cache + 1];
    ages[agesAt] = -this.now; // an entry of age 0 (mod 256, by the byte array)
    this.copyOut(pBase, sent, picked, ids, idsAt + 1, ages, agesAt + 1);
    return picked + 1;
  }

  /**
   * The entries at positions[0..count-1] of the record at `base`, as they travel: ids to
   * ids[idsAt...], and to ages[agesAt...] the holder's clock minus each stamp (mod 256).
   * Under published ageing that is the entry's age; under clock ageing (clocks at 0),
   * minus its birth cycle. The receiver stores its own clock minus that byte (see merge).
   */
  private copyOut(base: number, positions: Int32Array, count: number, ids: Int32Array, idsAt: number, ages: Uint8Array, agesAt: number): void {
    const records = this.records;
    const view = this.stampView(base);
    const stamps = this.stampIndex(base);
    const clock = view[stamps + this.cache];
    for (let k = 0; k < count; k++) {
      const at = positions[k];
      ids[idsAt + k] = records[base + at];
      ages[agesAt + k] = clock - view[stamps + at]; // mod 256, by the byte array
    }
  }

  /**
   * Q's answer to an offer of `offered` entries: l of its entries (or all it has) drawn
   * at random, written to replyIds[replyAt...] and, as they travel, to
   * replyAges[replyAgesAt...]; then it merges the offer over the positions it answered
   * from (`sent`). Q's entries do not age: only a node's own shuffles age its cache.
   * Uses up `offerIds`. Returns how many entries it answers with.
   */
  answer(
    qBase: number, shuffle: number, offerIds: Int32Array, offerAges: Uint8Array, offered: number, sent: Int32Array,
    replyIds: Int32Array, replyAt: number, replyAges: Uint8Array, replyAgesAt: number,
  ): number {
    const records = this.records;
    const nq = records[qBase + this.cache];
    const answered = Math.min(shuffle, nq);
    this.pickRandom(sent, nq, answered);
    this.copyOut(qBase, sent, answered, replyIds, replyAt, replyAges, replyAgesAt);
    records[qBase + this.cache] = this.merge(qBase, nq, offerIds, offerAges, offered, sent, answered);
    return answered;
  }

  /**
   * P merges Q's answer into its n entries, over the positions the entries it offered
   * (after itself) sit at (`sent[0..sentCount-1]`). Uses up `ids`.
   */
  mergeAnswer(pBase: number, n: number, ids: Int32Array, ages: Uint8Array, count: number, sent: Int32Array, sentCount: number): void {
    this.records[pBase + this.cache] = this.merge(pBase, n, ids, ages, count, sent, sentCount);
  }

  /**
   * Puts k distinct positions drawn uniformly from 0..n-1 in picks[0..k-1], in draw
   * order: by rejection (a position already drawn is drawn again), a uniformly random
   * ordered choice, as a partial Fisher-Yates gives. May also write picks[k] (callers
   * on hot paths give it room: see Cyclon's sentP).
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
        // Without a branch on the draws (they are random: a branch on them is mispredicted
        // often): each digit is written at i, and kept (i advances) only if not drawn
        // before. Once i reaches k, at most picks[k] is also written, which no caller
        // reads (and past the array's end a typed array ignores the write).
        picks[i] = d1;
        i += ((taken >>> d1) & 1) ^ 1;
        taken |= 1 << d1;
        picks[i] = d2;
        i += ((taken >>> d2) & 1) ^ 1;
        taken |= 1 << d2;
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
   * Cyclon's merge of `count` incoming entries (ids and, as they travel, ages: see
   * copyOut) into the cache of n entries of the record at `base`: drop entries naming
   * the owner or already held (see CyclonRules.duplicates); fill empty slots first,
   * then overwrite the slots whose entries were sent away (sent[0..sentCount-1], in
   * order). Returns the new count. Uses up `ids`.
   */
  merge(base: number, n: number, ids: Int32Array, ages: Uint8Array, count: number, sent: Int32Array, sentCount: number): number {
    const records = this.records;
    const selfId = records[base + this.cache + 1];
    // An entry that travels as a is stored with stamp clock - a (see copyOut).
    const view = this.stampView(base);
    const stamps = this.stampIndex(base);
    const clock = view[stamps + this.cache];
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
    // The published rule ends here: what the cache held before the merge stays held.
    if (this.heldBeforeMerge) held = 0;
    let replaced = 0;
    for (let e = 0; e < count; e++) {
      const id = ids[e];
      if (id < 0 || id === selfId) continue;
      if (n < this.cache) {
        records[base + n] = id;
        view[stamps + n] = clock - ages[e]; // mod 256, by the byte array
        n++;
      } else if (replaced < sentCount) {
        const index = sent[replaced++];
        // The variant: once overwritten, the entry sent from there no longer counts as
        // held (the incoming ids being distinct, only one can name it).
        if (held > 0) {
          const mark = -1 - index;
          for (let later = e + 1; later < count; later++) {
            if (ids[later] === mark) { ids[later] = records[base + index]; held--; break; }
          }
        }
        records[base + index] = id;
        view[stamps + index] = clock - ages[e];
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

/**
 * Caches too large for one byte view (more than 2^32 bytes of records): the same
 * layout, the stamps read through one byte view per run of whole records, each
 * within what one view can span.
 */
export class WideCyclonCaches extends CyclonCaches {
  /** Words of records each byte view covers (whole records), and the views in order. */
  private readonly wordsPerView = Math.max(1, Math.floor(this.viewBytes() / (4 * this.stride))) * this.stride;
  private readonly views = byteViews(this.records, this.wordsPerView);

  protected override spansManyByteViews(): boolean {
    return true;
  }

  /** The most bytes a view may span (tests make it a record or two, to cross views at small sizes). */
  protected viewBytes(): number {
    return LARGEST_BYTE_VIEW;
  }

  protected override stampView(base: number): Uint8Array {
    return this.views[Math.floor(base / this.wordsPerView)];
  }

  protected override stampIndex(base: number): number {
    return (base % this.wordsPerView) * 4 + this.stampOffset;
  }
}

/** Byte views of `records`, each of `words` words (the last of what remains). */
function byteViews(records: Int32Array, words: number): Uint8Array[] {
  const views = [];
  for (let first = 0; first < records.length; first += words) {
    views.push(new Uint8Array(records.buffer, records.byteOffset + 4 * first, 4 * Math.min(words, records.length - first)));
  }
  return views;
}
