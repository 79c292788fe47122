/**
 * The population: which slots hold live nodes, each node's id, join cycle and
 * attributes, all in typed arrays indexed by slot.
 *
 * Slots are recycled; ids are not. A node keeps its id for its whole life, and a
 * new node always gets a fresh id, so an id held in some cache after its node left
 * is detectably dead (`slotOf(id) === -1`), just as PeerSim's Node objects are.
 *
 * A node may also go offline and come back with its id, slot and protocol state
 * (a machine that reboots): `suspend` and `resume`. While offline it is not live,
 * its id resolves to -1, and its slot is kept for it.
 *
 * Id -> slot: until churn first reuses a slot, every node's slot is its id, and a live
 * bit per slot answers. From then on an open-addressing hash table of the live nodes
 * answers (linear probing, Fibonacci hashing, backward-shift deletion: no tombstones),
 * sized to the capacity, not to the ids ever issued, so that any amount of churn leaves
 * its size unchanged.
 */
export class NodeStore {
  /** slot -> id of the node in it (meaningful only while the slot is live). */
  readonly idOf: Int32Array;

  /*
   * What a run without churn never needs is not allocated: until a node first leaves or
   * goes offline, the live slots are 0, 1, 2... in order (no live list), no slot is free
   * below the next fresh one (no free list), no node is offline, and every node joined
   * at 0 (no join table). Each appears on first use, so a run without churn keeps 4
   * bytes and a bit per node here (idOf, liveBits), plus its attributes once read. Live
   * nodes are one bit per slot (liveBits); a byte per slot (`alive`) exists only once
   * some reader asks for it.
   */
  /** Bytes: slot -> 1 while live, once asked for (see `alive`). */
  private aliveBytes: Uint8Array | null = null;
  /** Bytes: slot -> 1 while offline, once a node went offline (or someone asked). */
  private offlineBytes: Uint8Array | null = null;
  /** slot -> cycle its node joined (or came back), once a node joined at a cycle other than 0. */
  private joinCycles: Int32Array | null = null;
  /** Attribute name -> value per slot (an attribute declared with deferAttribute is drawn when first read). */
  readonly attributes: Map<string, Float64Array>;

  /**
   * Once slots and ids differ: the live nodes' (id, slot) pairs, two words per bucket
   * (-1 in an empty bucket's slot word), at load at most 2/3. Empty before that.
   */
  private idTable = new Int32Array(0);
  /** Buckets of idTable minus one, and the shift that turns a 32-bit hash into a bucket. */
  private idMask = 0;
  private idShift = 32;
  private nextId = 0;
  private everySlotIsItsId = true;
  /**
   * Live slots packed densely (for O(1) removal and uniform picks), and each slot's index
   * in it; null while the live slots are exactly 0 .. size-1 in order (no node left yet).
   */
  private live: Int32Array | null = null;
  private livePosition: Int32Array | null = null;
  private liveCount = 0;
  /**
   * Bit s set while slot s holds a live node: one bit per slot, small enough to stay in
   * cache, which answers id -> slot while slots are ids (see slotOf).
   */
  private readonly liveBits: Int32Array;
  /** Slots never used yet are [fresh, capacity); used ones that became free are on the stack `free`, reused first (last freed first). */
  private fresh = 0;
  private free = new Int32Array(0);
  private freeCount = 0;

  constructor(readonly capacity: number) {
    this.attributes = new AttributeTable(capacity);
    this.idOf = new Int32Array(capacity);
    this.liveBits = new Int32Array(Math.ceil(capacity / 32));
  }

  get size(): number { return this.liveCount; }

  /** Slots neither live nor offline: how many more nodes `add` can take. */
  get freeSlots(): number { return this.freeCount + this.capacity - this.fresh; }

  /** Number of ids ever issued: every id ever seen lies in [0, idsIssued). */
  get idsIssued(): number { return this.nextId; }

