type NumberArray = Int32Array | Float64Array;

/**
 * Fixed-width records in one typed array, handed out and taken back by index: the
 * pooled payload store of the event engine's messages (a message carries the index,
 * never an object). Grows by doubling; read `data` again after `allocate`, since
 * growing replaces it.
 */
export class SlabPool<T extends NumberArray> {
  data: T;
  private free: Int32Array;
  private freeCount = 0;
  private used = 0;

  constructor(readonly width: number, private readonly make: (length: number) => T, capacity = 1024) {
    this.data = make(width * capacity);
    this.free = new Int32Array(capacity);
  }

  allocate(): number {
    if (this.freeCount > 0) return this.free[--this.freeCount];
    if (this.used * this.width >= this.data.length) {
      const grown = this.make(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    return this.used++;
  }

  /** Plain data for checkpoints: the records, and which are free (in reuse order). */
  snapshot(): { data: T; free: Int32Array; used: number } {
    return { data: this.data, free: this.free.slice(0, this.freeCount), used: this.used };
  }

  /** Puts back what `snapshot` gave (`data` holds at least the `used` records). */
  restore(data: T, free: Int32Array, used: number): void {
    const length = Math.max(this.data.length, data.length);
    this.data = this.make(length);
    this.data.set(data.subarray(0, used * this.width));
    this.free = new Int32Array(Math.max(this.free.length, free.length));
    this.free.set(free);
    this.freeCount = free.length;
    this.used = used;
  }

  release(index: number): void {
    if (this.freeCount === this.free.length) {
      const grown = new Int32Array(this.free.length * 2);
      grown.set(this.free);
      this.free = grown;
    }
    this.free[this.freeCount++] = index;
  }
}
