import { EventQueue, type EventQueueSnapshot } from './event-queue.js';
import type { Network } from './network.js';
import type { NodeStore } from './node-store.js';
import type { ProtocolInstance, Transport } from './protocol.js';
import type { Random } from './random.js';
import { TransportModel, type TransportSpec } from './transport.js';

export interface EventSettings {
  /** Each node's timer period per protocol (ms). */
  readonly period: number;
  /** Each firing is moved by a uniform offset in [-jitter, +jitter] ms (0: strictly periodic after a random phase). */
  readonly jitter: number;
  /** How long protocols wait for a reply (ms). */
  readonly timeout: number;
}

/*
 * Event kinds, one byte: the protocol's index times 16, plus
 *   0      its periodic timer (payload: the slot's timer generation),
 *   1..7   a one-shot timeout of kind 0..6,
 *   8..15  a message of kind 0..7.
 * Messages and timeouts go to node ids, not slots: one for a node that left finds
 * slotOf(id) = -1 and is dropped, even if its slot was reused meanwhile. Timers go to
 * slots and carry the slot's timer generation, which every departure and (re)join
 * bumps: a stale timer is recognised with one read, and no id lookup; a slot whose
 * timers were never stopped or restarted skips even that read (see `restarted`).
 */
const TIMER = 0;
const TIMEOUT = 1;
const MESSAGE = 8;
/** Events whose state the loop reads early, together (see warmUp). */
const BATCH = 16;
export const MAX_EVENT_PROTOCOLS = 16;

/**
 * The event-driven engine's core: the event queue, the network model, every node's
 * periodic timers, and the Transport each protocol sends through.
 */
export class EventLoop {
  queue: EventQueue;
  readonly model: TransportModel;
  /** Events handled so far (for the manifest and for events/s). */
  processed = 0;
  /**
   * Per slot, two words read together: the generation of its timers (bumped when the
   * node leaves or (re)joins, so timers of a former life die out), and its node's id
   * (which a timer's handler sends from).
   */
  private readonly timerWords: Int32Array;
  /**
   * Bit s set once slot s's timers were stopped or restarted. While it is clear, every
   * timer of the slot is of its first life, and is handled without reading timerWords:
   * a table 64 times smaller, which stays in cache.
   */
  private readonly restarted: Int32Array;
  private readonly transports: Transport[] = [];
  /** Sum of the early reads of runUntil, kept so that they are not optimised away. */
  private prefetchSink = 0;
  /** While a timer or message is handled: its node's slot and id (what it sends is from that id, without a lookup). */
  private currentSlot = -1;
  private currentId = -1;
  /** warmUp's scratch: the upcoming events' offsets in the queue's fields. */
  private readonly warmAt = new Int32Array(2 * BATCH);
  /** Whether a message's latency depends on its destination's slot (pairwise models). */
  private readonly needsTarget: boolean;

  constructor(
    private readonly settings: EventSettings,
    transportSpec: TransportSpec,
    private readonly store: NodeStore,
    private readonly network: Network,
    private readonly protocols: readonly ProtocolInstance[],
    private readonly random: Random,
    transportRandom: Random,
    private readonly clock: { cycle: number; time: number },
  ) {
    this.model = new TransportModel(transportSpec, store, transportRandom);
    // Room for every node's timers and a message or two each, so the queue rarely grows.
    this.queue = new EventQueue({ capacity: Math.max(1024, store.capacity * 4) });
    this.needsTarget = transportSpec.latency.model === 'coordinates' || transportSpec.latency.model === 'regions';
    this.timerWords = new Int32Array(2 * store.capacity);
    this.restarted = new Int32Array(Math.ceil(store.capacity / 32));
  }

  /** The Transport a protocol instance at `index` (scenario order) uses. */
  transport(index: number): Transport {
    if (index >= MAX_EVENT_PROTOCOLS) throw new Error(`the event engine runs at most ${MAX_EVENT_PROTOCOLS} protocols`);
    return (this.transports[index] ??= this.transportFor(index));
  }