  /**
   * Whether every node issued so far got the slot equal to its id: true until churn
   * reuses a slot. Hot paths then find a node's slot without the id -> slot table.
   */
  get slotsAreIds(): boolean { return this.everySlotIsItsId; }

  /** Whether `slot` holds a live node. */
  isLive(slot: number): boolean {
    return ((this.liveBits[slot >> 5] >>> slot) & 1) === 1;
  }

  /** Whether `slot` holds an offline node (see suspend). */
  isOffline(slot: number): boolean {
    return this.offlineBytes !== null && this.offlineBytes[slot] === 1;
  }

  /**
   * slot -> 1 while a live node occupies it, one byte per slot (read only). Built on first
   * use and kept up to date from then on; isLive and liveBitmap answer without it.
   */
  get alive(): Uint8Array {
    if (this.aliveBytes === null) {
      const alive = new Uint8Array(this.capacity);
      for (let slot = 0; slot < this.capacity; slot++) alive[slot] = (this.liveBits[slot >> 5] >>> slot) & 1;
      this.aliveBytes = alive;
    }
    return this.aliveBytes;
  }

  /** slot -> 1 while its node is offline (suspended), keeping the slot (read only). */
  get offline(): Uint8Array {
    return (this.offlineBytes ??= new Uint8Array(this.capacity));
  }

  /** slot -> cycle at which its node joined, or came back from offline (read only). */
  get joinedAt(): Int32Array {
    return (this.joinCycles ??= new Int32Array(this.capacity));
  }

  /** Adds a node joining at cycle `joinedAt` (an integer) and returns its slot. O(1) amortised. */
  add(joinedAt: number): number {
    let slot: number;
    if (this.freeCount > 0) slot = this.free[--this.freeCount];
    else if (this.fresh < this.capacity) slot = this.fresh++;
    else throw new Error(`node store is full (capacity ${this.capacity})`);
    const id = this.nextId++;
    this.idOf[slot] = id;
    this.markLive(slot, joinedAt);
    if (!this.everySlotIsItsId) this.insertId(id, slot);
    else if (slot !== id) this.buildIdTable(); // the first reused slot: from now on ids need the table
    return slot;
  }

  /** Removes the node in `slot` (live or offline) for good. O(1). Its id is never issued again. */
  remove(slot: number): void {
    if (this.isOffline(slot)) {
      this.offlineBytes![slot] = 0;
    } else {
      this.takeOffLiveList(slot);
    }
    if (this.freeCount === this.free.length) {
      const grown = new Int32Array(Math.min(this.capacity, Math.max(1024, 2 * this.free.length)));
      grown.set(this.free);
      this.free = grown;
    }
    this.free[this.freeCount++] = slot;
  }

  /** Takes the live node in `slot` offline: its id stops resolving, its slot and state stay. O(1). */
  suspend(slot: number): void {
    this.takeOffLiveList(slot);
    this.offline[slot] = 1;
  }

  /** Brings the offline node in `slot` back with its old id, at cycle `at`. O(1). */
  resume(slot: number, at: number): void {
    if (!this.isOffline(slot)) throw new Error(`slot ${slot} holds no offline node`);
    this.offlineBytes![slot] = 0;
    this.markLive(slot, at);
    if (!this.everySlotIsItsId) this.insertId(this.idOf[slot], slot);
  }

  private markLive(slot: number, joinedAt: number): void {
    this.liveBits[slot >> 5] |= 1 << slot;
    if (this.aliveBytes !== null) this.aliveBytes[slot] = 1;
    // Until someone joins at another cycle, every node joined at 0: the table would hold only zeros.
    if (joinedAt !== 0 || this.joinCycles !== null) this.joinedAt[slot] = joinedAt;
    if (this.live !== null) {
      this.livePosition![slot] = this.liveCount;
      this.live[this.liveCount] = slot;
    }
    this.liveCount++;
  }

