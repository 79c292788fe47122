import { z } from 'zod';
import { drawLifetime, lifetimeSchema } from '../engine/lifetimes.js';
import { defineControl, type Context } from '../engine/protocol.js';
import { declaredAttribute } from '../engine/attribute.js';
import { SlotHeap } from '../engine/slot-heap.js';
import type { TimedControl } from '../engine/timed-control.js';

const params = z.strictObject({
  on: lifetimeSchema.describe('session (ON) length distribution (an empirical list needs a positive value)'),
  off: lifetimeSchema.optional().describe('downtime (OFF) length distribution; default: a node that leaves never returns'),
  unit: z.number().positive().default(1).describe('lengths are in units of which this many make one cycle (e.g. 1 with minutes and one cycle per minute)'),
  scaleBy: z.string().optional().describe('attribute multiplying each node\'s lengths: heterogeneous churn (Yao et al. 2006)'),
  returnAs: z.enum(['same', 'new']).default('same').describe('same: a returning node keeps its id and state; new: it comes back as a new node'),
  record: z.number().int().min(0).default(0).describe('keep the lengths of up to this many completed sessions (for analysis and tests)'),
});
type SessionParams = z.infer<typeof params>;

/**
 * Session churn: every node alternates ON and OFF periods drawn from the given
 * distributions. Periods run in continuous time; a node leaves or returns at the
 * start of the first cycle at or after its period ends.
 *
 * Each run acts, in increasing slot order, on the slots whose period has ended (a heap
 * of period ends finds them), and on nodes that another control brought in (a join, or
 * a return of a node this control has not seen) since its last run; those are found
 * by a scan of every slot, done only in runs after such a change. The engine runs it
 * only when something is due (TimedControl).
 */
class Sessions implements TimedControl {
  /** slot -> end of its node's current period, in cycles. */
  private readonly until: Float64Array;
  /** slot -> id of the node whose periods `until` and `since` describe (-1: none): a slot reused by another control's join gets a fresh session. */
  private readonly owner: Int32Array;
  /** slot -> 1 while its node is in an OFF period that this control started. */
  private readonly resting: Uint8Array;
  /** slot -> start of its node's current ON period, in cycles. */
  private readonly since: Float64Array;
  /** Declared values, restored in place: always read through this object. */
  private readonly lists: {
    /** Return times of nodes that left and come back as new nodes (returnAs: new), unordered. */
    arrivals: number[];
    /** Lengths (in the distribution's unit) of completed ON periods, up to `record` of them. */
    completed: number[];
    /** The earliest of `arrivals` (Infinity: none). */
    nextArrival: number;
    /** membership.counts.joined after this control's last run: a difference means another control joined or returned nodes since. */
    seenJoined: number;
  };
  /** Slots by the end of their period (`until`): at most one entry per slot. */
  private readonly ends: SlotHeap;
  /** Scratch: the slots due in one run. */
  private due: Int32Array;

  constructor(private readonly ctx: Context, private readonly p: SessionParams) {
    const { capacity } = ctx.store;
    this.until = ctx.state.array('until', new Float64Array(capacity));
    this.since = ctx.state.array('since', new Float64Array(capacity));
    this.owner = ctx.state.array('owner', new Int32Array(capacity).fill(-1));
    this.resting = ctx.state.array('resting', new Uint8Array(capacity));
    this.lists = ctx.state.values('lists', { arrivals: [], completed: [], nextArrival: Infinity, seenJoined: 0 });
    this.ends = new SlotHeap(capacity, this.until, ctx.state);
    this.due = new Int32Array(16);
    if (p.scaleBy) declaredAttribute(ctx.store, p.scaleBy, `controls.${ctx.name}.scaleBy`);
  }

  /** Lengths (in the distribution's unit) of completed ON periods, up to `record` of them. */
  get completed(): readonly number[] {
    return this.lists.completed;
  }

  init(): void {
    for (let i = 0; i < this.ctx.store.size; i++) this.startSession(this.ctx.store.liveSlot(i), 0);
    this.lists.seenJoined = this.ctx.membership.counts.joined;
  }

  isDue(cycle: number): boolean {
    return this.ctx.membership.counts.joined !== this.lists.seenJoined || this.ends.minKey() <= cycle || this.lists.nextArrival <= cycle;
  }