  /** Starts the timers of every live node: each protocol's first firing at a random phase in [0, period). */
  start(): void {
    for (let i = 0; i < this.store.size; i++) this.startTimers(this.store.liveSlot(i));
  }

  /** Starts a (re)joining node's timers; any timers of its former life are void. */
  startTimers(slot: number): void {
    const generation = ++this.timerWords[2 * slot];
    if (generation !== 1) this.restarted[slot >> 5] |= 1 << slot;
    this.timerWords[2 * slot + 1] = this.store.idOf[slot];
    for (let p = 0; p < this.protocols.length; p++) {
      const phase = this.queue.now + this.random.int(this.settings.period);
      this.queue.schedule(phase, p * 16 + TIMER, slot, slot, generation);
    }
    this.model.place(slot);
  }

  /** A node leaves (or goes offline): its pending timer firings become void. */
  stopTimers(slot: number): void {
    this.timerWords[2 * slot]++;
    this.restarted[slot >> 5] |= 1 << slot;
  }

  /** Pending events and timer generations, for checkpoints (arrays are views: write them out at once). */
  save(): Record<string, unknown> {
    const { times, sequences, kinds, destinations, senders, payloads, ...queue } = this.queue.snapshot();
    return {
      queue, times, sequences, kinds, destinations, senders, payloads,
      timerWords: this.timerWords, restarted: this.restarted, processed: this.processed,
      transport: this.model.save(),
    };
  }

  restore(saved: Record<string, any>): void {
    const { times, sequences, kinds, destinations, senders, payloads } = saved;
    const snapshot: EventQueueSnapshot = { ...saved.queue, times, sequences, kinds, destinations, senders, payloads };
    this.queue = EventQueue.fromSnapshot(snapshot, { capacity: Math.max(1024, this.store.capacity * 4) });
    this.timerWords.set(saved.timerWords);
    this.restarted.set(saved.restarted);
    this.processed = saved.processed;
    this.model.restore(saved.transport);
  }

  /** Handles every event due at or before `time`, keeping the clock at each event's time. */
  runUntil(time: number): void {
    const queue = this.queue;
    const clock = this.clock;
    const period = this.settings.period;
    const store = this.store;
    const protocols = this.protocols;
    const timerWords = this.timerWords;
    const restarted = this.restarted;
    const prefetching = protocols.some((protocol) => protocol.prefetch !== undefined);
    let warm = -1;
    for (;;) {
      if (prefetching && --warm <= 0) {
        // Every BATCH events, the batch after the next: its reads then have a batch's
        // time to arrive. (The first time, both.)
        this.prefetchSink = (this.prefetchSink + (warm < 0 ? this.warmUp(0, 2 * BATCH) : this.warmUp(BATCH, 2 * BATCH))) | 0;
        warm = BATCH;
      }
      if (!queue.popUntil(time)) break;
      this.processed++;
      const kind = queue.kind;
      const protocol = this.protocols[kind >> 4];
      const sub = kind & 15;
      if (clock.time !== queue.now) {
        clock.time = queue.now;
        clock.cycle = Math.floor(queue.now / period);
      }
      if (sub === TIMER) {
        const slot = queue.destination;
        const generation = queue.payload;
        if (((restarted[slot >> 5] >>> slot) & 1) === 1 && generation !== timerWords[2 * slot]) continue; // a former life's timer
        this.currentSlot = slot;
        this.currentId = store.slotsAreIds ? slot : timerWords[2 * slot + 1];
        protocol.beginCycle?.();
        if (protocol.onTimer) protocol.onTimer(slot);
        else protocol.step(slot);
        this.currentSlot = -1;
        if (((restarted[slot >> 5] >>> slot) & 1) === 1 && generation !== timerWords[2 * slot]) continue; // the node left meanwhile
        const jitter = this.settings.jitter > 0 ? Math.round((2 * this.random.next() - 1) * this.settings.jitter) : 0;
        this.queue.schedule(queue.now + Math.max(1, this.settings.period + jitter), kind, slot, slot, generation);
        continue;
      }
      const id = queue.destination;
      const slot = store.slotOfLiveId(id);
      if (slot < 0) {
        // The node left: messages and timeouts for it are lost.
        protocol.onUndelivered?.(sub >= MESSAGE ? sub - MESSAGE : -1, queue.payload);
      } else if (sub >= MESSAGE) {
        this.currentSlot = slot;
        this.currentId = id;
        protocol.beginCycle?.();
        protocol.onMessage!(slot, sub - MESSAGE, queue.sender, queue.payload);
        this.currentSlot = -1;
      } else {
        protocol.beginCycle?.();
        protocol.onTimeout?.(slot, sub - TIMEOUT, queue.payload);
      }
    }
  }