  private takeOffLiveList(slot: number): void {
    if (!this.isLive(slot)) throw new Error(`slot ${slot} holds no live node`);
    if (!this.everySlotIsItsId) this.deleteId(this.idOf[slot]);
    if (this.aliveBytes !== null) this.aliveBytes[slot] = 0;
    this.liveBits[slot >> 5] &= ~(1 << slot);
    if (this.live === null) this.buildLiveList();
    const live = this.live!;
    const livePosition = this.livePosition!;
    const position = livePosition[slot];
    const last = live[--this.liveCount];
    live[position] = last;
    livePosition[last] = position;
    livePosition[slot] = -1;
  }

  /** The live list as it stands while no node has left: slots 0 .. size-1 in order. */
  private buildLiveList(): void {
    const live = new Int32Array(this.capacity);
    const livePosition = new Int32Array(this.capacity).fill(-1);
    for (let i = 0; i < this.liveCount; i++) live[i] = livePosition[i] = i;
    this.live = live;
    this.livePosition = livePosition;
  }

  /** Slot of a live node's id, or -1 if that node has left or is offline (or the id was never issued). O(1). */
  slotOf(id: number): number {
    if (this.everySlotIsItsId) return id >= 0 && id < this.capacity && ((this.liveBits[id >> 5] >>> id) & 1) === 1 ? id : -1;
    const table = this.idTable;
    const mask = this.idMask;
    let bucket = Math.imul(id, FIBONACCI) >>> this.idShift;
    for (;;) {
      const slot = table[2 * bucket + 1];
      if (slot < 0 || table[2 * bucket] === id) return slot;
      bucket = (bucket + 1) & mask;
    }
  }

  /** slotOf(id) for any int32 id (the same: kept as the event engine's name for it). */
  slotOfLiveId(id: number): number {
    return this.slotOf(id);
  }

  /**
   * An early read of where slotOf(id) will look (see Prefetching.prefetch): its bucket's
   * line once slots and ids differ. Returns what it read.
   */
  prefetchId(id: number): number {
    if (this.everySlotIsItsId) return 0;
    return this.idTable[2 * (Math.imul(id, FIBONACCI) >>> this.idShift)];
  }

  /**
   * Bit s (word s >> 5, bit s & 31) set while slot s holds a live node: `alive` in one bit
   * per slot, small enough to stay in cache, for loops that test millions of slots
   * (while slotsAreIds, an id is live iff its bit is set). Read only.
   */
  get liveBitmap(): Int32Array {
    return this.liveBits;
  }

  /** Words the id -> slot map holds now (for tests: it follows the capacity, never the ids issued). */
  get idMapWords(): number {
    return this.idTable.length;
  }

  /** The i-th live slot, 0 <= i < size (order changes as nodes leave). */
  liveSlot(i: number): number {
    const live = this.live;
    return live === null ? i : live[i];
  }

  /** Copies the live slots into `out` (in the store's order) and returns how many there are. */
  copyLiveSlots(out: Int32Array): number {
    const n = this.liveCount;
    if (this.live !== null) out.set(this.live.subarray(0, n));
    else for (let i = 0; i < n; i++) out[i] = i;
    return n;
  }

  /**
   * Declares a per-node attribute whose values `fill` writes when something first reads
   * it (through `attributes` or `attribute`), or at the latest when settleAttributes is
   * called: a run no part of which reads an attribute never holds its values. Until then
   * the population must not change (see settleAttributes).
   */
  deferAttribute(name: string, fill: (values: Float64Array) => void): void {
    (this.attributes as AttributeTable).defer(name, fill);
  }

  /** An attribute's values if drawn, else null (without drawing it: for checkpoints, which must change nothing). */
  drawnAttribute(name: string): Float64Array | null {
    return (this.attributes as AttributeTable).drawn(name);
  }

  /** Fills every deferred attribute now: called before the population first changes, which `fill` may depend on. */
  settleAttributes(): void {
    (this.attributes as AttributeTable).settle();
  }

