import type { BatchedStep, Linkable, Prefetching, Protocol, ProtocolContext } from '../../engine/protocol.js';
import type { Random } from '../../engine/random.js';
import type { SlabPool } from '../../engine/slab-pool.js';
import { CountInstances } from './count-instances.js';
import { Inputs } from './inputs.js';
import type { AggregationFunction, AggregationParams } from './params.js';

/** How the per-node `values` combine in an exchange (plain numbers: a switch on them stays cheap). */
const NONE = 0, AVERAGE = 1, MIN = 2, MAX = 3;

/**
 * The combination of a node's value `a` with another's `b` by `rule` (AVERAGE, MIN or
 * MAX; count instances always average): the one rule both engines' exchanges apply.
 */
function combine(rule: number, a: number, b: number): number {
  return rule === AVERAGE ? (a + b) / 2 : rule === MIN ? (a < b ? a : b) : (a > b ? a : b);
}

const BATCH = 16;

/** Event engine message kinds. */
const REQUEST = 0, REPLY = 1;

/**
 * Push-pull gossip aggregation (Jelasity, Montresor, Babaoglu 2005). Each cycle every
 * participating node P draws a peer Q from the sampling service and both end with
 * the combination of their values: the mean for average, count and sum (whose
 * average-based parts keep the total mass), the min or max for min and max.
 *
 * Failures, as the paper models them:
 * - a peer that has left (or that a partition cuts off) is skipped: nothing moves;
 * - a node that leaves takes its value with it (mass is lost; counting overestimates);
 * - with `exchangeFailure` P_d, an exchange fails as a whole with probability P_d
 *   (the paper's model of link failures): neither node changes, the mass is kept;
 * - with `loss` p, P's request is lost with probability p (nothing happens), else Q
 *   updates and its reply is lost with probability p: P keeps its old value while Q
 *   already holds the combination, so the total mass changes by (x_P - x_Q)/2.
 *
 * Epochs: every `epoch` cycles all live nodes restart from their current inputs (and
 * count elects new leaders). A node that joins mid-epoch neither initiates nor
 * answers until the next epoch starts (without epochs: never).
 *
 * State is typed arrays by slot; no object per node or per exchange. Everything that
 * lasts between steps is declared through ctx.state (the arrays, the epoch's
 * bookkeeping, the messages in flight), so that checkpoints save it.
 */
export class Aggregation implements Protocol, BatchedStep, Prefetching {
  readonly function: AggregationFunction;
  /** slot -> running value: the estimate for average, min, max; the average of the inputs for sum. */
  readonly values: Float64Array;
  /** The size-estimating instances, for count and sum. */
  readonly counts: CountInstances | undefined;
  /** slot -> 1 while the node takes part in the current epoch. */
  readonly participating: Uint8Array;
  readonly inputs: Inputs;
  /**
   * The epoch's bookkeeping: the cycle it started at; the cycle whose sweep was last
   * prepared (epoch restart); whether no node has joined since it started (then the
   * participation checks can be skipped).
   */
  private readonly epochState: { start: number; prepared: number; everyoneParticipates: boolean };

  private readonly rule: number;
  private readonly epoch: number | undefined;
  private readonly loss: number;
  private readonly exchangeFailure: number;
  private peers!: Linkable;
  /** Set by `drawPeer`: the fate of the messages of the exchange just drawn. */
  private requestLost = false;
  private replyLost = false;
  /** Whether a partition is in force (then each peer is resolved by ctx.contact). */
  private partitioned = false;
  private readonly random: Random;
  // One batch of exchanges in flight in stepAll(): drawn peer ids, their slots, lost replies.
  private readonly batchId = new Int32Array(BATCH);
  private readonly batchPeer = new Int32Array(BATCH);
  private readonly batchReplyLost = new Uint8Array(BATCH);
  /** Sum of early-loaded values; kept so those loads are not optimised away. */
  private prefetchSink = 0;
  /**
   * Event engine: one record per message in flight: the sender's state (its value, or
   * its count instances), then the epoch it belongs to, then 1 if the reply is to be lost.
   */
  private readonly payloads?: SlabPool<Float64Array>;
  /** Event engine: a node's state as it was before it combined, for its reply. */
  private readonly scratch: Float64Array;

