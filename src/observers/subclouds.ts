import { z } from 'zod';
import type { Allocator } from '../cloud/allocator.js';
import { meets, type Constraint } from '../cloud/requests.js';
import { ScenarioError } from '../engine/errors.js';
import { defineObserver, type Context, type ObserverInstance } from '../engine/protocol.js';

const params = z.strictObject({
  allocator: z.string().describe('the allocator to measure: an allocation, absolute-slicing or oracle-allocation instance'),
});
type SubcloudsParams = z.infer<typeof params>;

/** Per request, in this order, as `r<id>/<metric>`. */
const perRequest = ['target', 'size', 'valid_members', 'time_to_fill', 'time_stable', 'overshoot', 'undershoot', 'repair_time', 'received'] as const;
const global = ['free_nodes', 'pending_requests', 'unsatisfiable_requests', 'utilisation', 'jain_fairness', 'double_assigned', 'constraint_violations', 'messages_per_node'] as const;
/** Within ±5% of target for this many consecutive cycles: stable. */
const STABLE_CYCLES = 10;
const BAND = 0.05;

/**
 * How well an allocator serves its subclouds. Times are in cycles in both engines (the
 * event engine's time divided by its period), counted from the request's arrival `at`;
 * node-time (`received`) is in the engine's unit, node-cycles or node-ms. A request is
 * active from `at` until `until`. The bookkeeping is done at the observer's own
 * observations (every cycle by default), so times are at the resolution of its schedule.
 *
 * Per request r, as `r<id>/...`:
 * - `target`: the size asked, while r is active; NaN before it arrives and once released.
 * - `size`: its members now, as the allocator counts them.
 * - `valid_members`: live nodes that serve r and meet its constraints.
 * - `time_to_fill`: from arrival to the first observation with size >= target (NaN until then).
 * - `time_stable`: from arrival to the first cycle of the first run of observations
 *   spanning 10 consecutive cycles (s, s+1, ..., s+9) at which the size was within ±5%
 *   of the target (NaN until then).
 * - `overshoot`, `undershoot`: since r was first filled, the largest (size - target) / target
 *   and (target - size) / target seen (0 if never over or under; NaN until filled).
 * - `repair_time`: since first filled, the mean time from an observation below target to
 *   the first one back at or above it (NaN until a repair is complete).
 * - `received`: node-time its members have served it so far.
 *
 * Globally:
 * - `free_nodes`: live nodes serving no request; `utilisation`: the fraction of live nodes serving one.
 * - `pending_requests`: active requests below target that the live population could satisfy;
 *   `unsatisfiable_requests`: active ones whose target exceeds the live nodes meeting their constraints.
 * - `jain_fairness`: Jain's index (sum x)^2 / (n sum x^2) over the customers asked anything
 *   so far, of x = node-time received / node-time asked (target times time active so far).
 * - `double_assigned`: for each request, the difference between the allocator's count and
 *   the live nodes that serve it, plus the live nodes the allocator's side claims
 *   (Allocator.forEachClaim) for a request they do not serve (two requests at once, or
 *   one they left). Must stay 0.
 * - `constraint_violations`: live nodes serving a request whose constraints they do not meet. Must stay 0.
 * - `messages_per_node`: the allocator's messages since the previous observation, per live
 *   node and per cycle.
 *
 * Its summary (in the manifest) gives the node-time received per customer, and the
 * node-time served: in total (every node that ever served, departed ones included), and
 * the mean and maximum per node over the nodes live at the end (each over its life).
 */
class SubcloudsObserver implements ObserverInstance {
  readonly metrics: readonly string[];
  private readonly allocator: Allocator;
  /** Requests by their constraint set (most share one): qualifying nodes are counted once per set. */
  private readonly groupOf: Int32Array;
  private readonly groups: ConstraintSet[] = [];
  private readonly customers: string[] = [];
  private readonly customerOf: Int32Array;
  private readonly period: number;
  // The bookkeeping between observations, per request (checkpointed).
  private readonly filledAt: Float64Array;
  private readonly runStart: Float64Array;
  private readonly stableAt: Float64Array;
  private readonly overshoot: Float64Array;
  private readonly undershoot: Float64Array;
  private readonly dropAt: Float64Array;
  private readonly repairSum: Float64Array;
  private readonly repairs: Int32Array;
  private readonly last: { time: number; messages: number };
  // Scratch for one observation.
  private readonly members: Int32Array;
  private readonly violations: Int32Array;
  private readonly qualifying: Int32Array;
  private readonly needed: Uint8Array;
  private claimed = new Uint8Array(0);