  dueAt(): number {
    return this.ctx.membership.counts.joined !== this.lists.seenJoined ? -Infinity : Math.min(this.ends.minKey(), this.lists.nextArrival);
  }

  execute(cycle: number): void {
    const { store, membership } = this.ctx;
    // The slots whose period ended, in increasing order: the order of departures and of
    // the draws never depends on the heap's or the live list's order.
    let count = 0;
    while (this.ends.minKey() <= cycle) {
      if (count === this.due.length) this.growDue();
      this.due[count++] = this.ends.pop();
    }
    const due = this.due.subarray(0, count).sort();
    if (membership.counts.joined !== this.lists.seenJoined) {
      // Another control brought nodes in: every slot, as due ones are among them.
      for (let slot = 0; slot < store.capacity; slot++) this.act(slot, cycle);
    } else {
      for (let i = 0; i < count; i++) this.act(due[i], cycle);
    }
    const { arrivals } = this.lists;
    if (this.lists.nextArrival <= cycle) {
      const arriving = arrivals.filter((t) => t <= cycle).sort((a, b) => a - b);
      this.lists.arrivals = arrivals.filter((t) => t > cycle);
      this.lists.nextArrival = this.lists.arrivals.reduce((a, b) => Math.min(a, b), Infinity);
      for (const t of arriving) if (store.freeSlots > 0) this.startSession(membership.join(), t);
    }
    this.lists.seenJoined = membership.counts.joined;
  }

  /** What a run at `cycle` does for `slot`, if anything. */
  private act(slot: number, cycle: number): void {
    const { store, membership } = this.ctx;
    if (store.alive[slot]) {
      if (this.owner[slot] !== store.idOf[slot]) this.startSession(slot, cycle); // joined through another control
      else if (this.until[slot] <= cycle) this.endSession(slot);
    } else if (this.resting[slot] && this.until[slot] <= cycle) {
      this.resting[slot] = 0;
      if (!store.offline[slot]) return; // removed for good meanwhile
      const returnAt = this.until[slot];
      membership.resume(slot);
      this.startSession(slot, returnAt);
    }
    // Otherwise a node another control took away (its end is dropped: its return, by
    // another control too, makes the next run scan every slot).
  }

  private growDue(): void {
    const grown = new Int32Array(this.due.length * 2);
    grown.set(this.due);
    this.due = grown;
  }

  private endSession(slot: number): void {
    const { membership } = this.ctx;
    const end = this.until[slot];
    const { completed } = this.lists;
    if (completed.length < this.p.record) completed.push((end - this.since[slot]) * this.p.unit);
    const offFor = this.p.off ? this.draw(this.p.off, slot) : Infinity;
    if (this.p.returnAs === 'same' && offFor < Infinity) {
      membership.suspend(slot, 'leave');
      this.until[slot] = end + offFor;
      this.resting[slot] = 1;
      this.ends.update(slot);
    } else {
      membership.leave(slot, 'leave');
      this.owner[slot] = -1;
      if (offFor < Infinity) {
        this.lists.arrivals.push(end + offFor);
        this.lists.nextArrival = Math.min(this.lists.nextArrival, end + offFor);
      }
    }
  }

  /** A session for the node in `slot`, starting at time `start` (in cycles). */
  private startSession(slot: number, start: number): void {
    this.owner[slot] = this.ctx.store.idOf[slot];
    this.resting[slot] = 0;
    this.since[slot] = start;
    this.until[slot] = start + this.draw(this.p.on, slot);
    this.ends.update(slot);
  }

  /** A length in cycles. */
  private draw(spec: SessionParams['on'], slot: number): number {
    const scale = this.p.scaleBy ? this.ctx.store.attribute(this.p.scaleBy)[slot] : 1;
    return (drawLifetime(spec, this.ctx.random) * scale) / this.p.unit;
  }
}

export const sessions = defineControl({
  type: 'sessions',
  description: 'session churn: each node alternates ON and OFF periods (exponential, weibull, pareto, lognormal, empirical)',
  params,
  // Sessions that all last 0 would end as they start: no node would ever be up.
  check: (p) => (p.on.dist === 'empirical' && p.on.values.every((v) => v === 0)
    ? [{ key: 'on.values', message: 'expected at least one positive session length, found only 0' }]
    : []),
  continuous: true,
  create: (ctx, p) => new Sessions(ctx, p),
});