  constructor(private readonly ctx: ProtocolContext, private readonly p: AggregationParams) {
    const { store } = ctx;
    this.function = p.function;
    this.rule = p.function === 'count' ? NONE : p.function === 'min' ? MIN : p.function === 'max' ? MAX : AVERAGE;
    this.epoch = p.epoch;
    this.loss = p.loss;
    this.exchangeFailure = p.exchangeFailure;
    this.values = ctx.state.array('values', new Float64Array(store.capacity));
    this.participating = ctx.state.array('participating', new Uint8Array(store.capacity));
    this.inputs = new Inputs(store, p.init, ctx.scenario.size, `protocols.${ctx.name}`, ctx.state);
    this.counts = p.function === 'count' || p.function === 'sum' ? new CountInstances(store, p.leaders, ctx.scenario.size, ctx.state) : undefined;
    this.epochState = ctx.state.values('epoch', { start: 0, prepared: -1, everyoneParticipates: false });
    this.random = ctx.random;
    const width = 1 + (this.counts ? this.counts.width : 0);
    this.scratch = new Float64Array(width);
    if (ctx.engine === 'event') this.payloads = ctx.state.pool('messages', width + 2, (n) => new Float64Array(n));
  }

  /** Cycle (completed cycles) at which the current epoch started. */
  get epochStart(): number {
    return this.epochState.start;
  }

  init(): void {
    // Resolved here, not in the constructor, so the sampler may be declared after us.
    this.peers = this.ctx.linkable(this.p.sampler);
    this.inputs.initialise(this.ctx.initRandom);
    this.restart(this.ctx.initRandom);
  }

  /** The node's input: what it contributes to the aggregate (1 for count). */
  input(slot: number): number {
    return this.function === 'count' ? 1 : this.inputs.of(slot);
  }

  /** The node's current estimate of the aggregate. */
  estimate(slot: number): number {
    switch (this.function) {
      case 'count': return this.counts!.estimate(slot);
      case 'sum': return this.values[slot] * this.counts!.estimate(slot);
      default: return this.values[slot];
    }
  }

  isParticipating(slot: number): boolean {
    return this.participating[slot] === 1;
  }

  /**
   * A node that joins, or comes back from being offline, sits the current epoch out
   * and holds no mass in it. A new node gets an input and learns N̂ from the node
   * that introduced it; a returning one still has both.
   */
  onJoin(slot: number, returning = false): void {
    this.participating[slot] = 0;
    this.epochState.everyoneParticipates = false;
    this.values[slot] = 0;
    this.counts?.clear(slot);
    if (returning) return;
    this.inputs.assignJoiner(slot, this.random);
    if (this.counts) {
      const contact = this.peers === undefined ? -1 : this.ctx.store.slotOf(this.peers.samplePeer(slot, this.random));
      this.counts.sizeGuess[slot] = contact >= 0 ? this.counts.sizeGuess[contact] : this.ctx.scenario.size;
    }
  }

  /** A node that leaves (or goes offline) takes its share of the epoch's mass with it: the paper's crash. */
  onLeave(slot: number): void {
    this.participating[slot] = 0;
    this.values[slot] = 0;
    this.counts?.clear(slot);
  }

  step(slot: number): void {
    this.refresh();
    const id = this.drawPeer(slot);
    const q = id < 0 || this.requestLost ? -1 : this.resolvePeer(slot, id);
    if (q >= 0) this.exchange(slot, q, this.replyLost);
  }