  constructor(private readonly ctx: Context, p: SubcloudsParams) {
    const instance = ctx.protocol(p.allocator);
    if (!('assignments' in instance && 'requests' in instance)) {
      throw new ScenarioError(`observers.${ctx.name}.allocator`, `expected the name of an allocator (allocation, absolute-slicing, oracle-allocation), found "${p.allocator}" (of another type)`);
    }
    this.allocator = instance as unknown as Allocator;
    const { requests } = this.allocator;
    const count = requests.length;
    this.period = ctx.scenario.period;
    const groupKeys = new Map<string, number>();
    this.groupOf = new Int32Array(count);
    this.customerOf = new Int32Array(count);
    const customerIndex = new Map<string, number>();
    for (const r of requests) {
      const key = r.where.map((c) => c.text).join(' && ');
      let g = groupKeys.get(key);
      if (g === undefined) {
        g = this.groups.length;
        groupKeys.set(key, g);
        this.groups.push(new ConstraintSet(r.where, ctx.store.attributes));
      }
      this.groupOf[r.id] = g;
      let c = customerIndex.get(r.customer);
      if (c === undefined) {
        c = this.customers.length;
        customerIndex.set(r.customer, c);
        this.customers.push(r.customer);
      }
      this.customerOf[r.id] = c;
    }
    const { state } = ctx;
    const undefinedYet = () => new Float64Array(count).fill(NaN);
    this.filledAt = state.array('filled-at', undefinedYet());
    this.runStart = state.array('run-start', undefinedYet());
    this.stableAt = state.array('stable-at', undefinedYet());
    this.overshoot = state.array('overshoot', undefinedYet());
    this.undershoot = state.array('undershoot', undefinedYet());
    this.dropAt = state.array('drop-at', undefinedYet());
    this.repairSum = state.array('repair-sum', new Float64Array(count));
    this.repairs = state.array('repairs', new Int32Array(count));
    this.last = state.values('last', { time: 0, messages: 0 });
    this.members = new Int32Array(count);
    this.violations = new Int32Array(count);
    this.qualifying = new Int32Array(this.groups.length);
    this.needed = new Uint8Array(this.groups.length);
    this.metrics = [...global, ...requests.flatMap((r) => perRequest.map((m) => `r${r.id}/${m}`))];
  }

  observe(emit: (metric: string, value: number) => void): void {
    const { store, clock } = this.ctx;
    const { requests, assignments } = this.allocator;
    const { owner } = assignments;
    const now = clock.time;
    const t = now / this.period;
    const count = requests.length;
    const active = (r: number) => requests[r].at <= t && t < requests[r].until;

    // One pass over the slots, in memory order (the live list's order is scattered):
    // members, violations, and the qualifying nodes of each constraint set in use.
    const { members, violations, qualifying, needed, groupOf, groups } = this;
    members.fill(0);
    violations.fill(0);
    qualifying.fill(0);
    needed.fill(0);
    for (let r = 0; r < count; r++) if (active(r)) needed[groupOf[r]] = 1;
    const counted: ConstraintSet[] = [], countedIndex: number[] = [];
    for (let g = 0; g < groups.length; g++) {
      if (needed[g] === 0 || groups[g].never) continue;
      if (groups[g].unconstrained) qualifying[g] = store.size;
      else {
        counted.push(groups[g]);
        countedIndex.push(g);
      }
    }
    const counts = new Int32Array(counted.length);
    const alive = store.alive;
    const n = store.size;
    let free = 0, stray = 0;
    for (let slot = 0, end = store.capacity; slot < end; slot++) {
      if (alive[slot] === 0) continue;
      const r = owner[slot];
      if (r < 0) free++;
      else if (r >= count) stray++;
      else {
        members[r]++;
        if (!groups[groupOf[r]].test(slot)) violations[r]++;
      }
      for (let c = 0; c < counted.length; c++) if (counted[c].test(slot)) counts[c]++;
    }
    for (let c = 0; c < counted.length; c++) qualifying[countedIndex[c]] = counts[c];

    let doubles = stray + this.conflictingClaims();
    let violated = 0;
    for (let r = 0; r < count; r++) {
      doubles += Math.abs(assignments.size[r] - members[r]);
      violated += violations[r];
    }

    let pending = 0, unsatisfiable = 0;
    for (let r = 0; r < count; r++) {
      if (!active(r)) continue;
      const target = requests[r].size;
      if (target > qualifying[groupOf[r]]) unsatisfiable++;
      else if (assignments.size[r] < target) pending++;
      this.track(r, t, assignments.size[r], target);
    }

    const messages = this.allocator.messages;
    const elapsed = t - this.last.time / this.period;
    emit('free_nodes', free);
    emit('pending_requests', pending);
    emit('unsatisfiable_requests', unsatisfiable);
    emit('utilisation', n > 0 ? (n - free) / n : NaN);
    emit('jain_fairness', this.fairness(now, t));
    emit('double_assigned', doubles);
    emit('constraint_violations', violated);
    emit('messages_per_node', n > 0 && elapsed > 0 ? (messages - this.last.messages) / n / elapsed : NaN);
    this.last.time = now;
    this.last.messages = messages;

    for (let r = 0; r < count; r++) {
      const { at, size } = requests[r];
      const prefix = `r${r}/`;
      emit(`${prefix}target`, active(r) ? size : NaN);
      emit(`${prefix}size`, assignments.size[r]);
      emit(`${prefix}valid_members`, members[r] - violations[r]);
      emit(`${prefix}time_to_fill`, this.filledAt[r] - at);
      emit(`${prefix}time_stable`, this.stableAt[r] - at);
      emit(`${prefix}overshoot`, this.overshoot[r]);
      emit(`${prefix}undershoot`, this.undershoot[r]);
      emit(`${prefix}repair_time`, this.repairs[r] > 0 ? this.repairSum[r] / this.repairs[r] : NaN);
      emit(`${prefix}received`, assignments.received(r, now));
    }
  }

