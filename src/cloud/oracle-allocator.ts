import { z } from 'zod';
import { ScenarioError } from '../engine/errors.js';
import { defineProtocol, type Protocol, type ProtocolContext } from '../engine/protocol.js';
import { Assignments, type Allocator } from './allocator.js';
import { expandRequests, meets, parseConstraint, requestsSchema, type Request, type RequestsSpec } from './requests.js';

const params = z.strictObject({
  requests: requestsSchema,
});
type OracleParams = z.infer<typeof params>;

/** Request status. */
const WAITING = 0, ACTIVE = 1, RELEASED = 2;

/**
 * The centralised baseline: an allocator with global knowledge, against which the
 * decentralised one is measured in the same scenario. It sends no messages.
 *
 * At each time step (each cycle; in the event engine each instant at which it handles
 * an event, so it reacts at once) it releases the requests whose `until` has come
 * (every member freed), admits the requests whose `at` has come, and then, for the
 * active requests in order (priority descending, then arrival), takes free live nodes
 * meeting the request's constraints until its size is its target. There is no
 * preemption: a request that cannot be filled keeps what it has and waits (pending)
 * until nodes are freed or join. Members that leave the network are released at once
 * (onLeave) and replaced at the next step.
 *
 * Finding free qualifying nodes costs what is scanned, not N per request per step.
 * Each request scans the slots from a cursor of its own, which stays where the last
 * node it took was found. A scan that goes once round every slot without filling the
 * request has taken every free node that qualifies: the request is then `exhausted`,
 * and from then on only nodes that became free since can serve it. Those are in a
 * journal (a ring of slots: nodes released with their request, nodes that joined or
 * came back), which the request reads from where it last stopped. If the ring has
 * been overwritten since, the request scans again.
 */
class OracleAllocator implements Protocol, Allocator {
  readonly requests: readonly Request[];
  readonly assignments: Assignments;
  readonly messages = 0;
  /** Request ids by service order: priority descending, then arrival. */
  private readonly order: Int32Array;
  /** Per request: the constraints' attribute values, resolved once. */
  private readonly columns: Float64Array[][];
  private readonly status: Uint8Array;
  /** Per request: the slot its scan resumes at. */
  private readonly cursor: Int32Array;
  /** Per request: -1 while it scans; once exhausted, the journal position it has read up to. */
  private readonly seen: Float64Array;
  /** Slots of nodes that became free (released, joined, back online), a ring of `capacity` entries. */
  private readonly journal: Int32Array;
  private readonly s: {
    /** Journal entries written so far. */
    written: number;
    /** The last instant acted at (cycles; ms in the event engine). */
    time: number;
    /** Something may let a request take nodes: an arrival, a member or a node gone, a node freed. */
    dirty: boolean;
    /** The next request to arrive (requests are in arrival order). */
    next: number;
    /** The earliest release among active requests, in cycles. */
    nextRelease: number;
  };
  /** Engine time units per cycle. */
  private readonly period: number;

  constructor(private readonly ctx: ProtocolContext, p: OracleParams) {
    const { store, state } = ctx;
    checkAttributes(ctx, p.requests);
    this.requests = expandRequests(p.requests, ctx.scenario.seed, ctx.scenario.cycles);
    const count = this.requests.length;
    this.assignments = new Assignments(store.capacity, count, state);
    this.order = Int32Array.from([...this.requests].sort((a, b) => b.priority - a.priority || a.id - b.id).map((r) => r.id));
    this.columns = this.requests.map((r) => r.where.map((c) => store.attribute(c.attribute)));
    this.status = state.array('status', new Uint8Array(count).fill(WAITING));
    this.cursor = state.array('cursor', new Int32Array(count));
    this.seen = state.array('seen', new Float64Array(count).fill(-1));
    this.journal = state.array('journal', new Int32Array(Math.max(1, store.capacity)));
    this.s = state.values('steps', { written: 0, time: -1, dirty: false, next: 0, nextRelease: Infinity });
    this.period = ctx.scenario.period;
  }

  step(): void {}

  /** The allocator's work for the current instant: once per instant, nothing when nothing changed. */
  beginCycle(): void {
    const s = this.s;
    const now = this.ctx.clock.time;
    if (now === s.time && !s.dirty) return;
    s.time = now;
    const cycles = now / this.period;
    if (cycles >= s.nextRelease) this.releaseDue(cycles);
    const { requests, status } = this;
    if (s.next < requests.length && requests[s.next].at <= cycles) {
      while (s.next < requests.length && requests[s.next].at <= cycles) {
        const r = requests[s.next++];
        // A request that ends as it arrives is never served.
        status[r.id] = r.until <= cycles ? RELEASED : ACTIVE;
      }
      this.updateNextRelease();
      s.dirty = true;
    }
    if (!s.dirty) return;
    s.dirty = false;
    const { order, assignments } = this;
    for (let i = 0; i < order.length; i++) {
      const r = order[i];
      if (status[r] === ACTIVE && assignments.size[r] < requests[r].size) this.fill(r, now);
    }
  }

