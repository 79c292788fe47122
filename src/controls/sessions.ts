import { z } from 'zod';
import { drawLifetime, lifetimeSchema } from '../engine/lifetimes.js';
import { defineControl, type Context } from '../engine/protocol.js';
import { declaredAttribute } from '../engine/attribute.js';

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
 */
class Sessions {
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
  };

  constructor(private readonly ctx: Context, private readonly p: SessionParams) {
    const { capacity } = ctx.store;
    this.until = ctx.state.array('until', new Float64Array(capacity));
    this.since = ctx.state.array('since', new Float64Array(capacity));
    this.owner = ctx.state.array('owner', new Int32Array(capacity).fill(-1));
    this.resting = ctx.state.array('resting', new Uint8Array(capacity));
    this.lists = ctx.state.values('lists', { arrivals: [], completed: [] });
    if (p.scaleBy) declaredAttribute(ctx.store, p.scaleBy, `controls.${ctx.name}.scaleBy`);
  }

  /** Lengths (in the distribution's unit) of completed ON periods, up to `record` of them. */
  get completed(): readonly number[] {
    return this.lists.completed;
  }

  init(): void {
    for (let i = 0; i < this.ctx.store.size; i++) this.startSession(this.ctx.store.liveSlot(i), 0);
  }

  execute(cycle: number): void {
    const { store, membership } = this.ctx;
    // Slots in increasing order: the order of departures never depends on the live list's order.
    for (let slot = 0; slot < store.capacity; slot++) {
      if (store.alive[slot]) {
        if (this.owner[slot] !== store.idOf[slot]) this.startSession(slot, cycle); // joined through another control
        else if (this.until[slot] <= cycle) this.endSession(slot);
      } else if (this.resting[slot] && this.until[slot] <= cycle) {
        this.resting[slot] = 0;
        if (!store.offline[slot]) continue; // removed for good meanwhile
        const returnAt = this.until[slot];
        membership.resume(slot);
        this.startSession(slot, returnAt);
      }
    }
    const { arrivals } = this.lists;
    if (arrivals.length > 0) {
      const due = arrivals.filter((t) => t <= cycle).sort((a, b) => a - b);
      this.lists.arrivals = arrivals.filter((t) => t > cycle);
      for (const t of due) if (store.freeSlots > 0) this.startSession(membership.join(), t);
    }
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
    } else {
      membership.leave(slot, 'leave');
      this.owner[slot] = -1;
      if (offFor < Infinity) this.lists.arrivals.push(end + offFor);
    }
  }

  /** A session for the node in `slot`, starting at time `start` (in cycles). */
  private startSession(slot: number, start: number): void {
    this.owner[slot] = this.ctx.store.idOf[slot];
    this.resting[slot] = 0;
    this.since[slot] = start;
    this.until[slot] = start + this.draw(this.p.on, slot);
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
