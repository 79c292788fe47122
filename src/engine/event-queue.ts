/**
 * The future event set of the event-driven engine: a timing wheel of 1 ms buckets
 * over a window of 2^windowBits ms (default 2^16 ms, about 65 s), plus a binary heap
 * for events beyond the window. Events pop in (time, sequence) order, where the
 * sequence number is taken from a counter when the event is scheduled: ties at one
 * time resolve first-scheduled-first, identically on every run.
 *
 * Why a wheel and not a heap: with 10^6-10^7 pending events a heap's sift path
 * touches ~20 random cache lines per operation. Here a schedule appends to a
 * bucket (whose tail was written moments ago, so it is in cache) and a pop reads
 * the current bucket front to back.
 *
 * Why blocks and not a linked list of events: a linked list makes every pop wait for
 * the previous pop's cache miss (the next pointer lives in the event just read). A
 * bucket here is a chain of blocks of 32 events stored contiguously, so pops within
 * a block stream through memory and the CPU prefetches ahead; only every 32nd pop
 * follows a pointer. (experiments/perf/event-queue.mjs at 10^6 nodes: blocks of 8,
 * 16, 32 and 64 events took 72, 58, 51 and 47 ns per event, a linked list of events
 * 170 ns; 64 would waste twice the memory on sparse buckets.) Each event is a
 * 32-byte record, two per cache line:
 *
 *   float64 [0] time (ms)   float64 [1] sequence
 *   int32   [4] kind   [5] destination   [6] sender   [7] payload
 *
 * Blocks live in one ArrayBuffer that doubles when full; free blocks are chained
 * and reused last-freed-first (still in cache). Memory is 32 bytes per pending event
 * plus at most one partly filled block (1 KB) per non-empty bucket: negligible when
 * buckets are dense (10^6 nodes: ~1 MB), at most 64 MB with the default window when
 * every bucket holds a single event.
 *
 * How (time, sequence) order is kept:
 * - Buckets are appended at the tail. With integer times a new event always sorts
 *   after the tail (same or later time, higher sequence), so buckets stay sorted for
 *   free. An append that would break the order (a fractional time earlier than the
 *   tail's) marks the bucket unsorted, and the bucket is sorted in place when the
 *   cursor reaches it.
 * - The cursor's own bucket is never marked: an event that cannot be appended to it
 *   in order goes to `early`, a small heap, and a pop takes the smaller of `early`'s
 *   top and the bucket's front. `early` also takes events before the cursor, which
 *   can arrive after `peekTime()` moved the cursor past empty buckets.
 * - Events beyond the window wait in `overflow`, a heap ordered by (time, sequence).
 *   They move into the wheel, in that order, the moment the window reaches their
 *   millisecond, before anything else can be scheduled there; so a bucket receives
 *   its overflow events before any event scheduled into it directly (which has a
 *   higher sequence), and FIFO holds across migration.
 *
 * Sorting costs: fractional times run at about a third of the integer speed (still
 * twice a heap's), so an engine that rounds latencies to whole ms stays on the
 * fast path.
 *
 * `pop()` allocates nothing (beyond growing the sort scratch space, once, to the
 * largest bucket ever sorted): the popped event is read through `now`, `kind`,
 * `destination`, `sender`, `payload` and `sequence`, valid until the next pop.
 */
import { sortEntries } from './bucket-sort.js';
import { before, EventHeap } from './event-heap.js';

/** Plain data for checkpoints: typed arrays and numbers only (structuredClone-able). */
export interface EventQueueSnapshot {
  readonly windowBits: number;
  /** Time of the last popped event (0 before the first pop). */
  readonly now: number;
  /** Sequence number the next scheduled event will get. */
  readonly nextSequence: number;
  /** Fields of the last popped event (0 before the first pop). */
  readonly lastKind: number;
  readonly lastDestination: number;
  readonly lastSender: number;
  readonly lastPayload: number;
  readonly lastSequence: number;
  /** The pending events, one entry per event in each array. */
  readonly times: Float64Array;
  readonly sequences: Float64Array;
  readonly kinds: Uint8Array;
  readonly destinations: Int32Array;
  readonly senders: Int32Array;
  readonly payloads: Int32Array;
}

