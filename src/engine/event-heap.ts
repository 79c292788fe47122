/**
 * The (time, sequence) order of events, and a binary heap kept in that order:
 * EventQueue (event-queue.ts) holds the events outside its timing wheel in two of
 * these, `early` and `overflow`.
 */

/** Whether (ta, sa) comes before (tb, sb). */
export function before(ta: number, sa: number, tb: number, sb: number): boolean {
  return ta < tb || (ta === tb && sa < sb);
}

/**
 * A binary heap of events ordered by (time, sequence), fields in parallel arrays
 * that move together (PeerSim's layout). Holds the few events outside the wheel.
 */
export class EventHeap {
  size = 0;
  times: Float64Array;
  sequences: Float64Array;
  kinds: Int32Array;
  destinations: Int32Array;
  senders: Int32Array;
  payloads: Int32Array;
  /** The event taken by the last `pop()`. */
  time = 0;
  sequence = 0;
  kind = 0;
  destination = 0;
  sender = 0;
  payload = 0;

  constructor(capacity: number) {
    this.times = new Float64Array(capacity);
    this.sequences = new Float64Array(capacity);
    this.kinds = new Int32Array(capacity);
    this.destinations = new Int32Array(capacity);
    this.senders = new Int32Array(capacity);
    this.payloads = new Int32Array(capacity);
  }

  push(time: number, sequence: number, kind: number, destination: number, sender: number, payload: number): void {
    if (this.size === this.times.length) this.grow();
    const { times, sequences, kinds, destinations, senders, payloads } = this;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (before(times[parent], sequences[parent], time, sequence)) break;
      times[i] = times[parent]; sequences[i] = sequences[parent]; kinds[i] = kinds[parent];
      destinations[i] = destinations[parent]; senders[i] = senders[parent]; payloads[i] = payloads[parent];
      i = parent;
    }
    times[i] = time; sequences[i] = sequence; kinds[i] = kind;
    destinations[i] = destination; senders[i] = sender; payloads[i] = payload;
  }

  pop(): void {
    const { times, sequences, kinds, destinations, senders, payloads } = this;
    this.time = times[0]; this.sequence = sequences[0]; this.kind = kinds[0];
    this.destination = destinations[0]; this.sender = senders[0]; this.payload = payloads[0];
    const n = --this.size;
    const time = times[n];
    const sequence = sequences[n];
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && before(times[child + 1], sequences[child + 1], times[child], sequences[child])) child++;
      if (before(time, sequence, times[child], sequences[child])) break;
      times[i] = times[child]; sequences[i] = sequences[child]; kinds[i] = kinds[child];
      destinations[i] = destinations[child]; senders[i] = senders[child]; payloads[i] = payloads[child];
      i = child;
    }
    times[i] = time; sequences[i] = sequence; kinds[i] = kinds[n];
    destinations[i] = destinations[n]; senders[i] = senders[n]; payloads[i] = payloads[n];
  }

  private grow(): void {
    const doubled = <A extends Float64Array | Int32Array>(a: A): A => {
      const b = new (a.constructor as new (n: number) => A)(a.length * 2);
      b.set(a);
      return b;
    };
    this.times = doubled(this.times);
    this.sequences = doubled(this.sequences);
    this.kinds = doubled(this.kinds);
    this.destinations = doubled(this.destinations);
    this.senders = doubled(this.senders);
    this.payloads = doubled(this.payloads);
  }
}
