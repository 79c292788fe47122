import type { NodeStore } from '../engine/node-store.js';
import type { StateDeclarations } from '../engine/state.js';
import { meets, type Request } from './requests.js';

/**
 * What every allocator (decentralised `allocation`, `absolute-slicing`, the `oracle-allocation`
 * baseline) shows the `subclouds` observer: the requests it serves and who serves which.
 */
export interface Allocator {
  /** Every request of the run, by id (arrival order). */
  readonly requests: readonly Request[];
  /** Who serves which request, with its metering. */
  readonly assignments: Assignments;
  /** Messages sent so far by the allocator (recruitment, membership, size estimation). */
  readonly messages: number;
  /**
   * The subcloud side's record of its members, where it differs from the nodes' own
   * (`assignments.owner`): visit(slot, request) for every node that request's members
   * count as one of theirs. The observer counts nodes claimed by two requests, or by a
   * request they do not serve, as `double_assigned`. Optional: an allocator whose only
   * record is the nodes' own has nothing to add.
   */
  forEachClaim?(visit: (slot: number, request: number) => void): void;
}

/** Whether the node in `slot` meets every constraint of `request`. */
export function qualifies(store: NodeStore, request: Request, slot: number): boolean {
  for (const c of request.where) {
    const values = store.attributes.get(c.attribute);
    if (!values || !meets(c, values[slot])) return false;
  }
  return true;
}

/**
 * The node-side record of who serves which request (`owner`, one field per node, so a
 * node serves at most one subcloud at a time), the number of members per request, and
 * the metering: node-time received per request and time served per node, in the
 * engine's time unit (cycles; ms in the event engine). Time is integrated exactly at
 * each change, so metering costs nothing per cycle.
 */
export class Assignments {
  /** slot -> the request the node serves, or -1 (free). */
  readonly owner: Int32Array;
  /** slot -> when the node started serving its current request. */
  private readonly since: Float64Array;
  /** slot -> time served, over every request it finished serving (see `served`). */
  private readonly servedBefore: Float64Array;
  /** request -> members now. */
  readonly size: Int32Array;
  /** request -> node-time received by members that have left it. */
  private readonly receivedBefore: Float64Array;
  /** request -> the sum of `since` over its current members. */
  private readonly sinceSum: Float64Array;

  constructor(capacity: number, requests: number, state: StateDeclarations) {
    this.owner = state.array('owner', new Int32Array(capacity).fill(-1));
    this.since = state.array('since', new Float64Array(capacity));
    this.servedBefore = state.array('served', new Float64Array(capacity));
    this.size = state.array('members', new Int32Array(requests));
    this.receivedBefore = state.array('received', new Float64Array(requests));
    this.sinceSum = state.array('since-sum', new Float64Array(requests));
  }

  /** The free node in `slot` starts serving `request` at time `now`. */
  assign(slot: number, request: number, now: number): void {
    if (this.owner[slot] !== -1) throw new Error(`slot ${slot} already serves request ${this.owner[slot]}`);
    this.owner[slot] = request;
    this.since[slot] = now;
    this.size[request]++;
    this.sinceSum[request] += now;
  }

  /** The node in `slot` stops serving its request (released, shed, or leaving the network) at `now`. */
  release(slot: number, now: number): void {
    const request = this.owner[slot];
    if (request < 0) return;
    const served = now - this.since[slot];
    this.servedBefore[slot] += served;
    this.receivedBefore[request] += served;
    this.sinceSum[request] -= this.since[slot];
    this.size[request]--;
    this.owner[slot] = -1;
  }

  /** A node joined in `slot` (a fresh node, or a reused slot): nothing served yet. */
  reset(slot: number): void {
    this.owner[slot] = -1;
    this.servedBefore[slot] = 0;
  }

  /** Node-time `request` has received up to `now`. */
  received(request: number, now: number): number {
    return this.receivedBefore[request] + this.size[request] * now - this.sinceSum[request];
  }

  /** Time the node in `slot` has served up to `now`. */
  served(slot: number, now: number): number {
    return this.servedBefore[slot] + (this.owner[slot] >= 0 ? now - this.since[slot] : 0);
  }
}