export interface EventQueueOptions {
  /** Events stored up front (default 1024); the queue doubles its storage as needed. */
  readonly capacity?: number;
  /** log2 of the wheel window in ms (default 16: 65 536 buckets of 1 ms, 576 KB). */
  readonly windowBits?: number;
}

/** Float64 and int32 slots per record, and the int32 offsets of the fields. */
const F64_PER_RECORD = 4;
const I32_PER_RECORD = 8;
const KIND = 4;
const DESTINATION = 5;
const SENDER = 6;
const PAYLOAD = 7;
/** Records per block. */
const BLOCK_BITS = 5;
const BLOCK = 1 << BLOCK_BITS;
/** Up to 2^52, doubles hold every integer ms and `cursor + window` exactly. */
const MAX_TIME = 2 ** 52;
const MAX_BLOCKS = 2 ** 24;

export class EventQueue {
  readonly windowBits: number;
  private readonly window: number;
  private readonly mask: number;

  /** Block storage (see the file comment): record r of block b is at index b * BLOCK + r, through two views. */
  private records: Float64Array;
  private ints: Int32Array;
  /** Per block: the next block of its bucket (or of the free chain), -1 at the end; and records written. */
  private blockNext: Int32Array;
  private blockFill: Int32Array;
  private blockCapacity: number;
  /** Blocks at or above this index have never been used; below it, unused ones are on the free chain. */
  private blockHighWater = 0;
  private freeBlock = -1;

  /** Bucket b: head block at [2b], tail block at [2b + 1], -1 when empty (one cache line holds both). */
  private readonly buckets: Int32Array;
  /** 1 while bucket b is out of (time, sequence) order; never set on the cursor's bucket. */
  private readonly unsorted: Uint8Array;
  /** The millisecond the cursor's bucket stands for, that bucket's index, and the next record to read in its head block. */
  private cursor = 0;
  private cursorBucket = 0;
  private readPosition = 0;
  private readonly early = new EventHeap(64);
  private readonly overflow = new EventHeap(64);
  /** floor(time) of overflow's earliest event, or Infinity: checked at every cursor step. */
  private overflowFloor = Infinity;
  private count = 0;
  private sequenceCounter = 0;
  /** Whether an event with a fractional time was ever filed (until then buckets are sorted by construction). */
  private fractional = false;

  /** Scratch space for sorting one bucket; grows to the largest bucket sorted. */
  private sortTimes = new Float64Array(BLOCK);
  private sortSequences = new Float64Array(BLOCK);
  private sortOrder = new Int32Array(BLOCK);
  private sortRecords = new Int32Array(BLOCK * I32_PER_RECORD);

  private _now = 0;
  private _sequence = 0;
  private _kind = 0;
  private _destination = 0;
  private _sender = 0;
  private _payload = 0;

