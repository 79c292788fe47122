/**
 * Event engine: the shuffle request each node has in flight, as Cyclon's initiator
 * remembers it until the reply comes. One record per slot, whole 64-byte lines, so a
 * timer, an answer or a reply touches one line of it, not one per field:
 *
 *   int32 [0] sequence number   [1] entries sent (0: none in flight)
 *   float64 at int32 [2] the time it was sent
 *   int32 [4, 4 + l) the ids sent (the node itself first), then l birth stamps
 */
export class PendingRequests {
  private readonly words: Int32Array;
  private readonly times: Float64Array;
  private readonly stride: number;

  constructor(capacity: number, private readonly shuffleLength: number) {
    this.stride = Math.ceil((4 + 2 * shuffleLength) / 16) * 16;
    this.words = new Int32Array(capacity * this.stride);
    this.times = new Float64Array(this.words.buffer);
  }

  /** Starts a new request from `slot` of `count` entries: returns its sequence number. */
  begin(slot: number, count: number, now: number): number {
    const base = slot * this.stride;
    const sequence = (this.words[base] + 1) | 0;
    this.words[base] = sequence;
    this.words[base + 1] = count;
    this.times[(base >> 1) + 1] = now;
    return sequence;
  }

  /** Entry k of the request: its id and birth stamp. */
  set(slot: number, k: number, id: number, stamp: number): void {
    const base = slot * this.stride + 4;
    this.words[base + k] = id;
    this.words[base + this.shuffleLength + k] = stamp;
  }

  id(slot: number, k: number): number {
    return this.words[slot * this.stride + 4 + k];
  }

  stamp(slot: number, k: number): number {
    return this.words[slot * this.stride + 4 + this.shuffleLength + k];
  }

  sequence(slot: number): number {
    return this.words[slot * this.stride];
  }

  /** Entries of the request in flight; 0 when none is (answered, or the node left). */
  count(slot: number): number {
    return this.words[slot * this.stride + 1];
  }

  sentAt(slot: number): number {
    return this.times[((slot * this.stride) >> 1) + 1];
  }

  /** The request is answered or void. */
  close(slot: number): void {
    this.words[slot * this.stride + 1] = 0;
  }
}