  /** Declares a per-node attribute (zero-filled). */
  defineAttribute(name: string): Float64Array {
    let values = this.attributes.get(name);
    if (!values) {
      values = new Float64Array(this.capacity);
      this.attributes.set(name, values);
    }
    return values;
  }

  attribute(name: string): Float64Array {
    const values = this.attributes.get(name);
    if (!values) throw new Error(`unknown attribute "${name}" (defined: ${[...this.attributes.keys()].join(', ') || 'none'})`);
    return values;
  }

  /** The whole store as plain data, for checkpoints (arrays are views: write them out at once). */
  save(): Record<string, unknown> {
    // The id -> slot map follows from idOf and the live list, `alive` from liveBits: restore rebuilds them.
    const saved: Record<string, unknown> = {
      idOf: this.idOf, liveBits: this.liveBits, offline: this.offlineBytes, joinedAt: this.joinCycles,
      nextId: this.nextId, everySlotIsItsId: this.everySlotIsItsId, size: this.liveCount,
      live: this.live?.subarray(0, this.liveCount) ?? null, livePosition: this.livePosition,
      fresh: this.fresh, free: this.free.subarray(0, this.freeCount), attributes: [...this.attributes.keys()],
    };
    // An attribute not drawn yet stays so (its stream, saved apart, has not moved either).
    for (const name of this.attributes.keys()) saved[`attribute:${name}`] = this.drawnAttribute(name);
    return saved;
  }

  /**
   * Puts back what `save` gave, in place (a store of the same capacity and attributes):
   * a table taken from `alive`, `offline`, `joinedAt` or an attribute stays valid.
   */
  restore(saved: Record<string, any>): void {
    const names = [...this.attributes.keys()];
    if (saved.attributes.join('\0') !== names.join('\0')) throw new Error(`node store: expected attributes ${names.join(', ')}, found ${saved.attributes.join(', ')}`);
    if (saved.idOf.length !== this.capacity) throw new Error(`node store: expected room for ${this.capacity} nodes, found ${saved.idOf.length}`);
    this.idOf.set(saved.idOf);
    this.liveBits.set(saved.liveBits);
    // In place, or (an attribute not drawn yet) without drawing it: the saved values replace any draw.
    for (const name of names) (this.attributes as AttributeTable).restore(name, saved[`attribute:${name}`]);
    if (saved.offline) this.offline.set(saved.offline);
    else this.offlineBytes?.fill(0);
    if (saved.joinedAt) this.joinedAt.set(saved.joinedAt);
    else this.joinCycles?.fill(0);
    if (this.aliveBytes !== null) for (let slot = 0; slot < this.capacity; slot++) this.aliveBytes[slot] = (this.liveBits[slot >> 5] >>> slot) & 1;
    this.nextId = saved.nextId;
    this.everySlotIsItsId = saved.everySlotIsItsId;
    this.liveCount = saved.size;
    if (saved.live) {
      this.live ??= new Int32Array(this.capacity);
      this.livePosition ??= new Int32Array(this.capacity);
      this.live.set(saved.live);
      this.livePosition.set(saved.livePosition);
    } else {
      this.live = this.livePosition = null;
    }
    this.fresh = saved.fresh;
    this.free = Int32Array.from(saved.free);
    this.freeCount = saved.free.length;
    if (this.everySlotIsItsId) this.idTable = new Int32Array(0);
    else this.buildIdTable();
  }

  /** The hash table of the live nodes, from scratch: at least 3/2 as many buckets as slots (a power of two). */
  private buildIdTable(): void {
    let bits = 4;
    while (2 ** bits < 1.5 * this.capacity) bits++;
    if (this.idTable.length !== 2 ** (bits + 1)) this.idTable = new Int32Array(2 ** (bits + 1));
    this.idTable.fill(-1);
    this.idMask = 2 ** bits - 1;
    this.idShift = 32 - bits;
    this.everySlotIsItsId = false;
    for (let i = 0; i < this.liveCount; i++) this.insertId(this.idOf[this.liveSlot(i)], this.liveSlot(i));
  }