  constructor(options: EventQueueOptions = {}) {
    const { capacity = 1024, windowBits = 16 } = options;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_BLOCKS * BLOCK) throw new RangeError(`event queue capacity must be an integer in [1, 2^28], got ${capacity}`);
    if (!Number.isInteger(windowBits) || windowBits < 0 || windowBits > 24) throw new RangeError(`event queue windowBits must be an integer in [0, 24], got ${windowBits}`);
    this.windowBits = windowBits;
    this.window = 2 ** windowBits;
    this.mask = this.window - 1;
    this.blockCapacity = Math.ceil(capacity / BLOCK);
    const buffer = new ArrayBuffer(this.blockCapacity * BLOCK * I32_PER_RECORD * 4);
    this.records = new Float64Array(buffer);
    this.ints = new Int32Array(buffer);
    this.blockNext = new Int32Array(this.blockCapacity);
    this.blockFill = new Int32Array(this.blockCapacity);
    this.buckets = new Int32Array(2 * this.window).fill(-1);
    this.unsorted = new Uint8Array(this.window);
  }

  /** Number of pending events. */
  get size(): number { return this.count; }
  /** Event records allocated in the wheel (32 bytes each); grows by doubling, never shrinks. */
  get capacity(): number { return this.blockCapacity * BLOCK; }
  /** Current simulated time: the time of the last popped event (0 before the first pop). */
  get now(): number { return this._now; }
  /** Kind of the last popped event (0..255). */
  get kind(): number { return this._kind; }
  get destination(): number { return this._destination; }
  get sender(): number { return this._sender; }
  get payload(): number { return this._payload; }
  /** Sequence number of the last popped event: its rank in scheduling order. */
  get sequence(): number { return this._sequence; }

  /**
   * Schedules an event. `time` is in ms, no earlier than `now` and at most 2^52
   * (142 700 years); `kind` is an integer in [0, 255]; the other three are int32.
   * Throws a RangeError otherwise.
   */
  schedule(time: number, kind: number, destination: number, sender: number, payload: number): void {
    if (!(time >= this._now && time <= MAX_TIME)) {
      throw new RangeError(`cannot schedule an event at time ${time}: it must be at most 2^52 ms and not before now (${this._now})`);
    }
    if ((kind & 255) !== kind || (destination | 0) !== destination || (sender | 0) !== sender || (payload | 0) !== payload) {
      throw new RangeError(`bad event fields: kind ${kind} (integer in 0..255), destination ${destination}, sender ${sender}, payload ${payload} (int32)`);
    }
    this.count++;
    this.file(time, this.sequenceCounter++, kind, destination, sender, payload);
  }

  /** Pops the earliest event into `now`, `kind`, `destination`, `sender`, `payload`, `sequence`; false when empty. */
  pop(): boolean {
    return this.popUntil(Infinity);
  }

  /** Pops the earliest event, as `pop` does, if it is due at or before `limit`; false otherwise. */
  popUntil(limit: number): boolean {
    if (this.count === 0) return false;
    const early = this.early;
    let at = this.cursorBucket << 1;
    if (this.buckets[at] === -1 && early.size === 0) {
      this.advance();
      at = this.cursorBucket << 1;
    }
    const block = this.buckets[at];
    const r = block * BLOCK + this.readPosition;
    const records = this.records;
    if (early.size !== 0 && (block === -1 || before(early.times[0], early.sequences[0], records[r * F64_PER_RECORD], records[r * F64_PER_RECORD + 1]))) {
      if (early.times[0] > limit) return false;
      this.count--;
      early.pop();
      this._now = early.time;
      this._sequence = early.sequence;
      this._kind = early.kind;
      this._destination = early.destination;
      this._sender = early.sender;
      this._payload = early.payload;
      return true;
    }
    const time = records[r * F64_PER_RECORD];
    if (time > limit) return false;
    this.count--;
    const ints = this.ints;
    this._now = time;
    this._sequence = records[r * F64_PER_RECORD + 1];
    this._kind = ints[r * I32_PER_RECORD + KIND];
    this._destination = ints[r * I32_PER_RECORD + DESTINATION];
    this._sender = ints[r * I32_PER_RECORD + SENDER];
    this._payload = ints[r * I32_PER_RECORD + PAYLOAD];
    if (++this.readPosition === this.blockFill[block]) {
      // Block read to the end: only a bucket's last block can be partly filled, so
      // either the bucket goes on in the next block or it is empty.
      const next = this.blockNext[block];
      this.buckets[at] = next;
      if (next === -1) this.buckets[at + 1] = -1;
      this.readPosition = 0;
      this.blockNext[block] = this.freeBlock;
      this.freeBlock = block;
    }
    return true;
  }

  /**
   * Where the event `k` places after the next one to pop sits in `fields` (its kind at
   * +4, destination +5, sender +6, payload +7), looking no further than the next block
   * of the cursor's bucket; -1 if it is not there. Ignores `early`, so it may name an
   * event that pops later than k places on: it is for early reads of the state that
   * upcoming events will touch, never for deciding anything.
   */
  ahead(k: number): number {
    let block = this.buckets[this.cursorBucket << 1];
    if (block === -1) return -1;
    let position = this.readPosition + k;
    const fill = this.blockFill[block];
    if (position >= fill) {
      block = this.blockNext[block];
      if (block === -1) return -1;
      position -= fill;
      if (position >= this.blockFill[block]) return -1;
    }
    return (block * BLOCK + position) * I32_PER_RECORD;
  }

  /**
   * `ahead(k)` for k = from .. to - 1 into out[0..], stopping at the first -1; returns
   * how many it wrote. One walk of the blocks instead of one per k.
   */
  aheadInto(from: number, to: number, out: Int32Array): number {
    let block = this.buckets[this.cursorBucket << 1];
    if (block === -1) return 0;
    let position = this.readPosition + from;
    let fill = this.blockFill[block];
    let hopped = false;
    let n = 0;
    for (let k = from; k < to; k++, position++) {
      if (position >= fill) {
        if (hopped) break;
        hopped = true;
        block = this.blockNext[block];
        if (block === -1) break;
        position -= fill;
        fill = this.blockFill[block];
        if (position >= fill) break;
      }
      out[n++] = (block * BLOCK + position) * I32_PER_RECORD;
    }
    return n;
  }

  /** The wheel's event records as int32s, for `ahead` (replaced when the queue grows). */
  get fields(): Int32Array { return this.ints; }

  /** Time of the next event to pop, or Infinity when the queue is empty. */
  peekTime(): number {
    if (this.count === 0) return Infinity;
    const early = this.early;
    if (this.buckets[this.cursorBucket << 1] === -1 && early.size === 0) this.advance();
    const block = this.buckets[this.cursorBucket << 1];
    const r = block * BLOCK + this.readPosition;
    if (early.size !== 0 && (block === -1 || before(early.times[0], early.sequences[0], this.records[r * F64_PER_RECORD], this.records[r * F64_PER_RECORD + 1]))) {
      return early.times[0];
    }
    return this.records[r * F64_PER_RECORD];
  }

  /** The queue as plain data; `EventQueue.fromSnapshot` resumes it with an identical sequence of pops. */
  snapshot(): EventQueueSnapshot {
    const n = this.count;
    const times = new Float64Array(n);
    const sequences = new Float64Array(n);
    const kinds = new Uint8Array(n);
    const destinations = new Int32Array(n);
    const senders = new Int32Array(n);
    const payloads = new Int32Array(n);
    let i = 0;
    // Buckets from the cursor on, front to back, then the heaps: restoring in this
    // order refills each bucket in the order it had, sorted where it was sorted.
    for (let offset = 0; offset < this.window; offset++) {
      const b = (this.cursorBucket + offset) & this.mask;
      let first = offset === 0 ? this.readPosition : 0;
      for (let block = this.buckets[b << 1]; block !== -1; block = this.blockNext[block]) {
        for (let r = block * BLOCK + first; r < block * BLOCK + this.blockFill[block]; r++) {
          times[i] = this.records[r * F64_PER_RECORD];
          sequences[i] = this.records[r * F64_PER_RECORD + 1];
          kinds[i] = this.ints[r * I32_PER_RECORD + KIND];
          destinations[i] = this.ints[r * I32_PER_RECORD + DESTINATION];
          senders[i] = this.ints[r * I32_PER_RECORD + SENDER];
          payloads[i] = this.ints[r * I32_PER_RECORD + PAYLOAD];
          i++;
        }
        first = 0;
      }
    }
    for (const heap of [this.early, this.overflow]) {
      times.set(heap.times.subarray(0, heap.size), i);
      sequences.set(heap.sequences.subarray(0, heap.size), i);
      kinds.set(heap.kinds.subarray(0, heap.size), i);
      destinations.set(heap.destinations.subarray(0, heap.size), i);
      senders.set(heap.senders.subarray(0, heap.size), i);
      payloads.set(heap.payloads.subarray(0, heap.size), i);
      i += heap.size;
    }
    return {
      windowBits: this.windowBits,
      now: this._now,
      nextSequence: this.sequenceCounter,
      lastKind: this._kind,
      lastDestination: this._destination,
      lastSender: this._sender,
      lastPayload: this._payload,
      lastSequence: this._sequence,
      times, sequences, kinds, destinations, senders, payloads,
    };
  }

  /** Rebuilds a queue from `snapshot()`'s data (pop order depends only on the events' (time, sequence)). */
  static fromSnapshot(snapshot: EventQueueSnapshot, options: Omit<EventQueueOptions, 'windowBits'> = {}): EventQueue {
    const { times, sequences, kinds, destinations, senders, payloads, now, nextSequence } = snapshot;
    const n = times.length;
    if ([sequences, kinds, destinations, senders, payloads].some((a) => a.length !== n)) throw new RangeError('event queue snapshot: arrays of different lengths');
    if (!(now >= 0 && now <= MAX_TIME) || !Number.isSafeInteger(nextSequence) || nextSequence < 0) {
      throw new RangeError(`event queue snapshot: bad now (${now}) or nextSequence (${nextSequence})`);
    }
    const queue = new EventQueue({ capacity: Math.max(options.capacity ?? 1024, n), windowBits: snapshot.windowBits });
    queue._now = now;
    queue.cursor = Math.floor(now);
    // The events come bucket by bucket, then from the heaps in heap order: each is
    // checked against its bucket's tail (and the bucket marked for sorting if need be).
    queue.fractional = true;
    for (let i = 0; i < n; i++) {
      const sequence = sequences[i];
      if (!(times[i] >= now && times[i] <= MAX_TIME) || !Number.isInteger(sequence) || sequence < 0 || sequence >= nextSequence) {
        throw new RangeError(`event queue snapshot: event ${i} has time ${times[i]} and sequence ${sequence} (now ${now}, next sequence ${nextSequence})`);
      }
      queue.count++;
      queue.file(times[i], sequence, kinds[i], destinations[i], senders[i], payloads[i]);
    }
    queue.fractional = times.some((time) => time !== Math.floor(time));
    queue.sequenceCounter = nextSequence;
    queue._sequence = snapshot.lastSequence;
    queue._kind = snapshot.lastKind;
    queue._destination = snapshot.lastDestination;
    queue._sender = snapshot.lastSender;
    queue._payload = snapshot.lastPayload;
    return queue;
  }

  /** Puts an event at the end of its bucket, in `early`, or in `overflow` (see the file comment). */
  private file(time: number, sequence: number, kind: number, destination: number, sender: number, payload: number): void {
    const floor = Math.floor(time);
    if (floor !== time) this.fractional = true;
    const offset = floor - this.cursor;
    if (offset >= this.window) {
      this.overflow.push(time, sequence, kind, destination, sender, payload);
      this.overflowFloor = Math.floor(this.overflow.times[0]);
      return;
    }
    if (offset < 0) {
      this.early.push(time, sequence, kind, destination, sender, payload);
      return;
    }
    const b = (this.cursorBucket + offset) & this.mask;
    const at = b << 1;
    let tail = this.buckets[at + 1];
    if (tail === -1) {
      tail = this.takeBlock();
      this.buckets[at] = tail;
      this.buckets[at + 1] = tail;
      this.unsorted[b] = 0;
    } else {
      const last = tail * BLOCK + this.blockFill[tail] - 1;
      // While every time is a whole ms, an event sorts after its bucket's tail (same
      // time, later sequence) without a look at the tail.
      if (this.fractional && before(time, sequence, this.records[last * F64_PER_RECORD], this.records[last * F64_PER_RECORD + 1])) {
        if (offset === 0) {
          this.early.push(time, sequence, kind, destination, sender, payload);
          return;
        }
        this.unsorted[b] = 1;
      }
      if (this.blockFill[tail] === BLOCK) {
        const block = this.takeBlock();
        this.blockNext[tail] = block;
        this.buckets[at + 1] = block;
        tail = block;
      }
    }
    const r = tail * BLOCK + this.blockFill[tail]++;
    this.records[r * F64_PER_RECORD] = time;
    this.records[r * F64_PER_RECORD + 1] = sequence;
    const ints = this.ints;
    ints[r * I32_PER_RECORD + KIND] = kind;
    ints[r * I32_PER_RECORD + DESTINATION] = destination;
    ints[r * I32_PER_RECORD + SENDER] = sender;
    ints[r * I32_PER_RECORD + PAYLOAD] = payload;
  }

  /** An empty block, off the free chain if possible. */
  private takeBlock(): number {
    let block = this.freeBlock;
    if (block !== -1) {
      this.freeBlock = this.blockNext[block];
    } else {
      if (this.blockHighWater === this.blockCapacity) this.grow();
      block = this.blockHighWater++;
    }
    this.blockNext[block] = -1;
    this.blockFill[block] = 0;
    return block;
  }

  /**
   * Moves the cursor to the next non-empty bucket. Called when the cursor's bucket
   * and `early` are empty and events are pending. Each step lets the window take in
   * one more millisecond, and overflow events due in it move in at once.
   */
  private advance(): void {
    if (this.count === this.overflow.size) {
      // The wheel is empty: jump to the earliest overflow event. With every bucket
      // empty, the cursor's bucket may stand for any millisecond.
      this.cursor = this.overflowFloor;
      this.migrate();
    } else {
      const buckets = this.buckets;
      const mask = this.mask;
      do {
        this.cursorBucket = (this.cursorBucket + 1) & mask;
        this.cursor++;
        if (this.overflowFloor < this.cursor + this.window) this.migrate();
      } while (buckets[this.cursorBucket << 1] === -1);
    }
    if (this.unsorted[this.cursorBucket] === 1) this.sortBucket(this.cursorBucket);
  }

  /** Moves overflow events now inside the window into their buckets, earliest first. */
  private migrate(): void {
    const limit = this.cursor + this.window;
    const overflow = this.overflow;
    while (this.overflowFloor < limit) {
      overflow.pop();
      this.overflowFloor = overflow.size === 0 ? Infinity : Math.floor(overflow.times[0]);
      this.file(overflow.time, overflow.sequence, overflow.kind, overflow.destination, overflow.sender, overflow.payload);
    }
  }

  /** Rewrites bucket b's records in (time, sequence) order, in the same blocks. */
  private sortBucket(b: number): void {
    const at = b << 1;
    let n = 0;
    for (let block = this.buckets[at]; block !== -1; block = this.blockNext[block]) n += this.blockFill[block];
    if (n > this.sortOrder.length) {
      const size = 2 ** Math.ceil(Math.log2(n));
      this.sortTimes = new Float64Array(size);
      this.sortSequences = new Float64Array(size);
      this.sortOrder = new Int32Array(size);
      this.sortRecords = new Int32Array(size * I32_PER_RECORD);
    }
    const { records, ints, sortTimes, sortSequences, sortOrder, sortRecords } = this;
    // Copy the records out, as int32s: copying the int fields as float64s could
    // canonicalise bit patterns that happen to read as NaN.
    let i = 0;
    for (let block = this.buckets[at]; block !== -1; block = this.blockNext[block]) {
      for (let r = block * BLOCK; r < block * BLOCK + this.blockFill[block]; r++, i++) {
        for (let k = 0; k < I32_PER_RECORD; k++) sortRecords[i * I32_PER_RECORD + k] = ints[r * I32_PER_RECORD + k];
        sortTimes[i] = records[r * F64_PER_RECORD];
        sortSequences[i] = records[r * F64_PER_RECORD + 1];
        sortOrder[i] = i;
      }
    }
    sortEntries(sortTimes, sortSequences, sortOrder, 0, n - 1);
    i = 0;
    for (let block = this.buckets[at]; block !== -1; block = this.blockNext[block]) {
      for (let r = block * BLOCK; r < block * BLOCK + this.blockFill[block]; r++, i++) {
        const from = sortOrder[i] * I32_PER_RECORD;
        for (let k = 0; k < I32_PER_RECORD; k++) ints[r * I32_PER_RECORD + k] = sortRecords[from + k];
      }
    }
    this.unsorted[b] = 0;
  }

  private grow(): void {
    const blocks = this.blockCapacity * 2;
    if (blocks > MAX_BLOCKS) throw new RangeError('event queue is full (2^28 events in the wheel)');
    const buffer = new ArrayBuffer(blocks * BLOCK * I32_PER_RECORD * 4);
    new Uint8Array(buffer).set(new Uint8Array(this.records.buffer));
    this.records = new Float64Array(buffer);
    this.ints = new Int32Array(buffer);
    const next = new Int32Array(blocks);
    next.set(this.blockNext);
    this.blockNext = next;
    const fill = new Int32Array(blocks);
    fill.set(this.blockFill);
    this.blockFill = fill;
    this.blockCapacity = blocks;
  }
}
