import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventQueue, type EventQueueSnapshot } from '../../src/engine/event-queue.js';

interface Event { time: number; sequence: number; kind: number; destination: number; sender: number; payload: number }

/** The obvious implementation: a list searched for its (time, sequence) minimum. */
class ReferenceQueue {
  now = 0;
  private events: Event[] = [];
  private nextSequence = 0;

  get size(): number { return this.events.length; }

  schedule(time: number, kind: number, destination: number, sender: number, payload: number): void {
    this.events.push({ time, sequence: this.nextSequence++, kind, destination, sender, payload });
  }

  private earliest(): number {
    let best = 0;
    for (let i = 1; i < this.events.length; i++) {
      const a = this.events[i];
      const b = this.events[best];
      if (a.time < b.time || (a.time === b.time && a.sequence < b.sequence)) best = i;
    }
    return best;
  }

  peekTime(): number { return this.events.length === 0 ? Infinity : this.events[this.earliest()].time; }

  pop(): Event | undefined {
    if (this.events.length === 0) return undefined;
    const [event] = this.events.splice(this.earliest(), 1);
    this.now = event.time;
    return event;
  }
}

const popped = (queue: EventQueue): Event => ({
  time: queue.now, sequence: queue.sequence, kind: queue.kind,
  destination: queue.destination, sender: queue.sender, payload: queue.payload,
});

/** Pops everything left and returns it. */
function drain(queue: EventQueue): Event[] {
  const out: Event[] = [];
  while (queue.pop()) out.push(popped(queue));
  return out;
}

/** Delays that hit every path: equal times, fractional times, the window's edge, far beyond it. */
const delay = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 3 }) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 40 }) },
  { weight: 3, arbitrary: fc.double({ min: 0, max: 20, noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.constantFrom(0.5, 0.25, 1e-9, 15.999, 16, 17, 31.5, 32, 64) },
  { weight: 2, arbitrary: fc.integer({ min: 40, max: 200 }) },
  { weight: 1, arbitrary: fc.double({ min: 20, max: 200, noNaN: true }) },
  { weight: 1, arbitrary: fc.integer({ min: 200, max: 5000 }) },
  { weight: 1, arbitrary: fc.constantFrom(2 ** 31, 2 ** 32 + 0.5, 1e12, 2 ** 52) },
);

type Command =
  | { op: 'schedule'; delay: number; kind: number; destination: number }
  | { op: 'pop'; count: number }
  | { op: 'peek' }
  | { op: 'checkpoint' };

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('schedule' as const), delay, kind: fc.integer({ min: 0, max: 255 }), destination: fc.integer({ min: -1, max: 1e6 }) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('pop' as const), count: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('peek' as const)}) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('checkpoint' as const)}) },
);

/** Runs commands on a queue and the reference; returns the queue (possibly a restored one). */
function runAgainstReference(commands: Command[], windowBits: number, capacity: number): EventQueue {
  let queue = new EventQueue({ windowBits, capacity });
  const reference = new ReferenceQueue();
  let payload = 0;
  for (const c of commands) {
    if (c.op === 'schedule') {
      const time = Math.min(reference.now + c.delay, 2 ** 52);
      queue.schedule(time, c.kind, c.destination, payload, -1 - payload);
      reference.schedule(time, c.kind, c.destination, payload, -1 - payload);
      payload++;
    } else if (c.op === 'pop') {
      for (let k = 0; k < c.count; k++) {
        const expected = reference.pop();
        expect(queue.pop()).toBe(expected !== undefined);
        if (expected) expect(popped(queue)).toEqual(expected);
      }
    } else if (c.op === 'peek') {
      expect(queue.peekTime()).toBe(reference.peekTime());
    } else {
      queue = EventQueue.fromSnapshot(structuredClone(queue.snapshot()));
    }
    expect(queue.size).toBe(reference.size);
    expect(queue.now).toBe(reference.now);
  }
  let expected = reference.pop();
  while (expected) {
    expect(queue.pop()).toBe(true);
    expect(popped(queue)).toEqual(expected);
    expected = reference.pop();
  }
  expect(queue.pop()).toBe(false);
  return queue;
}

