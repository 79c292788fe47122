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
  /** slot -> id of the node in it (meaningful only while `alive[slot]`). */
  readonly idOf: Int32Array;
  /** slot -> 1 while a live node occupies it. */
  readonly alive: Uint8Array;
  /** slot -> 1 while its node is offline (suspended), keeping the slot. */
  readonly offline: Uint8Array;
  /** slot -> cycle (or time) at which its node joined. */
  readonly joinedAt: Float64Array;
  /** Attribute name -> value per slot. */
  readonly attributes = new Map<string, Float64Array>();

  /**
   * Once slots and ids differ: the live nodes' (id, slot) pairs, two words per bucket
   * (-1 in an empty bucket's slot word), at load at most 2/3. Empty before that.
   */
  private idTable = new Int32Array(0);
  /** Buckets of idTable minus one, and the shift that turns a 32-bit hash into a bucket. */
  private idMask = 0;
  private idShift = 32;
  /** A deprecated dense id -> slot table, kept only once idMap() was called (it grows with every id issued). */
  private denseIdMap: Int32Array | null = null;
  private nextId = 0;
  private everySlotIsItsId = true;
  /** Live slots packed densely (for O(1) removal and uniform picks), and each slot's index in it. */
  private readonly live: Int32Array;
  private readonly livePosition: Int32Array;
  private liveCount = 0;
  /**
   * Bit s set while slot s holds a live node: what `alive` says in one bit per slot, small
   * enough to stay in cache, which answers id -> slot while slots are ids (see slotOf).
   */
  private readonly liveBits: Int32Array;
  /** Stack of free slots; the next slot handed out is on top. */
  private readonly free: Int32Array;
  private freeCount: number;

  constructor(readonly capacity: number) {
    this.idOf = new Int32Array(capacity);
    this.alive = new Uint8Array(capacity);
    this.offline = new Uint8Array(capacity);
    this.joinedAt = new Float64Array(capacity);
    this.live = new Int32Array(capacity);
    this.livePosition = new Int32Array(capacity).fill(-1);
    this.liveBits = new Int32Array(Math.ceil(capacity / 32));
    this.free = new Int32Array(capacity);
    // Slot 0 on top, so the first nodes get slots 0, 1, 2... and ids equal to their slots.
    for (let i = 0; i < capacity; i++) this.free[i] = capacity - 1 - i;
    this.freeCount = capacity;
  }

  get size(): number { return this.liveCount; }

  /** Slots neither live nor offline: how many more nodes `add` can take. */
  get freeSlots(): number { return this.freeCount; }

  /** Number of ids ever issued: every id ever seen lies in [0, idsIssued). */
  get idsIssued(): number { return this.nextId; }

  /**
   * Whether every node issued so far got the slot equal to its id: true until churn
   * reuses a slot. Hot paths then find a node's slot without the id -> slot table.
   */
  get slotsAreIds(): boolean { return this.everySlotIsItsId; }

  /** Adds a node and returns its slot. O(1) amortised. */
  add(joinedAt: number): number {
    if (this.freeCount === 0) throw new Error(`node store is full (capacity ${this.capacity})`);
    const slot = this.free[--this.freeCount];
    const id = this.nextId++;
    this.idOf[slot] = id;
    this.alive[slot] = 1;
    this.liveBits[slot >> 5] |= 1 << slot;
    this.joinedAt[slot] = joinedAt;
    this.livePosition[slot] = this.liveCount;
    this.live[this.liveCount++] = slot;
    if (this.denseIdMap) this.setDense(id, slot);
    if (!this.everySlotIsItsId) this.insertId(id, slot);
    else if (slot !== id) this.buildIdTable(); // the first reused slot: from now on ids need the table
    return slot;
  }

  /** Removes the node in `slot` (live or offline) for good. O(1). Its id is never issued again. */
  remove(slot: number): void {
    if (this.offline[slot]) {
      this.offline[slot] = 0;
    } else {
      this.takeOffLiveList(slot);
    }
    this.free[this.freeCount++] = slot;
  }

  /** Takes the live node in `slot` offline: its id stops resolving, its slot and state stay. O(1). */
  suspend(slot: number): void {
    this.takeOffLiveList(slot);
    this.offline[slot] = 1;
  }

  /** Brings the offline node in `slot` back with its old id. O(1). */
  resume(slot: number, at: number): void {
    if (!this.offline[slot]) throw new Error(`slot ${slot} holds no offline node`);
    this.offline[slot] = 0;
    this.alive[slot] = 1;
    this.liveBits[slot >> 5] |= 1 << slot;
    this.joinedAt[slot] = at;
    this.livePosition[slot] = this.liveCount;
    this.live[this.liveCount++] = slot;
    if (this.denseIdMap) this.denseIdMap[this.idOf[slot]] = slot;
    if (!this.everySlotIsItsId) this.insertId(this.idOf[slot], slot);
  }

  private takeOffLiveList(slot: number): void {
    if (!this.alive[slot]) throw new Error(`slot ${slot} holds no live node`);
    if (this.denseIdMap) this.denseIdMap[this.idOf[slot]] = -1;
    if (!this.everySlotIsItsId) this.deleteId(this.idOf[slot]);
    this.alive[slot] = 0;
    this.liveBits[slot >> 5] &= ~(1 << slot);
    const position = this.livePosition[slot];
    const last = this.live[--this.liveCount];
    this.live[position] = last;
    this.livePosition[last] = position;
    this.livePosition[slot] = -1;
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
    return this.idTable.length + (this.denseIdMap?.length ?? 0);
  }

  /**
   * @deprecated Use slotOf: this dense id -> slot table grows with every id ever issued.
   * Kept, once asked for, for readers that index it directly. Re-read after adds (it may
   * grow) and after a restore.
   */
  idMap(): Int32Array {
    if (!this.denseIdMap) {
      this.denseIdMap = new Int32Array(Math.max(16, this.capacity, this.nextId)).fill(-1);
      for (let i = 0; i < this.liveCount; i++) this.denseIdMap[this.idOf[this.live[i]]] = this.live[i];
    }
    return this.denseIdMap;
  }

  /** The i-th live slot, 0 <= i < size (order changes as nodes leave). */
  liveSlot(i: number): number { return this.live[i]; }

  /** Copies the live slots into `out` (in the store's order) and returns how many there are. */
  copyLiveSlots(out: Int32Array): number {
    out.set(this.live.subarray(0, this.liveCount));
    return this.liveCount;
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
    // The id -> slot map follows from idOf and the live list: restore rebuilds it.
    const saved: Record<string, unknown> = {
      idOf: this.idOf, alive: this.alive, offline: this.offline, joinedAt: this.joinedAt,
      nextId: this.nextId, everySlotIsItsId: this.everySlotIsItsId,
      live: this.live.subarray(0, this.liveCount), livePosition: this.livePosition, liveBits: this.liveBits,
      free: this.free.subarray(0, this.freeCount), attributes: [...this.attributes.keys()],
    };
    for (const [name, values] of this.attributes) saved[`attribute:${name}`] = values;
    return saved;
  }

  /** Puts back what `save` gave, in place (a store of the same capacity and attributes). */
  restore(saved: Record<string, any>): void {
    const names = [...this.attributes.keys()];
    if (saved.attributes.join('\0') !== names.join('\0')) throw new Error(`node store: expected attributes ${names.join(', ')}, found ${saved.attributes.join(', ')}`);
    if (saved.idOf.length !== this.capacity) throw new Error(`node store: expected room for ${this.capacity} nodes, found ${saved.idOf.length}`);
    for (const key of ['idOf', 'alive', 'offline', 'joinedAt', 'livePosition', 'liveBits'] as const) this[key].set(saved[key]);
    for (const [name, values] of this.attributes) values.set(saved[`attribute:${name}`]);
    this.nextId = saved.nextId;
    this.everySlotIsItsId = saved.everySlotIsItsId;
    this.live.set(saved.live);
    this.liveCount = saved.live.length;
    this.free.set(saved.free);
    this.freeCount = saved.free.length;
    if (this.everySlotIsItsId) this.idTable = new Int32Array(0);
    else this.buildIdTable();
    if (this.denseIdMap) {
      // In place when it is long enough, so that a table taken from idMap() stays valid.
      if (this.denseIdMap.length < this.nextId) this.denseIdMap = new Int32Array(Math.max(this.nextId, 2 * this.denseIdMap.length));
      this.denseIdMap.fill(-1);
      for (let i = 0; i < this.liveCount; i++) this.denseIdMap[this.idOf[this.live[i]]] = this.live[i];
    }
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
    for (let i = 0; i < this.liveCount; i++) this.insertId(this.idOf[this.live[i]], this.live[i]);
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

  private setDense(id: number, slot: number): void {
    if (id >= this.denseIdMap!.length) {
      const grown = new Int32Array(this.denseIdMap!.length * 2).fill(-1);
      grown.set(this.denseIdMap!);
      this.denseIdMap = grown;
    }
    this.denseIdMap![id] = slot;
  }
}

/** 2^32 / golden ratio: multiplying by it spreads consecutive ids over the whole hash table. */
const FIBONACCI = 0x9e3779b9 | 0;