  private insertId(id: number, slot: number): void {
    const table = this.idTable;
    let bucket = Math.imul(id, FIBONACCI) >>> this.idShift;
    while (table[2 * bucket + 1] >= 0) bucket = (bucket + 1) & this.idMask;
    table[2 * bucket] = id;
    table[2 * bucket + 1] = slot;
  }

  /** Takes `id` out, then moves back each later entry of its run that may sit in the hole (Knuth's algorithm R). */
  private deleteId(id: number): void {
    const table = this.idTable;
    const mask = this.idMask;
    let hole = Math.imul(id, FIBONACCI) >>> this.idShift;
    while (table[2 * hole] !== id) hole = (hole + 1) & mask;
    for (let next = (hole + 1) & mask; table[2 * next + 1] >= 0; next = (next + 1) & mask) {
      const home = Math.imul(table[2 * next], FIBONACCI) >>> this.idShift;
      // The entry at `next` may move to the hole unless its home lies cyclically in (hole, next].
      if (((next - home) & mask) < ((next - hole) & mask)) continue;
      table[2 * hole] = table[2 * next];
      table[2 * hole + 1] = table[2 * next + 1];
      hole = next;
    }
    table[2 * hole + 1] = -1;
  }
}

/** 2^32 / golden ratio: multiplying by it spreads consecutive ids over the whole hash table. */
const FIBONACCI = 0x9e3779b9 | 0;

/**
 * The attributes by name, some of them drawn only when first read: reading values
 * (get, iteration) fills a deferred attribute first; names (keys, has, size) do not.
 */
class AttributeTable extends Map<string, Float64Array> {
  private readonly deferred = new Map<string, (values: Float64Array) => void>();

  constructor(private readonly capacity: number) {
    super();
  }

  defer(name: string, fill: (values: Float64Array) => void): void {
    // Keeps its place among the names, with no values yet.
    super.set(name, EMPTY);
    this.deferred.set(name, fill);
  }

  settle(): void {
    if (this.deferred.size === 0) return;
    for (const name of [...this.deferred.keys()]) this.get(name);
  }

  /** An attribute's values, or null while it is deferred (without drawing it). */
  drawn(name: string): Float64Array | null {
    return this.deferred.has(name) ? null : super.get(name)!;
  }

  /** Puts saved values (null: not drawn yet) in place; a deferred attribute gets them without being drawn. */
  restore(name: string, saved: Float64Array | null): void {
    if (saved === null) {
      if (!this.deferred.has(name)) throw new Error(`node store: attribute "${name}" was not drawn yet when saved, but is here`);
      return;
    }
    if (this.deferred.delete(name)) super.set(name, new Float64Array(this.capacity));
    super.get(name)!.set(saved);
  }

  override get(name: string): Float64Array | undefined {
    const fill = this.deferred.get(name);
    if (fill === undefined) return super.get(name);
    this.deferred.delete(name);
    const values = new Float64Array(this.capacity);
    super.set(name, values);
    fill(values);
    return values;
  }

  override set(name: string, values: Float64Array): this {
    this.deferred.delete(name);
    return super.set(name, values);
  }

  override delete(name: string): boolean {
    this.deferred.delete(name);
    return super.delete(name);
  }

  override clear(): void {
    this.deferred.clear();
    super.clear();
  }

  override values(): MapIterator<Float64Array> {
    this.settle();
    return super.values();
  }

  override entries(): MapIterator<[string, Float64Array]> {
    this.settle();
    return super.entries();
  }

  override [Symbol.iterator](): MapIterator<[string, Float64Array]> {
    return this.entries();
  }

  override forEach(callback: (value: Float64Array, key: string, map: Map<string, Float64Array>) => void, thisArg?: unknown): void {
    this.settle();
    super.forEach(callback, thisArg);
  }
}

const EMPTY = new Float64Array(0);