  /**
   * The same exchanges as step() over order[0..count-1], in batches of 16 split into
   * stages of independent loads, so that the cache misses of 16 exchanges overlap
   * instead of following one another (JavaScript has no prefetch instruction; an early
   * load folded into a kept sum is the nearest thing). At 10^6 nodes every stage
   * touches memory far outside the CPU caches: the initiator's sampler record and
   * value, the id -> slot map, the peer's value.
   */
  stepAll(order: Int32Array, from: number, to: number): void {
    this.refresh();
    const peers = this.peers;
    const store = this.ctx.store;
    // What an exchange reads first on each side: the count instances if any, else the value.
    const state = this.counts ? this.counts.values : this.values;
    const stride = this.counts ? this.counts.width : 1;
    const batchId = this.batchId;
    const batchPeer = this.batchPeer;
    const batchReplyLost = this.batchReplyLost;
    let sink = 0;
    for (let start = from; start < to; start += BATCH) {
      const end = Math.min(start + BATCH, to);
      // Warm the initiators' sampler records and state.
      for (let i = start; i < end; i++) {
        const p = order[i];
        sink = (sink + peers.degree(p) + (state[p * stride] > 0 ? 1 : 0)) | 0;
      }
      // Draw: the same draws, in the same order, as step() makes.
      for (let i = start; i < end; i++) {
        const id = this.drawPeer(order[i]);
        // A lost request is an exchange that never happens: drop it here.
        batchId[i - start] = this.requestLost ? -1 : id;
        batchReplyLost[i - start] = this.replyLost ? 1 : 0;
      }
      // Warm the id -> slot entries, then the peers' state.
      for (let i = start; i < end; i++) {
        const id = batchId[i - start];
        if (id >= 0) sink = (sink + store.prefetchId(id)) | 0;
      }
      for (let i = start; i < end; i++) {
        const id = batchId[i - start];
        const q = id < 0 ? -1 : this.resolvePeer(order[i], id);
        batchPeer[i - start] = q;
        if (q >= 0) sink = (sink + (state[q * stride] > 0 ? 1 : 0)) | 0;
      }
      for (let i = start; i < end; i++) {
        const q = batchPeer[i - start];
        if (q >= 0) this.exchange(order[i], q, batchReplyLost[i - start] === 1);
      }
    }
    this.prefetchSink = (this.prefetchSink + sink) | 0;
  }

  /** Before a cycle's exchanges: re-read what the engine may have changed (a partition). */
  private refresh(): void {
    this.partitioned = this.ctx.network.partitioned;
  }

  /** Once per cycle, before the first exchange or event (the engine calls it): restart at an epoch boundary. */
  beginCycle(): void {
    const cycle = this.ctx.clock.cycle;
    if (this.epochState.prepared === cycle) return;
    this.epochState.prepared = cycle;
    if (this.epoch !== undefined && cycle > 0 && cycle % this.epoch === 0) this.restart(this.random);
  }

  /**
   * Draws initiator p's peer id from the sampler (-1: p sits this epoch out, or knows
   * no one) and, with failures, the fate of the exchange and of its messages. Every
   * draw comes from here, whatever happens to the peer, so step() and stepAll()
   * consume the stream identically. Sets `requestLost` and `replyLost`: an exchange
   * that fails as a whole is one whose request is lost (nothing changes anywhere).
   */
  private drawPeer(p: number): number {
    this.requestLost = false;
    this.replyLost = false;
    if (!this.epochState.everyoneParticipates && this.participating[p] === 0) return -1;
    const random = this.random;
    const id = this.peers.samplePeer(p, random);
    if (id >= 0 && this.exchangeFailure > 0 && random.next() < this.exchangeFailure) this.requestLost = true;
    if (id >= 0 && this.loss > 0) {
      if (random.next() < this.loss) this.requestLost = true;
      this.replyLost = random.next() < this.loss;
    }
    return id;
  }

  /** The slot of p's drawn peer `id`, or -1 if no exchange happens: the peer left, is cut off by a partition, or sits this epoch out. */
  private resolvePeer(p: number, id: number): number {
    // The store's id map is the engine's answer too while no partition is in force.
    const q = this.partitioned ? this.ctx.contact(p, id) : this.ctx.store.slotOf(id);
    if (q < 0 || q === p) return -1;
    if (!this.epochState.everyoneParticipates && this.participating[q] === 0) return -1;
    return q;
  }

  /** Push-pull between initiator p and peer q: q always updates, p unless the reply was lost. */
  private exchange(p: number, q: number, replyLost: boolean): void {
    const rule = this.rule;
    if (rule !== NONE) {
      const values = this.values;
      const combined = combine(rule, values[p], values[q]);
      values[q] = combined;
      if (!replyLost) values[p] = combined;
    }
    const counts = this.counts;
    if (counts !== undefined) {
      const x = counts.values;
      const width = counts.width;
      const pBase = p * width, qBase = q * width;
      for (let k = 0, n = counts.running; k < n; k++) {
        const combined = combine(AVERAGE, x[pBase + k], x[qBase + k]);
        x[qBase + k] = combined;
        if (!replyLost) x[pBase + k] = combined;
      }
    }
  }

