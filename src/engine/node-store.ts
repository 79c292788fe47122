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

  /** id -> slot, or -1 once the node has left. Grows as ids are issued. */
  private slotOfId: Int32Array;
  private nextId = 0;
  private everySlotIsItsId = true;
  /** Live slots packed densely (for O(1) removal and uniform picks), and each slot's index in it. */
  private readonly live: Int32Array;
  private readonly livePosition: Int32Array;
  private liveCount = 0;
  /**
   * Bit s set while slot s holds a live node: what `alive` says in one bit per slot, 32
   * times smaller than the id -> slot table, so that the event engine's lookups stay in
   * cache (see slotOfLiveId).
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
    this.slotOfId = new Int32Array(Math.max(16, capacity)).fill(-1);
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
    if (id >= this.slotOfId.length) this.growIdMap();
    this.slotOfId[id] = slot;
    if (slot !== id) this.everySlotIsItsId = false;
    this.idOf[slot] = id;
    this.alive[slot] = 1;
    this.liveBits[slot >> 5] |= 1 << slot;
    this.joinedAt[slot] = joinedAt;
    this.livePosition[slot] = this.liveCount;
    this.live[this.liveCount++] = slot;
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
    this.slotOfId[this.idOf[slot]] = slot;
    this.livePosition[slot] = this.liveCount;
    this.live[this.liveCount++] = slot;
  }

  private takeOffLiveList(slot: number): void {
    if (!this.alive[slot]) throw new Error(`slot ${slot} holds no live node`);
    this.slotOfId[this.idOf[slot]] = -1;
    this.alive[slot] = 0;
    this.liveBits[slot >> 5] &= ~(1 << slot);
    const position = this.livePosition[slot];
    const last = this.live[--this.liveCount];
    this.live[position] = last;
    this.livePosition[last] = position;
    this.livePosition[slot] = -1;
  }

  /** Slot of a live node's id, or -1 if that node has left (or the id was never issued). */
  slotOf(id: number): number {
    return id >= 0 && id < this.nextId ? this.slotOfId[id] : -1;
  }

  /**
   * slotOf(id) for any int32 id, in a form for the event engine's hot loop: while slots
   * equal ids it reads one bit of a table 32 times smaller than the id -> slot table.
   */
  slotOfLiveId(id: number): number {
    if (!this.everySlotIsItsId) return this.slotOf(id);
    return id >= 0 && id < this.capacity && ((this.liveBits[id >> 5] >>> id) & 1) === 1 ? id : -1;
  }

  /** The id -> slot table itself, for hot loops that look ids up by the million. Re-read after adds (it may grow) and after a restore. */
  idMap(): Int32Array { return this.slotOfId; }

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
    const saved: Record<string, unknown> = {
      idOf: this.idOf, alive: this.alive, offline: this.offline, joinedAt: this.joinedAt,
      slotOfId: this.slotOfId.subarray(0, this.nextId), idMapLength: this.slotOfId.length,
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
    // In place when the length matches, so that a table taken from idMap() stays valid.
    if (this.slotOfId.length !== saved.idMapLength) this.slotOfId = new Int32Array(saved.idMapLength);
    this.slotOfId.set(saved.slotOfId);
    this.slotOfId.fill(-1, saved.slotOfId.length);
    this.nextId = saved.nextId;
    this.everySlotIsItsId = saved.everySlotIsItsId;
    this.live.set(saved.live);
    this.liveCount = saved.live.length;
    this.free.set(saved.free);
    this.freeCount = saved.free.length;
  }

  private growIdMap(): void {
    const grown = new Int32Array(this.slotOfId.length * 2).fill(-1);
    grown.set(this.slotOfId);
    this.slotOfId = grown;
  }
}