  summary(): Record<string, unknown> {
    const { store, clock } = this.ctx;
    const { requests, assignments } = this.allocator;
    const now = clock.time;
    const received: Record<string, number> = {};
    for (const customer of this.customers) received[customer] = 0;
    let total = 0;
    for (const r of requests) {
      const got = assignments.received(r.id, now);
      received[r.customer] += got;
      total += got;
    }
    let sum = 0, max = 0;
    const n = store.size;
    for (let i = 0; i < n; i++) {
      const served = assignments.served(store.liveSlot(i), now);
      sum += served;
      max = Math.max(max, served);
    }
    return {
      unit: this.ctx.engine === 'cycle' ? 'node-cycles' : 'node-ms',
      time: now,
      received_per_customer: received,
      served: { total, mean_per_node: n > 0 ? sum / n : null, max_per_node: max, nodes: n },
    };
  }

  /** Updates request r's fill, stability, over/undershoot and repair records at time t (cycles). */
  private track(r: number, t: number, size: number, target: number): void {
    // Stability counts from arrival: a subcloud held a little short of its target (the
    // allocator corrects only beyond its tolerance) is stable without ever being filled.
    if (Math.abs(size - target) <= BAND * target) {
      if (Number.isNaN(this.runStart[r])) this.runStart[r] = t;
      if (Number.isNaN(this.stableAt[r]) && t - this.runStart[r] >= STABLE_CYCLES - 1) this.stableAt[r] = this.runStart[r];
    } else {
      this.runStart[r] = NaN;
    }
    const filled = size >= target;
    if (Number.isNaN(this.filledAt[r])) {
      if (!filled) return;
      this.filledAt[r] = t;
      this.overshoot[r] = 0;
      this.undershoot[r] = 0;
    }
    this.overshoot[r] = Math.max(this.overshoot[r], (size - target) / target);
    this.undershoot[r] = Math.max(this.undershoot[r], (target - size) / target);
    if (!filled) {
      if (Number.isNaN(this.dropAt[r])) this.dropAt[r] = t;
    } else if (!Number.isNaN(this.dropAt[r])) {
      this.repairSum[r] += t - this.dropAt[r];
      this.repairs[r]++;
      this.dropAt[r] = NaN;
    }
  }