  /**
   * Event engine: the timer fired at p: send p's state to a peer. The peer combines
   * on arrival and answers with its state as it was; p combines when the answer
   * arrives. Exchanges are no longer atomic: values move meanwhile, so averaging
   * drifts from the true mean as it does in deployments. An exchange that fails as a
   * whole (`exchangeFailure`) is a request dropped before anything changes.
   */
  onTimer(p: number): void {
    const id = this.drawPeer(p);
    if (id < 0 || this.requestLost || id === this.ctx.store.idOf[p]) return;
    const pool = this.payloads!;
    const record = pool.allocate();
    const base = record * pool.width;
    this.writeState(p, pool.data, base);
    pool.data[base + pool.width - 2] = this.epochState.start;
    pool.data[base + pool.width - 1] = this.replyLost ? 1 : 0;
    if (!this.ctx.transport!.send(p, id, REQUEST, record, 8 * (pool.width - 2))) pool.release(record);
  }

  /** Event engine: early reads of the state an upcoming timer or message will touch. */
  prefetch(slot: number, message: number, _from: number, payload: number): number {
    const state = this.counts ? this.counts.values[slot * this.counts.width] : this.values[slot];
    if (message < 0) return state + this.ctx.store.idOf[slot] + (this.peers.prefetchPeers?.(slot) ?? 0);
    const pool = this.payloads!;
    const at = payload * pool.width;
    return state + pool.data[at] + pool.data[at + pool.width - 1];
  }

  onMessage(slot: number, kind: number, from: number, payload: number): void {
    const pool = this.payloads!;
    const base = payload * pool.width;
    const data = pool.data;
    const current = data[base + pool.width - 2] === this.epochState.start && (this.epochState.everyoneParticipates || this.participating[slot] === 1);
    if (kind === REQUEST && current) {
      // Answer with our state as it was, then combine with what came.
      const replyLost = data[base + pool.width - 1] === 1;
      const scratch = this.scratch;
      this.writeState(slot, scratch, 0);
      this.combineFrom(slot, data, base);
      for (let k = 0; k < pool.width - 2; k++) data[base + k] = scratch[k];
      if (!replyLost && this.ctx.transport!.send(slot, from, REPLY, payload, 8 * (pool.width - 2))) return;
    } else if (kind === REPLY && current) {
      this.combineFrom(slot, data, base);
    }
    pool.release(payload);
  }

  onUndelivered(_kind: number, payload: number): void {
    this.payloads!.release(payload);
  }

  /** Copies the node's exchanged state to out[base...]: its value, then its count instances (count, sum). */
  private writeState(slot: number, out: Float64Array, base: number): void {
    out[base] = this.values[slot];
    const counts = this.counts;
    if (counts) for (let k = 0, width = counts.width; k < width; k++) out[base + 1 + k] = counts.values[slot * width + k];
  }

  /** Combines the node's state with a received one (laid out as writeState does), by the function's rule. */
  private combineFrom(slot: number, data: Float64Array, base: number): void {
    if (this.rule !== NONE) this.values[slot] = combine(this.rule, this.values[slot], data[base]);
    const counts = this.counts;
    if (counts) {
      const x = counts.values;
      const width = counts.width;
      for (let k = 0, n = counts.running; k < n; k++) x[slot * width + k] = combine(AVERAGE, x[slot * width + k], data[base + 1 + k]);
    }
  }

  /** A new epoch: every live node takes part, starting again from its current input. */
  private restart(random: Random): void {
    const { store } = this.ctx;
    const counts = this.counts;
    for (let i = 0; i < store.size; i++) {
      const slot = store.liveSlot(i);
      if (counts && this.participating[slot] === 1) counts.rememberEstimate(slot);
      this.participating[slot] = 1;
      this.values[slot] = this.inputs.of(slot);
    }
    counts?.restart(store, random);
    this.epochState.everyoneParticipates = true;
    this.epochState.start = this.ctx.clock.cycle;
  }
}