describe('event queue', () => {
  it('pops any interleaving of schedules and pops in (time, sequence) order, like the reference', () => {
    fc.assert(fc.property(
      fc.array(command, { maxLength: 400, size: 'max' }),
      fc.integer({ min: 0, max: 6 }),
      fc.integer({ min: 1, max: 8 }),
      (commands, windowBits, capacity) => { runAgainstReference(commands, windowBits, capacity); },
    ), { numRuns: 400 });
  });

  it('matches the reference with the default window too', () => {
    fc.assert(fc.property(fc.array(command, { maxLength: 400, size: 'max' }), (commands) => { runAgainstReference(commands, 16, 1024); }), { numRuns: 100 });
  });

  it('keeps dense buckets (many blocks, fractional times, sorting) in order, like the reference', () => {
    const round = fc.record({
      delays: fc.array(fc.oneof(fc.double({ min: 0, max: 3, noNaN: true }), fc.integer({ min: 0, max: 3 })), { maxLength: 200, size: 'max' }),
      pops: fc.integer({ min: 0, max: 200 }),
    });
    fc.assert(fc.property(fc.array(round, { maxLength: 8 }), fc.integer({ min: 0, max: 16 }), (rounds, windowBits) => {
      const queue = new EventQueue({ windowBits, capacity: 1 });
      const reference = new ReferenceQueue();
      for (const { delays, pops } of rounds) {
        for (const [i, d] of delays.entries()) {
          queue.schedule(reference.now + d, i & 255, i, 0, 0);
          reference.schedule(reference.now + d, i & 255, i, 0, 0);
        }
        for (let k = 0; k < pops; k++) {
          const expected = reference.pop();
          expect(queue.pop()).toBe(expected !== undefined);
          if (expected) expect(popped(queue)).toEqual(expected);
        }
      }
      expect(drain(queue)).toEqual(Array.from({ length: reference.size }, () => reference.pop()));
    }), { numRuns: 200 });
  });

  it('resolves many equal times first-scheduled-first', () => {
    const queue = new EventQueue({ capacity: 4 });
    for (let i = 0; i < 1000; i++) queue.schedule(5, i % 256, i, i, i);
    for (let i = 0; i < 1000; i++) queue.schedule(3, 7, 10_000 + i, 0, 0);
    const out = drain(queue);
    expect(out.map((e) => e.destination)).toEqual([...Array.from({ length: 1000 }, (_, i) => 10_000 + i), ...Array.from({ length: 1000 }, (_, i) => i)]);
    expect(out.map((e) => e.sequence)).toEqual([...Array.from({ length: 1000 }, (_, i) => 1000 + i), ...Array.from({ length: 1000 }, (_, i) => i)]);
  });

  it('orders fractional times within one millisecond exactly', () => {
    const queue = new EventQueue();
    const times = [7.9, 7.1, 7.5, 7.1, 7, 7.999999, 7.5, 8, 7.0000001];
    times.forEach((t, i) => queue.schedule(t, 0, i, 0, 0));
    const expected = times.map((t, i) => [t, i]).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map(([, i]) => i);
    expect(drain(queue).map((e) => e.destination)).toEqual(expected);
  });

  it('orders fractional times scheduled into the current millisecond while it is being popped', () => {
    const queue = new EventQueue();
    queue.schedule(4.2, 0, 0, 0, 0);
    queue.schedule(4.8, 0, 1, 0, 0);
    expect(queue.pop()).toBe(true);
    expect(queue.destination).toBe(0);
    queue.schedule(4.5, 0, 2, 0, 0); // before the tail (4.8): goes to the side heap
    queue.schedule(4.2, 0, 3, 0, 0); // equal to now
    queue.schedule(4.8, 0, 4, 0, 0); // ties the tail: after it
    expect(drain(queue).map((e) => e.destination)).toEqual([3, 2, 1, 4]);
  });

  it('keeps FIFO when overflow events migrate into a bucket that later events join', () => {
    const queue = new EventQueue({ windowBits: 4 }); // a 16 ms window
    queue.schedule(100, 0, 0, 0, 0); // beyond the window: overflow
    queue.schedule(100.5, 0, 1, 0, 0);
    queue.schedule(100, 0, 2, 0, 0);
    for (let t = 1; t <= 99; t++) queue.schedule(t, 1, -t, 0, 0);
    for (let t = 1; t <= 90; t++) expect(queue.pop() && queue.now).toBe(t);
    // The window now reaches 100: the overflow events have moved in; these come after them.
    queue.schedule(100, 0, 3, 0, 0);
    queue.schedule(100.25, 0, 4, 0, 0);
    queue.schedule(200, 0, 5, 0, 0);
    expect(drain(queue).filter((e) => e.kind === 0).map((e) => e.destination)).toEqual([0, 2, 3, 4, 1, 5]);
  });

  it('migrates overflow events after jumping over an empty wheel, and handles times beyond 2^31 ms', () => {
    const queue = new EventQueue({ windowBits: 3 });
    const times = [2 ** 52, 2 ** 31 + 3, 2 ** 31 + 3, 2 ** 31 + 2.5, 1e9, 1e9 + 7, 1e9 + 8, 2 ** 40 + 0.75, 2 ** 40];
    times.forEach((t, i) => queue.schedule(t, 0, i, 0, 0));
    const expected = times.map((t, i) => [t, i]).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map(([, i]) => i);
    expect(queue.peekTime()).toBe(1e9);
    expect(drain(queue).map((e) => e.destination)).toEqual(expected);
    expect(queue.now).toBe(2 ** 52);
  });

  it('grows far beyond its initial capacity and reuses freed records', () => {
    const queue = new EventQueue({ capacity: 1 });
    const n = 50_000;
    // A deterministic shuffle of times 0..n-1 (multiplication by a unit mod n).
    for (let i = 0; i < n; i++) queue.schedule((i * 7919) % n, 1, i, 0, 0);
    expect(queue.size).toBe(n);
    let previous = -1;
    for (let i = 0; i < n; i++) {
      expect(queue.pop()).toBe(true);
      expect(queue.now).toBe(previous + 1);
      previous = queue.now;
      if (i % 2 === 0) queue.schedule(queue.now + n, 2, i, 0, 0);
    }
    expect(queue.size).toBe(n / 2);
    expect(queue.peekTime()).toBe(n);
    // Steady state: pops free the storage that schedules take, so it stops growing.
    const capacity = queue.capacity;
    for (let i = 0; i < 10 * n; i++) { queue.pop(); queue.schedule(queue.now + 1 + (i % 1000), 0, 0, 0, 0); }
    expect(queue.capacity).toBe(capacity);
    const single = new EventQueue({ capacity: 1 });
    for (let i = 0; i < 100_000; i++) { single.schedule(single.now + (i % 3), 0, 0, 0, 0); single.pop(); }
    expect(single.capacity).toBe(32); // one block
  });

  it('resumes from a snapshot mid-run with an identical sequence of pops', () => {
    // A small model of the engine: periodic timers that send messages which get replies.
    const run = (queue: EventQueue, steps: number, out: Event[]): void => {
      let x = queue.size * 31 + 17;
      const next = (): number => (x = (x * 1103515245 + 12345) % 2147483648);
      for (let i = 0; i < steps && queue.pop(); i++) {
        out.push(popped(queue));
        x += queue.sequence;
        if (queue.kind === 0) {
          queue.schedule(queue.now + 1000, 0, queue.destination, queue.destination, 0);
          queue.schedule(queue.now + 10 + (next() % 91) + (next() % 4) / 4, 1, next() % 500, queue.destination, i);
        } else if (queue.kind === 1) {
          queue.schedule(queue.now + 10 + (next() % 91), 2, queue.sender, queue.destination, queue.payload);
        } else if (next() % 50 === 0) {
          queue.schedule(queue.now + 100_000, 3, queue.destination, 0, 0); // beyond the window
        }
      }
    };
    const original = new EventQueue({ windowBits: 12, capacity: 16 });
    for (let node = 0; node < 500; node++) original.schedule((node * 37) % 1000, 0, node, node, 0);
    run(original, 20_000, []);
    const snapshot: EventQueueSnapshot = structuredClone(original.snapshot());
    const restored = EventQueue.fromSnapshot(snapshot);
    expect(restored.size).toBe(original.size);
    expect(popped(restored)).toEqual(popped(original));
    const a: Event[] = [];
    const b: Event[] = [];
    run(original, 30_000, a);
    run(restored, 30_000, b);
    expect(b).toEqual(a);
    expect(b.length).toBe(30_000);
    expect(restored.snapshot()).toEqual(original.snapshot());
  });

  it('resumes in (time, sequence) order when only whole-ms events wait before the cursor', () => {
    // peekTime() moves the cursor to the next event (500); events then scheduled
    // between now (0) and the cursor wait in a heap, which a snapshot lists in heap
    // order, not sorted: the restored queue must still pop them in order.
    const queue = new EventQueue({ windowBits: 10 });
    queue.schedule(0, 0, 0, 0, 0);
    queue.schedule(500, 0, 1, 1, 0);
    queue.pop();
    expect(queue.peekTime()).toBe(500);
    for (let i = 0; i < 40; i++) queue.schedule(10 + ((i * 7) % 5), 1, i, i, i);
    const restored = EventQueue.fromSnapshot(structuredClone(queue.snapshot()));
    const drain = (q: EventQueue): Event[] => {
      const out: Event[] = [];
      while (q.pop()) out.push(popped(q));
      return out;
    };
    const expected = drain(queue);
    expect(expected.map((e) => e.time)).toEqual([...expected.map((e) => e.time)].sort((a, b) => a - b));
    expect(drain(restored)).toEqual(expected);
  });

  it('names, through ahead(k) and aheadInto, the events the next pops return (within the bucket and its next block)', () => {
    const queue = new EventQueue({ capacity: 16 });
    for (let i = 0; i < 100; i++) queue.schedule(5, i % 7, i, 1000 + i, 2000 + i);
    queue.schedule(6, 0, 999, 0, 0);
    queue.pop();
    for (let popped = 1; popped < 100; popped++) {
      const fields = queue.fields;
      const seen: number[] = [];
      for (let k = 0; k < 40; k++) {
        const f = queue.ahead(k);
        if (f < 0) break;
        seen.push(fields[f + 5]);
        const into = new Int32Array(40);
        const n = queue.aheadInto(k, 40, into);
        expect(into[0]).toBe(f);
        expect(n).toBeGreaterThanOrEqual(1);
        for (let j = 0; j < n; j++) expect(into[j]).toBe(queue.ahead(k + j));
        if (k + n < 40) expect(queue.ahead(k + n)).toBe(-1);
        expect([fields[f + 4], fields[f + 6], fields[f + 7]]).toEqual([fields[f + 5] % 7, 1000 + fields[f + 5], 2000 + fields[f + 5]]);
      }
      // At least the rest of the current block of 32, never past the bucket's end.
      expect(seen.length).toBeGreaterThanOrEqual(Math.min(32 - (popped % 32), 100 - popped));
      expect(seen).toEqual(Array.from({ length: seen.length }, (_, k) => popped + k));
      queue.pop();
    }
    expect(queue.ahead(0)).toBe(-1); // the bucket at 5 is empty; the cursor has not moved on
    expect(queue.aheadInto(0, 10, new Int32Array(10))).toBe(0);
    queue.pop();
    expect(queue.aheadInto(0, 0, new Int32Array(1))).toBe(0);
    expect(queue.aheadInto(3, 1, new Int32Array(1))).toBe(0);
  });

  it('refuses to schedule in the past, at a non-finite time or with bad fields', () => {
    const queue = new EventQueue();
    expect(() => queue.schedule(-1, 0, 0, 0, 0)).toThrow(RangeError);
    queue.schedule(10, 0, 0, 0, 0);
    queue.pop();
    expect(() => queue.schedule(9.5, 0, 0, 0, 0)).toThrow(RangeError);
    expect(() => queue.schedule(9.5, 0, 0, 0, 0)).toThrow(/not before now \(10\)/);
    expect(() => queue.schedule(Number.NaN, 0, 0, 0, 0)).toThrow(RangeError);
    expect(() => queue.schedule(Infinity, 0, 0, 0, 0)).toThrow(RangeError);
    expect(() => queue.schedule(2 ** 52 + 2, 0, 0, 0, 0)).toThrow(RangeError);
    expect(() => queue.schedule(11, 256, 0, 0, 0)).toThrow(RangeError);
    expect(() => queue.schedule(11, 1.5, 0, 0, 0)).toThrow(RangeError);
    expect(() => queue.schedule(11, 0, 2 ** 31, 0, 0)).toThrow(RangeError);
    expect(() => queue.schedule(11, 0, 0, 0, 0.5)).toThrow(RangeError);
    expect(queue.size).toBe(0);
    queue.schedule(10, 0, 0, 0, 0); // exactly now is fine
    expect(queue.size).toBe(1);
    expect(() => new EventQueue({ windowBits: 25 })).toThrow(RangeError);
    expect(() => new EventQueue({ capacity: 0 })).toThrow(RangeError);
  });

  it('reports an empty queue', () => {
    const queue = new EventQueue();
    expect(queue.pop()).toBe(false);
    expect(queue.peekTime()).toBe(Infinity);
    expect(queue.now).toBe(0);
    expect(queue.size).toBe(0);
  });
});
