/** Counters in one region: 32 KB of bytes, which stays in the CPU's cache while its increments run. */
const REGION_BITS = 15;
/** Increments grouped at a time: 2^20 (8 MB of scratch, whatever the population). */
const MOST_PENDING = 1 << 20;

/**
 * In-degree counters for up to `capacity` slots: a byte each (counts beyond 255 in a
 * map), incremented in batches. A batch of targets is first grouped by region of the
 * counters (a counting sort), so that each group's increments hit one region in cache
 * instead of the whole array at random: at 10^7 nodes, half the time of plain increments.
 */
export class InDegrees {
  private readonly counts: Uint8Array;
  private readonly overflow = new Map<number, number>();
  private readonly pending: Int32Array;
  private readonly grouped: Int32Array;
  /** Per region: how many pending targets it has, then where its group starts. */
  private readonly regionAt: Int32Array;
  private pendingCount = 0;

  constructor(capacity: number) {
    this.counts = new Uint8Array(capacity);
    const batch = Math.min(MOST_PENDING, Math.max(1024, capacity));
    this.pending = new Int32Array(batch);
    // Below two regions there is nothing to group.
    this.grouped = capacity >> REGION_BITS >= 2 ? new Int32Array(batch) : new Int32Array(0);
    this.regionAt = new Int32Array((capacity >> REGION_BITS) + 2);
  }

  /** All counts back to 0. */
  clear(): void {
    this.counts.fill(0);
    this.overflow.clear();
    this.pendingCount = 0;
  }

  /** One more link to `slot` (counted by the next flush at the latest). */
  add(slot: number): void {
    this.pending[this.pendingCount++] = slot;
    if (this.pendingCount === this.pending.length) this.flush();
  }

  /** Counts every pending link. Call before reading. */
  flush(): void {
    const n = this.pendingCount;
    this.pendingCount = 0;
    if (this.grouped.length === 0) {
      for (let i = 0; i < n; i++) this.increment(this.pending[i]);
      return;
    }
    const { pending, grouped, regionAt } = this;
    regionAt.fill(0);
    for (let i = 0; i < n; i++) regionAt[(pending[i] >> REGION_BITS) + 1]++;
    for (let r = 1; r < regionAt.length; r++) regionAt[r] += regionAt[r - 1];
    for (let i = 0; i < n; i++) {
      const slot = pending[i];
      grouped[regionAt[slot >> REGION_BITS]++] = slot;
    }
    for (let i = 0; i < n; i++) this.increment(grouped[i]);
  }

  /** The in-degree of `slot` (after flush). */
  of(slot: number): number {
    const count = this.counts[slot];
    return count === 255 ? 255 + (this.overflow.get(slot) ?? 0) : count;
  }

  private increment(slot: number): void {
    const counts = this.counts;
    if (counts[slot] !== 255) counts[slot]++;
    else this.overflow.set(slot, (this.overflow.get(slot) ?? 0) + 1);
  }
}