  /** Jain's index over the customers asked anything so far, of received / asked node-time. */
  private fairness(now: number, t: number): number {
    const { requests, assignments } = this.allocator;
    const got = new Float64Array(this.customers.length);
    const asked = new Float64Array(this.customers.length);
    for (const r of requests) {
      const active = Math.min(t, r.until) - r.at;
      if (active <= 0) continue;
      asked[this.customerOf[r.id]] += r.size * active * this.period;
      got[this.customerOf[r.id]] += assignments.received(r.id, now);
    }
    let k = 0, sum = 0, squares = 0;
    for (let c = 0; c < asked.length; c++) {
      if (asked[c] <= 0) continue;
      const x = got[c] / asked[c];
      k++;
      sum += x;
      squares += x * x;
    }
    return k > 0 && squares > 0 ? (sum * sum) / (k * squares) : NaN;
  }

  /** Live nodes claimed by a request they do not serve (each counted once). */
  private conflictingClaims(): number {
    const { forEachClaim } = this.allocator;
    if (!forEachClaim) return 0;
    const { store } = this.ctx;
    const { owner } = this.allocator.assignments;
    if (this.claimed.length !== store.capacity) this.claimed = new Uint8Array(store.capacity);
    const claimed = this.claimed;
    const marked: number[] = [];
    forEachClaim.call(this.allocator, (slot, request) => {
      if (slot < 0 || slot >= claimed.length || store.alive[slot] === 0 || owner[slot] === request || claimed[slot] === 1) return;
      claimed[slot] = 1;
      marked.push(slot);
    });
    for (const slot of marked) claimed[slot] = 0;
    return marked.length;
  }
}

/**
 * A request's constraints, compiled for counting over a million nodes: each is a closed
 * interval lo <= x <= hi where it can be (`>`, `<` by the next double), else tested as
 * written (`!=`, `one of`). An attribute the scenario lacks: no node meets it.
 */
class ConstraintSet {
  private readonly columns: Float64Array[] = [];
  private readonly lo: Float64Array;
  private readonly hi: Float64Array;
  private readonly others: { readonly column: Float64Array; readonly constraint: Constraint }[] = [];
  /** No node meets it (a constraint on an attribute the scenario lacks). */
  readonly never: boolean;
  /** Every node meets it (no constraint). */
  readonly unconstrained: boolean;

  constructor(where: readonly Constraint[], attributes: ReadonlyMap<string, Float64Array>) {
    const lo: number[] = [], hi: number[] = [];
    let never = false;
    for (const c of where) {
      const column = attributes.get(c.attribute);
      if (!column) never = true;
      else {
        const bounds = interval(c);
        if (bounds) {
          this.columns.push(column);
          lo.push(bounds[0]);
          hi.push(bounds[1]);
        } else this.others.push({ column, constraint: c });
      }
    }
    this.never = never;
    this.unconstrained = !never && where.length === 0;
    this.lo = Float64Array.from(lo);
    this.hi = Float64Array.from(hi);
  }

  /** Whether the node in `slot` meets every constraint. */
  test(slot: number): boolean {
    if (this.never) return false;
    const { columns, lo, hi, others } = this;
    for (let j = 0; j < columns.length; j++) {
      const x = columns[j][slot];
      if (!(x >= lo[j] && x <= hi[j])) return false;
    }
    for (let j = 0; j < others.length; j++) if (!meets(others[j].constraint, others[j].column[slot])) return false;
    return true;
  }
}

const bits = new Float64Array(1);
const word = new BigInt64Array(bits.buffer);

/** The least double above v (v finite). */
function nextUp(v: number): number {
  if (v === 0) return Number.MIN_VALUE;
  bits[0] = v;
  word[0] += v > 0 ? 1n : -1n;
  return bits[0];
}

/** Constraint c as a closed interval [lo, hi] of doubles, or undefined if it is not one. */
function interval(c: Constraint): [number, number] | undefined {
  const v = c.values;
  switch (c.op) {
    case '>=': return [v[0], Infinity];
    case '<=': return [-Infinity, v[0]];
    case '>': return v[0] === Infinity ? [Infinity, -Infinity] : [nextUp(v[0]), Infinity];
    case '<': return v[0] === -Infinity ? [Infinity, -Infinity] : [-Infinity, -nextUp(-v[0])];
    case '==': return [v[0], v[0]];
    case 'in': return [v[0], v[1]];
    default: return undefined;
  }
}

export const subcloudsObserver = defineObserver({
  type: 'subclouds',
  description: 'subcloud allocation: per request target, size, valid members, time to fill and to stabilise, over/undershoot, repair time, node-time received; free nodes, pending and unsatisfiable requests, utilisation, fairness, double assignments, constraint violations, messages per node',
  params,
  create: (ctx, p) => new SubcloudsObserver(ctx, p),
});