  /**
   * Early reads for the next BATCH events in the wheel, in two tight loops, so that their
   * cache misses overlap instead of following one another: the engine's lookups where
   * they are needed (a restarted slot's timer generation; a message's id -> slot once
   * slots and ids differ), and the protocols' state (Prefetching.prefetch).
   * Returns the sum of what was read.
   */
  private warmUp(from: number, to: number): number {
    const queue = this.queue;
    const store = this.store;
    const restarted = this.restarted;
    const slotsAreIds = store.slotsAreIds;
    const fields = queue.fields;
    const protocols = this.protocols;
    const timerWords = this.timerWords;
    const at = this.warmAt;
    const capacity = store.capacity;
    let sum = 0;
    const n = queue.aheadInto(from, to, at);
    // One pass of independent reads. A message's slot is guessed to be its node's id,
    // which holds until churn recycles slots; the guess is checked in the second pass.
    for (let i = 0; i < n; i++) {
      const f = at[i];
      const kind = fields[f + 4];
      const destination = fields[f + 5];
      const sub = kind & 15;
      const protocol = protocols[kind >> 4];
      if (sub === TIMER) {
        if (((restarted[destination >> 5] >>> destination) & 1) === 1) sum += timerWords[2 * destination];
        if (protocol.prefetch !== undefined) sum += protocol.prefetch(destination, -1, 0, 0);
      } else if (sub >= MESSAGE) {
        if (!slotsAreIds) sum += store.prefetchId(destination);
        if (destination >= 0 && destination < capacity && protocol.prefetch !== undefined) sum += protocol.prefetch(destination, sub - MESSAGE, fields[f + 6], fields[f + 7]);
      }
    }
    if (slotsAreIds) return sum; // every guess was right
    for (let i = 0; i < n; i++) {
      const f = at[i];
      const kind = fields[f + 4];
      const sub = kind & 15;
      if (sub < MESSAGE) continue;
      const destination = fields[f + 5];
      const slot = store.slotOf(destination);
      const protocol = protocols[kind >> 4];
      if (slot >= 0 && slot !== destination && protocol.prefetch !== undefined) {
        sum += protocol.prefetch(slot, sub - MESSAGE, fields[f + 6], fields[f + 7]);
      }
    }
    return sum;
  }

  private transportFor(index: number): Transport {
    const loop = this;
    return {
      get now() { return loop.queue.now; },
      period: this.settings.period,
      timeoutAfter: this.settings.timeout,
      send(from, to, kind, payload, bytes = 0) {
        if (loop.model.lost()) return false;
        // The destination's slot matters only to partitions and pairwise latencies;
        // otherwise a message to a node that has left is dropped when it arrives.
        let target = -1;
        if (loop.needsTarget || loop.network.partitioned) {
          target = loop.store.slotOf(to);
          if (target < 0) return false;
          if (loop.network.partitioned && !loop.network.reachable(from, target)) return false;
        }
        const at = loop.model.arrival(loop.queue.now, from, target, bytes);
        const fromId = from === loop.currentSlot ? loop.currentId : loop.store.idOf[from];
        loop.queue.schedule(at, index * 16 + MESSAGE + kind, to, fromId, payload);
        return true;
      },
      timeout(slot, delay, kind, payload) {
        const id = loop.store.idOf[slot];
        loop.queue.schedule(loop.queue.now + Math.max(0, Math.round(delay)), index * 16 + TIMEOUT + kind, id, id, payload);
      },
    };
  }
}