  onLeave(slot: number): void {
    if (this.assignments.owner[slot] < 0) return;
    this.assignments.release(slot, this.ctx.clock.time);
    this.s.dirty = true;
  }

  onJoin(slot: number, returning: boolean): void {
    // A node back online was released when it went: it returns free, with its past service.
    if (!returning) this.assignments.reset(slot);
    this.record(slot);
  }

  /** Takes free qualifying nodes for request r until it reaches its target or none is left. */
  private fill(r: number, now: number): void {
    const { store } = this.ctx;
    const { assignments, journal } = this;
    const capacity = store.capacity;
    let need = this.requests[r].size - assignments.size[r];
    let seen = this.seen[r];
    if (seen >= 0 && this.s.written - seen > journal.length) seen = -1; // entries lost: scan again
    if (seen >= 0) {
      const written = this.s.written;
      while (need > 0 && seen < written) {
        const slot = journal[seen++ % journal.length];
        if (this.free(r, slot)) {
          assignments.assign(slot, r, now);
          need--;
        }
      }
      this.seen[r] = seen;
      return;
    }
    let at = this.cursor[r];
    for (let scanned = 0; need > 0 && scanned < capacity; scanned++) {
      if (this.free(r, at)) {
        assignments.assign(at, r, now);
        need--;
      }
      if (++at === capacity) at = 0;
    }
    this.cursor[r] = at;
    // Round every slot without filling it: every free node that qualifies is now its.
    this.seen[r] = need > 0 ? this.s.written : -1;
  }

  /** Whether the node in `slot` is live, free and meets request r's constraints. */
  private free(r: number, slot: number): boolean {
    const { store } = this.ctx;
    if (store.alive[slot] === 0 || this.assignments.owner[slot] !== -1) return false;
    const where = this.requests[r].where;
    const columns = this.columns[r];
    for (let i = 0; i < where.length; i++) if (!meets(where[i], columns[i][slot])) return false;
    return true;
  }

  /** Releases every request whose time is up, freeing its members (one pass over the slots). */
  private releaseDue(cycles: number): void {
    const { requests, status, assignments } = this;
    let any = false;
    for (let r = 0; r < requests.length; r++) {
      if (status[r] === ACTIVE && requests[r].until <= cycles) {
        status[r] = RELEASED;
        if (assignments.size[r] > 0) any = true;
      }
    }
    if (any) {
      const { owner } = assignments;
      const now = this.ctx.clock.time;
      for (let slot = 0; slot < owner.length; slot++) {
        const r = owner[slot];
        if (r >= 0 && status[r] === RELEASED) {
          assignments.release(slot, now);
          this.record(slot);
        }
      }
    }
    this.updateNextRelease();
  }

  private updateNextRelease(): void {
    let next = Infinity;
    for (let r = 0; r < this.requests.length; r++) if (this.status[r] === ACTIVE) next = Math.min(next, this.requests[r].until);
    this.s.nextRelease = next;
  }

  /** The node in `slot` became free: requests that took every free node may now take it. */
  private record(slot: number): void {
    this.journal[this.s.written++ % this.journal.length] = slot;
    this.s.dirty = true;
  }
}

/** A constraint on an attribute the scenario does not define is a typo: say so at its key. */
export function checkAttributes(ctx: ProtocolContext, spec: RequestsSpec): void {
  const known = [...ctx.store.attributes.keys()];
  spec.forEach((block, i) => block.where.forEach((text, j) => {
    const { attribute } = parseConstraint(text)!;
    if (!ctx.store.attributes.has(attribute)) {
      throw new ScenarioError(`protocols.${ctx.name}.requests.${i}.where.${j}`,
        `expected a constraint on an attribute the scenario defines (${known.join(', ') || 'none: add them under attributes'}), found "${attribute}"`);
    }
  }));
}

export const oracleAllocation = defineProtocol({
  type: 'oracle-allocation',
  description: 'centralised allocation baseline: fills each subcloud at once from free qualifying nodes, by priority then arrival, with global knowledge',
  params,
  create: (ctx, p) => new OracleAllocator(ctx, p),
});
