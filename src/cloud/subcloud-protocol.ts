import { z } from 'zod';
import { declaredAttribute } from '../engine/attribute.js';
import { lineAlignedInt32Array } from '../engine/line-aligned.js';
import { defineProtocol, type Linkable, type Protocol, type ProtocolContext } from '../engine/protocol.js';
import type { Random } from '../engine/random.js';
import type { SlabPool } from '../engine/slab-pool.js';
import { Assignments, type Allocator } from './allocator.js';
import { expandRequests, meets, parseConstraint, requestsSchema, type Constraint, type Request, constraintText } from './requests.js';
import { absorbColumns, estimateFrom, estimateRange, WIDTH } from './size-columns.js';
import { slotOfId } from './slots.js';
import { LocalWire, type Wire } from './wire.js';

/** Successors each member keeps (Chord's successor list): the ring survives up to L - 1 consecutive failures. */
const L = 4;
/** Members of the same subcloud each member knows, for the size count's exchanges. */
const M = 4;
/** Leaders expected per epoch and subcloud (each member elects itself with probability LEADERS / ŝ). */
const LEADERS = 6;
/**
 * Count exchanges a member starts per cycle, one after the other. The count alone
 * (repair: none) needs about 3 log2(s) exchanges per member per epoch to settle; with
 * the ring, which keeps the size exactly as long as quotas are reported, the count is a
 * safety net that acts only once it has settled, and one exchange a cycle is enough.
 */
const EXCHANGES_ALONE = 4, EXCHANGES_WITH_RING = 1;
/** Default epochs (cycles): about 40 exchanges started per member per epoch alone, 20 with the ring (one every other cycle). */
const EPOCH_ALONE = 10, EPOCH_WITH_RING = 40;
/** With the ring, the controller leaves alone a count further than this from the target (see control). */
const RING_GAP = 0.1;

/** Message kinds. */
const RECRUIT = 0, ANSWER = 1, PING = 2, PONG = 3, COUNT = 4, COUNT_REPLY = 5, RELEASE = 6, NOTE = 7;
/** What a NOTE says (the engines take 8 message kinds): LINK, the recruiter confirms the splice; QUOTA, a member's quota for its predecessor. */
const LINK = 0, QUOTA = 1;
/** Timeout kinds. */
const RECRUIT_WAIT = 0, PING_WAIT = 1, COUNT_WAIT = 2;
/** ANSWER outcomes; PONG and COUNT_REPLY states. */
const REJECTED = 0, ACCEPTED = 1, SAME_REQUEST = 2;
const NOT_MEMBER = 0, MEMBER = 1, LEAVING = 2, OTHER_EPOCH = 3;
/** Request status. */
const WAITING = 0, ACTIVE = 1, RELEASED = 2;

/*
 * Payload layout (one Float64 record per message in flight): [0] request, [1] token
 * (matches a reply to the wait it ends), then by kind:
 *   RECRUIT      [2] quota share [3] ŝ [4] quota last seen at succ[0] [5] 1 from a broker [6..6+L) successors [6+L..6+L+M) mates
 *   ANSWER       [2] outcome [3] time of the acceptance [4] the recruit's incarnation [5] a refusal's suggestion (-1: none)
 *   PONG         [2] state [3] quota [4] epoch [5..5+W) leader ids [5+W..5+2W) masses [5+2W..5+2W+L) successors [5+2W+L] quota sum
 *                [6+2W+L] time of the confirmation [7+2W+L] the successor's incarnation
 *   NOTE         [2] the sender's quota (QUOTA) [3] LINK or QUOTA [4..4+L) the sender's successors (QUOTA)
 *   COUNT(_REPLY)[2] state [3] epoch [4..4+W) leader ids [4+W..4+2W) masses [4+2W] quota sum [5+2W] weight [6+2W] a mate
 */
const P_REQUEST = 0, P_TOKEN = 1, P_X = 2;
const R_SHARE = 2, R_ESTIMATE = 3, R_SUCC_QUOTA = 4, R_BROKER = 5, R_SUCC = 6, R_MATES = 6 + L;
const A_TIME = 3, A_LIFE = 4, A_SUGGEST = 5, N_WHAT = 3, N_SUCC = 4;
const G_STATE = 2, G_QUOTA = 3, G_EPOCH = 4, G_IDS = 5, G_MASS = 5 + WIDTH, G_SUCC = 5 + 2 * WIDTH, G_QSUM = 5 + 2 * WIDTH + L, G_TIME = G_QSUM + 1, G_LIFE = G_QSUM + 2;
const C_STATE = 2, C_EPOCH = 3, C_IDS = 4, C_MASS = 4 + WIDTH, C_QUOTA = 4 + 2 * WIDTH, C_WEIGHT = 5 + 2 * WIDTH, C_MATE = 6 + 2 * WIDTH;
const RECORD = Math.max(R_MATES + M, G_LIFE + 1, C_MATE + 1);

/**
 * Per-slot state, packed so that handling a message touches a few cache lines of each
 * node: Int32 fields (offsets in `ints`, SI per slot) and Float64 ones (`floats`, SF per
 * slot), each record starting a cache line. What a PING's receiver reads and writes is
 * in the first line of each.
 */
const I_SUCC = 0;
const I_LEADER_IDS = 4;
const I_EPOCH_OF = 7;
const I_LEAVING = 8;
const I_LINKED = 9;
const I_CONFIRMED_TO = 10;
const I_REPORTED = 11;
const I_QUOTA = 12;
const I_LIFE = 13;
/** The slot succ[0] was last seen in (cycle engine; a hint, see LocalWire). */
const I_SUCC_HINT = 14;
const I_BROKER_FOR = 15;
const I_PING_WAIT = 16;
const I_PING_TO = 17;
const I_TOKENS = 18;
const I_COUNT_WAIT = 19;
const I_COUNT_PEER = 20;
const I_COUNT_RECEIPT = 21;
const I_COUNT_LEFT = 22;
const I_MATES = 23;
const I_SUCC_QUOTA = 27;
const I_SUCC_EPOCH = 28;
const I_SUCC_IDS = 29;
const I_RECRUIT_WAIT = 32;
const I_RECRUIT_SHARE = 33;
const I_RECRUIT_FOR = 34;
const I_RECRUIT_SUCC0 = 35;
const I_SCAN_FROM = 36;
const I_SCANNED = 37;
const I_SUGGESTED = 38;
const I_RECRUITED = 39;
const I_CLAIM_LIFE = 40;
const I_FRESH = 41;
const SI = 48;
const F_PINGED_AT = 0;
const F_CONFIRMED_AT = 1;
const F_OTHER_UNTIL = 2;
const F_MASS = 3;
const F_QUOTA_SUM = 6;
const F_WEIGHT = 7;
const F_SUCC_MASS = 8;
const F_CLAIM_AT = 11;
const F_ESTIMATE = 12;
const SF = 16;


const knobs = {
  sampler: z.string().optional().describe('protocol instance whose neighbour lists supply candidates (cyclon...); default: the first protocol that has one'),
  epoch: z.number().int().min(2).optional().describe('cycles between restarts of the size count (and of the size controller); default 10 with repair: none, 40 with the ring (whose count makes one exchange a cycle)'),
  lease: z.number().positive().default(3).describe('cycles a member waits, unpinged by a predecessor, before it counts itself as detached'),
  recruits: z.number().int().min(1).default(2).describe('recruitment messages a member with positions to fill may send per cycle'),
  repair: z.enum(['ring', 'none']).default('ring').describe('ring: members watch their ring successors and replace the ones that fail; none: the size count alone keeps the size'),
  tolerance: z.number().min(0).max(1).default(0.02).describe('the size controller acts only when the estimate is outside target × (1 ± tolerance)'),
};

const allocationParams = z.strictObject({ requests: requestsSchema, ...knobs });
const slicingParams = z.strictObject({
  size: z.number().int().positive().describe('nodes in the slice'),
  where: z.array(constraintText).default([]).describe('constraints every member meets, e.g. ["capacity >= 2"]'),
  ...knobs,
});
type Knobs = { sampler?: string; epoch?: number; lease: number; recruits: number; repair: 'ring' | 'none'; tolerance: number };

/** Whether a protocol instance is an allocator the `subclouds` observer can read. */
export function isAllocator(x: unknown): x is Allocator {
  const a = x as Partial<Allocator> | undefined;
  return typeof a === 'object' && a !== null && Array.isArray(a.requests) && a.assignments !== undefined && typeof a.messages === 'number';
}

/**
 * Decentralised allocation of subclouds, built on absolute slicing (Montresor &
 * Zandonati 2008). One body of message handlers runs in both engines: in the event
 * engine through the transport, in the cycle engine through LocalWire, which delivers
 * a step's messages (and their replies) before the step returns.
 *
 * - Arrival: a request enters at a live node drawn at random (the customer's contact),
 *   which holds it as a broker: it takes the request itself if it is free and meets the
 *   constraints, else offers it (RECRUIT) to qualifying nodes, one after another, until
 *   one accepts: the first member, with quota s - 1 (positions still to fill). A
 *   customer whose subcloud has no member and no broker (the broker left) resubmits.
 * - Recruitment: a linked member (below) with quota q > 0 offers a position to
 *   qualifying nodes, one at a time, until `recruits` accepted this cycle or it has made
 *   as many offers as its view has entries. Candidates come from its sampler view (the
 *   attributes come with the descriptors), starting at a random entry; a node that
 *   refuses (it serves a subcloud already) suggests a qualifying node of its own view,
 *   which is offered next: where a member's view is used up (its free qualifying
 *   entries recruited already), the search walks on through its neighbours' views. A
 *   free node that qualifies accepts: it sets its own owner (the only place a node
 *   joins a subcloud) and answers ACCEPT; the recruiter splices it in as its ring
 *   successor and confirms with LINK. The recruit gets ⌊(q-1)/2⌋ of the quota, so a
 *   subcloud fills in about log2(s) rounds. A refusal, a timeout, or an ACCEPT after the
 *   recruiter's successor changed gives the quota back (a late ACCEPT is answered
 *   RELEASE). A recruit acts (pings, counts, recruits) only once linked (LINK, or a
 *   predecessor's PING); one never linked frees itself after `lease` cycles.
 * - Ring (repair: ring): each member pings succ[0] every cycle, and at once when succ[0]
 *   changes; the PONG carries the successor's list, quota and count state, and the
 *   member refreshes its list as [succ0, succ0's list...] (Chord's stabilisation; L = 4
 *   successors). After each round whose quota changed, a member reports its quota and
 *   list to its predecessor (NOTE QUOTA), so that the predecessor knows exactly what it
 *   would take over, including this round's recruits spliced in after it. A successor
 *   gone (no PONG before the timeout) or serving no longer is dropped: the member takes
 *   1 + its last reported quota, and its last known count mass, and moves on to the
 *   next. In the cycle engine this bookkeeping is exact (a position is lost only when a
 *   member and its predecessor fail in the same cycle while filling); in the event
 *   engine, messages in flight make it nearly so, and the count mends the rest.
 * - Size (both modes): push-sum counting (Kempe et al. 2003) restricted to the
 *   subcloud, restarted every `epoch` cycles. Each member elects itself leader with
 *   probability 6/ŝ; the 3 smallest leader ids' instances run (size-columns.ts). Per
 *   cycle a member starts 4 exchanges with repair: none, with the ring 1 every other
 *   cycle, each with a random mate (M = 4
 *   members it knows, swapped during exchanges): it sends half its (masses, weight,
 *   quota share), the mate adds them and sends back half of its own. Mass is conserved
 *   whatever the interleaving (a push refused or lost is taken back from a receipt).
 *   ŝ = weight/mass (median over the instances), pending quota Q = ŝ × quota share/weight.
 *   The default epoch is 10 cycles without the ring, 40 with it.
 * - Controller, at an epoch's end, by members that were there all epoch, only when all
 *   their instances agree (with the ring: agree within the tolerance, i.e. the count
 *   has settled, and put the size within 10% of the target: the ring's bookkeeping
 *   misses a few positions, a count gone wrong misses many): if ŝ + Q < s(1 - tolerance) take one more position with probability
 *   (s - ŝ - Q)/ŝ; if ŝ + Q > s(1 + tolerance) leave with probability (ŝ + Q - s)/ŝ
 *   (with the ring, beyond 3 × tolerance). With repair: none this controller is all
 *   there is (the paper's scheme): departures are seen only as a smaller count.
 * - Release: every member frees itself at its first step at or after `until`.
 *
 * Claims (forEachClaim, ring only) are links confirmed by both ends, so that no node is
 * ever claimed by a subcloud it does not serve, at any instant: a member claims its
 * succ[0] for `lease` cycles from succ[0]'s last confirmation (its PONG as a member, or
 * its acceptance), and only that incarnation of it (a node that left and came back is
 * not claimed). A node stops serving (other than at `until`, where its request's claims
 * end too) only when no claim on it can hold: at once on a RELEASE from the member it
 * last confirmed to (which has dropped it), else once `lease` cycles have passed since
 * its last confirmation to anyone; until then it is leaving: it answers PINGs LEAVING
 * (confirming nothing; the pinger takes over its list and releases it) and does nothing
 * else. So the subclouds observer's double_assigned is 0 after every cycle.
 *
 * Priority preemption is not implemented: a request waits for free nodes whatever its
 * priority.
 *
 * State: typed arrays by slot and by request, declared through ctx.state; payloads in
 * a pool. Only members and brokers step (a bit per slot says which may have work); a
 * steady member sends 3 messages a cycle on average (PING and PONG; COUNT and
 * COUNT_REPLY every other cycle).
 */
export class SubcloudAllocator implements Protocol, Allocator {
  readonly requests: readonly Request[];
  readonly assignments: Assignments;
  private readonly ring: boolean;
  private readonly epoch: number;
  private readonly lease: number;
  private readonly recruits: number;
  private readonly tolerance: number;
  private readonly shedTolerance: number;
  private readonly exchanges: number;
  /** Per request, its constraints' attribute columns. */
  private readonly columns: Float64Array[][];
  private readonly constraints: (readonly Constraint[])[];

  // Per slot: see the layout constants.
  private readonly ints: Int32Array;
  private readonly floats: Float64Array;
  /** One bit per slot, set while the node may have work (a member or a broker): the others' steps are skipped after one read of this small array. */
  private readonly busy: Int32Array;
  /** Sum of early-loaded values (see stepAll); kept so those loads are not optimised away. */
  private prefetchSink = 0;

  // Per request.
  private readonly status: Uint8Array;
  /** Slot of the broker holding the request, or -1. */
  private readonly entry: Int32Array;

  private readonly counters: { messages: number; next: number; checked: number };
  private readonly pool: SlabPool<Float64Array>;
  private readonly wire: Wire;
  private readonly local?: LocalWire;
  private readonly random: Random;
  private peers!: Linkable;
  /** Cycles per engine time unit. */
  private readonly unit: number;

  constructor(private readonly ctx: ProtocolContext, requests: readonly Request[], p: Knobs, private readonly sampler?: string) {
    const { store, state } = ctx;
    const n = store.capacity;
    this.requests = requests;
    this.ring = p.repair === 'ring';
    this.epoch = p.epoch ?? (this.ring ? EPOCH_WITH_RING : EPOCH_ALONE);
    this.lease = p.lease;
    this.recruits = p.recruits;
    this.tolerance = p.tolerance;
    // With the ring, surplus comes only from rare orphans, while the count reads high
    // under churn (departed members take mass): shedding waits for a larger excess.
    this.shedTolerance = this.ring ? 3 * p.tolerance : p.tolerance;
    this.exchanges = this.ring ? EXCHANGES_WITH_RING : EXCHANGES_ALONE;
    this.random = ctx.random;
    this.constraints = requests.map((r) => r.where);
    this.columns = requests.map((r) => r.where.map((c, i) => declaredAttribute(store, c.attribute, `protocols.${ctx.name}.${'size' in p ? 'where' : 'requests'}.${i}`)));
    this.assignments = new Assignments(n, requests.length, state);
    this.ints = state.array('ints', lineAlignedInt32Array(n * SI));
    this.floats = state.array('floats', lineAlignedFloat64Array(n * SF));
    for (let slot = 0; slot < n; slot++) {
      this.ints.fill(-1, slot * SI + I_SUCC, slot * SI + I_SUCC + 4);
      this.ints[slot * SI + I_SUCC_EPOCH] = -1;
      this.ints.fill(-1, slot * SI + I_SUCC_IDS, slot * SI + I_SUCC_IDS + 3);
      this.ints[slot * SI + I_PING_TO] = -1;
      this.ints[slot * SI + I_SUCC_HINT] = -1;
      this.ints[slot * SI + I_RECRUIT_FOR] = -1;
      this.ints[slot * SI + I_RECRUIT_SUCC0] = -1;
      this.ints[slot * SI + I_SUGGESTED] = -1;
      this.ints[slot * SI + I_COUNT_PEER] = -1;
      this.ints[slot * SI + I_COUNT_RECEIPT] = -1;
      this.ints.fill(-1, slot * SI + I_MATES, slot * SI + I_MATES + 4);
      this.ints.fill(-1, slot * SI + I_LEADER_IDS, slot * SI + I_LEADER_IDS + 3);
      this.ints[slot * SI + I_EPOCH_OF] = -1;
      this.ints[slot * SI + I_BROKER_FOR] = -1;
      this.ints[slot * SI + I_CONFIRMED_TO] = -1;
      this.floats[slot * SF + F_CLAIM_AT] = -Infinity;
      this.floats[slot * SF + F_CONFIRMED_AT] = -Infinity;
      this.floats[slot * SF + F_OTHER_UNTIL] = -Infinity;
    }
    this.busy = state.array('busy', new Int32Array(Math.ceil(n / 32)));
    this.status = state.array('status', new Uint8Array(requests.length));
    this.entry = state.array('entry', new Int32Array(requests.length).fill(-1));
    this.counters = state.values('counters', { messages: 0, next: 0, checked: -1 });
    this.pool = state.pool('payloads', RECORD, (length) => new Float64Array(length));
    const transport = ctx.transport;
    this.unit = transport ? 1 / transport.period : 1;
    if (transport) {
      this.wire = {
        send: (from, to, kind, payload) => transport.send(from, to, kind, payload, 8 * RECORD),
        timeout: (slot, kind, token) => transport.timeout(slot, transport.timeoutAfter, kind, token),
      };
    } else {
      this.local = new LocalWire(ctx, this);
      this.wire = this.local;
    }
  }

  get messages(): number {
    return this.counters.messages;
  }

  init(): void {
    this.peers = this.ctx.linkable(this.sampler);
  }

  forEachClaim(visit: (slot: number, request: number) => void): void {
    if (!this.ring) return;
    const { store } = this.ctx;
    const owner = this.assignments.owner;
    const now = this.now();
    // In slot order (a member is live: a departure releases it), so that the scan reads memory in order.
    for (let slot = 0; slot < owner.length; slot++) {
      const r = owner[slot];
      if (r < 0 || this.ints[slot * SI + I_LEAVING] || now >= this.requests[r].until || !(now < this.floats[slot * SF + F_CLAIM_AT] + this.lease)) continue;
      const claimed = slotOfId(store, this.ints[slot * SI + I_SUCC], this.ints[slot * SI + I_SUCC_HINT]);
      if (claimed < 0 || claimed === slot || this.ints[claimed * SI + I_LIFE] !== this.ints[slot * SI + I_CLAIM_LIFE]) continue;
      visit(claimed, r);
    }
  }

  /** Time now in cycles. */
  private now(): number {
    return this.ctx.clock.time * this.unit;
  }

  /** Arrivals and resubmissions; in the event engine checked before each event, cheaply. */
  beginCycle(): void {
    const now = this.now();
    const c = this.counters;
    const requests = this.requests;
    while (c.next < requests.length && requests[c.next].at <= now) {
      this.status[c.next] = ACTIVE;
      this.submit(c.next++);
    }
    const cycle = this.ctx.clock.cycle;
    if (c.checked === cycle) return;
    c.checked = cycle;
    for (let r = 0; r < c.next; r++) {
      if (this.status[r] !== ACTIVE) continue;
      if (now >= requests[r].until) { this.status[r] = RELEASED; continue; }
      if (this.entry[r] < 0 && this.assignments.size[r] === 0) this.submit(r);
    }
  }

  /** The customer hands request r to a live node drawn at random, one not brokering already. */
  private submit(r: number): void {
    const { store } = this.ctx;
    for (let tries = 0; tries < 8 && store.size > 0; tries++) {
      const slot = store.liveSlot(this.random.int(store.size));
      if (this.ints[slot * SI + I_BROKER_FOR] >= 0) continue;
      this.ints[slot * SI + I_BROKER_FOR] = r;
      this.entry[r] = slot;
      this.busy[slot >> 5] |= 1 << (slot & 31);
      return;
    }
  }

  onJoin(slot: number, returning: boolean): void {
    if (!returning) this.assignments.reset(slot);
    this.ints[slot * SI + I_LIFE]++;
    this.clear(slot);
  }

  onLeave(slot: number): void {
    this.assignments.release(slot, this.ctx.clock.time);
    const r = this.ints[slot * SI + I_BROKER_FOR];
    if (r >= 0 && this.entry[r] === slot) this.entry[r] = -1;
    this.clear(slot);
  }

  /** A node's state when it serves nobody. */
  private clear(slot: number): void {
    this.ints.fill(-1, slot * SI + I_SUCC, slot * SI + I_SUCC + L);
    this.ints.fill(-1, slot * SI + I_MATES, slot * SI + I_MATES + M);
    this.ints.fill(-1, slot * SI + I_LEADER_IDS, slot * SI + I_LEADER_IDS + WIDTH);
    this.ints.fill(-1, slot * SI + I_SUCC_IDS, slot * SI + I_SUCC_IDS + WIDTH);
    this.ints[slot * SI + I_QUOTA] = 0;
    this.ints[slot * SI + I_LEAVING] = 0;
    this.ints[slot * SI + I_PING_WAIT] = 0;
    this.ints[slot * SI + I_RECRUIT_WAIT] = 0;
    this.ints[slot * SI + I_COUNT_WAIT] = 0;
    this.dropReceipt(slot);
    this.ints[slot * SI + I_RECRUIT_FOR] = -1;
    this.ints[slot * SI + I_BROKER_FOR] = -1;
    this.ints[slot * SI + I_EPOCH_OF] = -1;
    this.floats[slot * SF + F_CLAIM_AT] = -Infinity;
    this.floats[slot * SF + F_CONFIRMED_AT] = -Infinity;
    this.ints[slot * SI + I_CONFIRMED_TO] = -1;
    this.floats[slot * SF + F_OTHER_UNTIL] = -Infinity;
    this.ints[slot * SI + I_LINKED] = 0;
    this.ints[slot * SI + I_REPORTED] = 0;
    this.ints[slot * SI + I_SUGGESTED] = -1;
  }

  /** The node confirms its link to the member `to` (a PONG, or its acceptance): that member's claim on it holds for `lease` cycles. */
  private confirm(slot: number, to: number): void {
    const now = this.now();
    if (this.ints[slot * SI + I_CONFIRMED_TO] !== to && this.ints[slot * SI + I_CONFIRMED_TO] >= 0) this.floats[slot * SF + F_OTHER_UNTIL] = Math.max(this.floats[slot * SF + F_OTHER_UNTIL], this.floats[slot * SF + F_CONFIRMED_AT] + this.lease);
    this.ints[slot * SI + I_CONFIRMED_TO] = to;
    this.floats[slot * SF + F_CONFIRMED_AT] = now;
  }

  /**
   * The member stops serving as soon as no claim on it can hold: at once if `released`
   * (its last claimer dropped it) and no other claimer's confirmation is recent, else
   * once its confirmations are `lease` old. Meanwhile it is leaving: it answers pings
   * LEAVING (confirming nothing) and does nothing else.
   */
  private quit(slot: number, released: boolean): void {
    const now = this.now();
    if (!this.ring || (now >= this.floats[slot * SF + F_OTHER_UNTIL] && (released || now >= this.floats[slot * SF + F_CONFIRMED_AT] + this.lease))) {
      this.free(slot);
      return;
    }
    if (!this.ints[slot * SI + I_LEAVING]) {
      this.ints[slot * SI + I_LEAVING] = 1;
      this.addQuota(slot, -this.ints[slot * SI + I_QUOTA]);
    }
  }

  /**
   * The same as step(order[i]) for each i. At 10^6 nodes each node's record is a cache
   * miss, and a member's step goes from its own record to its successor's and back, one
   * miss after the other: first the records of the members of this part of the order,
   * then their successors' (through the slot hints), are read early, so that these
   * misses overlap (an early load folded into a kept sum: JavaScript has no prefetch).
   */
  stepAll(order: Int32Array, from: number, to: number): void {
    const { busy, ints } = this;
    let sink = 0;
    for (let i = from; i < to; i++) {
      const slot = order[i];
      if ((busy[slot >> 5] >>> (slot & 31)) & 1) sink += this.touch(slot);
    }
    for (let i = from; i < to; i++) {
      const slot = order[i];
      if ((busy[slot >> 5] >>> (slot & 31)) & 1) {
        const next = ints[slot * SI + I_SUCC_HINT];
        if (next >= 0) sink += ints[next * SI] + this.floats[next * SF];
      }
    }
    this.prefetchSink += sink;
    for (let i = from; i < to; i++) {
      const slot = order[i];
      if ((busy[slot >> 5] >>> (slot & 31)) & 1) this.step(slot);
    }
  }

  /** Reads one number in each cache line of slot's records (an early load). */
  private touch(slot: number): number {
    const at = slot * SI;
    return this.ints[at] + this.ints[at + 16] + this.ints[at + 32] + this.floats[slot * SF] + this.floats[slot * SF + 8] + this.assignments.owner[slot];
  }

  step(slot: number): void {
    if (this.ints[slot * SI + I_BROKER_FOR] < 0 && this.assignments.owner[slot] < 0) {
      this.busy[slot >> 5] &= ~(1 << (slot & 31));
      return;
    }
    this.onTimer(slot);
    const local = this.local!;
    local.drain();
    // The round's quota changes go to the predecessor before the next churn.
    if (this.report(slot)) local.drain();
  }

  /** Tells the predecessor the member's quota if it changed since the last report (the predecessor takes it over should the member fail). */
  private report(slot: number): boolean {
    const r = this.assignments.owner[slot];
    const q = this.ints[slot * SI + I_QUOTA];
    if (r < 0 || !this.ring || q === this.ints[slot * SI + I_REPORTED] || this.ints[slot * SI + I_CONFIRMED_TO] < 0) return false;
    this.ints[slot * SI + I_REPORTED] = q;
    const record = this.note(r, QUOTA, q);
    for (let i = 0; i < L; i++) this.pool.data[record * RECORD + N_SUCC + i] = this.ints[slot * SI + I_SUCC + i];
    this.post(slot, this.ints[slot * SI + I_CONFIRMED_TO], NOTE, record);
    return true;
  }

  /** A node's round: broker work, then (a member) release, epoch, ring, count, recruitment. */
  onTimer(slot: number): void {
    if (this.ints[slot * SI + I_BROKER_FOR] >= 0) this.brokerRound(slot);
    const r = this.assignments.owner[slot];
    if (r < 0) return;
    const now = this.now();
    if (now >= this.requests[r].until) { this.free(slot); return; }
    if (this.ints[slot * SI + I_LEAVING]) { this.quit(slot, false); return; }
    this.startEpoch(slot, r);
    if (this.ints[slot * SI + I_LEAVING]) { this.quit(slot, false); return; }
    if (this.local === undefined) this.report(slot);
    const base = slot * SI + I_SUCC;
    const lone = this.ints[base] < 0;
    if (!this.ring || (lone && this.ints[slot * SI + I_LINKED])) {
      this.floats[slot * SF + F_PINGED_AT] = now;
    } else if (now - this.floats[slot * SF + F_PINGED_AT] > this.lease && (!this.ints[slot * SI + I_LINKED] || this.hasSurplus(slot, r))) {
      // Unlinked since its acceptance (its recruiter gave up), or detached with a surplus.
      this.quit(slot, false);
      return;
    }
    // A recruit acts once its recruiter has confirmed the splice: one whose recruiter gave up stays idle until its lease ends.
    if (!this.ints[slot * SI + I_LINKED]) return;
    this.ping(slot, r);
    // With the ring, a member starts a count exchange every other cycle (it takes part in
    // others' too): the count is a safety net there, and this halves its messages.
    if (!this.ring || ((Math.floor(now) + slot) & 1) === 0) {
      this.ints[slot * SI + I_COUNT_LEFT] = this.exchanges;
      this.countRound(slot, r);
    }
    this.startScan(slot);
    if (!this.ints[slot * SI + I_LEAVING]) this.recruit(slot, r);
  }

  /** Pings succ[0] (unless a ping is outstanding): its PONG refreshes the list, the quota known there and the claim. */
  private ping(slot: number, r: number): void {
    const succ0 = this.ints[slot * SI + I_SUCC];
    if (!this.ring || succ0 < 0 || this.ints[slot * SI + I_PING_WAIT] !== 0) return;
    const token = this.token(slot);
    this.ints[slot * SI + I_PING_WAIT] = token;
    this.ints[slot * SI + I_PING_TO] = succ0;
    const record = this.record(r, token);
    this.pool.data[record * RECORD + P_X] = 0;
    this.post(slot, succ0, PING, record, this.ints[slot * SI + I_SUCC_HINT]);
    this.wire.timeout(slot, PING_WAIT, token);
  }

  /** Whether the member's last estimate says its subcloud has a surplus (see shedTolerance). */
  private hasSurplus(slot: number, r: number): boolean {
    const estimate = this.floats[slot * SF + F_ESTIMATE];
    return estimate > 0 && estimate + this.pending(slot, estimate) > this.requests[r].size * (1 + this.shedTolerance);
  }

  private token(slot: number): number {
    const t = (this.ints[slot * SI + I_TOKENS] + 1) & 0x3fffffff;
    this.ints[slot * SI + I_TOKENS] = t === 0 ? 1 : t;
    return this.ints[slot * SI + I_TOKENS];
  }

  /** A record with its request and token filled in; the caller fills the rest and sends it. */
  private record(r: number, token: number): number {
    const record = this.pool.allocate();
    const at = record * RECORD;
    this.pool.data[at + P_REQUEST] = r;
    this.pool.data[at + P_TOKEN] = token;
    return record;
  }

  private post(from: number, to: number, kind: number, record: number, hint = -1): void {
    this.counters.messages++;
    if (!this.wire.send(from, to, kind, record, hint)) this.pool.release(record);
  }

  /** A NOTE record (LINK or QUOTA) for the caller to complete and post. */
  private note(r: number, what: number, x: number): number {
    const record = this.record(r, 0);
    this.pool.data[record * RECORD + P_X] = x;
    this.pool.data[record * RECORD + N_WHAT] = what;
    return record;
  }

  private sendRecord(from: number, to: number, kind: number, r: number, token: number, x = 0): void {
    const record = this.record(r, token);
    this.pool.data[record * RECORD + P_X] = x;
    this.post(from, to, kind, record);
  }

  /** The node stops serving (released, left on purpose, or detached). */
  private free(slot: number): void {
    this.assignments.release(slot, this.ctx.clock.time);
    const broker = this.ints[slot * SI + I_BROKER_FOR];
    this.clear(slot);
    this.ints[slot * SI + I_BROKER_FOR] = broker;
  }

  // ---- Brokers and recruitment ----

  private brokerRound(slot: number): void {
    const r = this.ints[slot * SI + I_BROKER_FOR];
    const request = this.requests[r];
    const owner = this.assignments.owner;
    if (this.status[r] !== ACTIVE || this.assignments.size[r] > 0 || this.entry[r] !== slot) {
      if (this.entry[r] === slot) this.entry[r] = -1;
      this.ints[slot * SI + I_BROKER_FOR] = -1;
      return;
    }
    if (owner[slot] < 0 && this.qualifies(r, slot)) {
      this.ints[slot * SI + I_BROKER_FOR] = -1;
      this.entry[r] = -1;
      this.join(slot, r, request.size - 1, 1);
      this.ints[slot * SI + I_LINKED] = 1;
      return;
    }
    if (this.ints[slot * SI + I_RECRUIT_WAIT] !== 0) return;
    this.startScan(slot);
    this.offer(slot, r, request.size - 1, true);
  }

  /** Sends RECRUIT to a qualifying node of the view (drawn from a random start), giving it `share`; false if none. */
  private offer(slot: number, r: number, share: number, broker: boolean): boolean {
    const peers = this.peers;
    const { store } = this.ctx;
    const degree = peers.degree(slot);
    if (degree === 0) return false;
    const selfId = store.idOf[slot];
    const start = this.ints[slot * SI + I_SCAN_FROM];
    const suggested = this.ints[slot * SI + I_SUGGESTED];
    this.ints[slot * SI + I_SUGGESTED] = -1;
    // A suggestion first (it takes a view entry's turn: at most `degree` offers a round).
    if (suggested >= 0 && suggested !== selfId && this.ints[slot * SI + I_SCANNED] < degree) {
      this.ints[slot * SI + I_SCANNED]++;
      const q = slotOfId(store, suggested, -1);
      if (q >= 0 && this.qualifies(r, q)) { this.sendOffer(slot, r, share, broker, suggested); return true; }
    }
    for (let k = this.ints[slot * SI + I_SCANNED]; k < degree; k++) {
      this.ints[slot * SI + I_SCANNED] = k + 1;
      const id = peers.neighbor(slot, (start + k) % degree);
      // The candidate's attributes come with its descriptor in the view.
      const q = slotOfId(store, id, -1);
      if (q < 0 || id === selfId || !this.qualifies(r, q)) continue;
      this.sendOffer(slot, r, share, broker, id);
      return true;
    }
    return false;
  }

  /** Sends RECRUIT for request r to node `id`, giving it `share` positions to fill. */
  private sendOffer(slot: number, r: number, share: number, broker: boolean, id: number): void {
    const selfId = this.ctx.store.idOf[slot];
    const token = this.token(slot);
    this.ints[slot * SI + I_RECRUIT_WAIT] = token;
    this.ints[slot * SI + I_RECRUIT_SHARE] = share;
    this.ints[slot * SI + I_RECRUIT_FOR] = r;
    this.ints[slot * SI + I_RECRUIT_SUCC0] = broker ? -2 : this.ints[slot * SI + I_SUCC];
    const record = this.record(r, token);
    const d = this.pool.data, at = record * RECORD;
    d[at + R_SHARE] = share;
    d[at + R_ESTIMATE] = broker ? 1 : this.floats[slot * SF + F_ESTIMATE];
    d[at + R_SUCC_QUOTA] = broker ? 0 : this.ints[slot * SI + I_SUCC_QUOTA];
    d[at + R_BROKER] = broker ? 1 : 0;
    for (let i = 0; i < L; i++) d[at + R_SUCC + i] = broker ? -1 : this.ints[slot * SI + I_SUCC + i];
    for (let i = 0; i < M; i++) d[at + R_MATES + i] = broker ? -1 : this.ints[slot * SI + I_MATES + i];
    if (!broker && this.ints[slot * SI + I_SUCC] < 0) d[at + R_SUCC] = selfId;
    if (!broker) d[at + R_MATES + this.random.int(M)] = selfId;
    this.post(slot, id, RECRUIT, record);
    this.wire.timeout(slot, RECRUIT_WAIT, token);
  }

  /** A qualifying node of the view for request r other than `not` (drawn from a random entry), or -1. */
  private suggestion(slot: number, r: number, not: number): number {
    const peers = this.peers;
    const degree = peers.degree(slot);
    if (degree === 0) return -1;
    const { store } = this.ctx;
    const start = this.random.int(degree);
    for (let k = 0; k < degree; k++) {
      const id = peers.neighbor(slot, (start + k) % degree);
      const q = slotOfId(store, id, -1);
      if (q >= 0 && id !== not && q !== slot && this.qualifies(r, q)) return id;
    }
    return -1;
  }

  /** A round's scan of the view starts at a random entry; each entry is offered at most once per round. */
  private startScan(slot: number): void {
    const degree = this.peers.degree(slot);
    this.ints[slot * SI + I_SCAN_FROM] = degree > 0 ? this.random.int(degree) : 0;
    this.ints[slot * SI + I_SCANNED] = 0;
    this.ints[slot * SI + I_RECRUITED] = 0;
  }

  /** A member with positions to fill sends its next RECRUIT, until `recruits` accepted this round or its view is scanned. */
  private recruit(slot: number, r: number): void {
    const q = this.ints[slot * SI + I_QUOTA];
    if (q <= 0 || !this.ints[slot * SI + I_LINKED] || this.ints[slot * SI + I_RECRUIT_WAIT] !== 0 || this.ints[slot * SI + I_RECRUITED] >= this.recruits) return;
    const share = (q - 1) >> 1;
    this.addQuota(slot, -1 - share);
    if (!this.offer(slot, r, share, false)) this.addQuota(slot, 1 + share);
  }

  private qualifies(r: number, slot: number): boolean {
    const constraints = this.constraints[r];
    const columns = this.columns[r];
    for (let i = 0; i < constraints.length; i++) if (!meets(constraints[i], columns[i][slot])) return false;
    return true;
  }

  /** The free node in `slot` joins request r with `quota` positions to fill (its ring and count state set by the caller). */
  private join(slot: number, r: number, quota: number, estimate: number): void {
    const now = this.now();
    this.assignments.assign(slot, r, this.ctx.clock.time);
    this.busy[slot >> 5] |= 1 << (slot & 31);
    this.ints[slot * SI + I_QUOTA] = quota;
    this.floats[slot * SF + F_PINGED_AT] = now;
    this.floats[slot * SF + F_CLAIM_AT] = -Infinity;
    this.ints[slot * SI + I_LINKED] = 0;
    this.ints[slot * SI + I_REPORTED] = quota;
    this.floats[slot * SF + F_ESTIMATE] = estimate;
    this.ints[slot * SI + I_LEAVING] = 0;
    this.ints[slot * SI + I_FRESH] = 1;
    // It counts from the current epoch on, holding no mass yet.
    this.ints[slot * SI + I_EPOCH_OF] = Math.floor(now / this.epoch);
    this.ints.fill(-1, slot * SI + I_LEADER_IDS, slot * SI + I_LEADER_IDS + WIDTH);
    this.floats.fill(0, slot * SF + F_MASS, slot * SF + F_MASS + WIDTH);
    this.floats[slot * SF + F_QUOTA_SUM] = quota;
    this.floats[slot * SF + F_WEIGHT] = 1;
  }

  /**
   * Changes a member's quota, and its share of the averaged quota by as much, so that
   * the average keeps tracking the positions pending in the whole subcloud.
   */
  private addQuota(slot: number, change: number): void {
    this.ints[slot * SI + I_QUOTA] += change;
    this.floats[slot * SF + F_QUOTA_SUM] += change;
  }

  // ---- The size count and its controller ----

  /** At a member's first round or exchange in a new epoch: close the last one (the controller), start this one. */
  private startEpoch(slot: number, r: number): void {
    const e = Math.floor(this.now() / this.epoch);
    if (this.ints[slot * SI + I_EPOCH_OF] >= e) return;
    const estimate = estimateFrom(this.ints, slot * SI + I_LEADER_IDS, this.floats, slot * SF + F_MASS, this.floats[slot * SF + F_WEIGHT]);
    if (estimate > 0 && Number.isFinite(estimate)) {
      this.floats[slot * SF + F_ESTIMATE] = estimate;
      // A member that joined during the epoch saw only part of it (while a subcloud
      // fills, nearly all of them): it keeps the estimate but leaves the acting to others.
      if (this.ints[slot * SI + I_FRESH] === 0) this.control(slot, r, estimate, this.pending(slot, estimate));
    }
    this.ints[slot * SI + I_FRESH] = 0;
    this.ints[slot * SI + I_EPOCH_OF] = e;
    this.ints.fill(-1, slot * SI + I_LEADER_IDS, slot * SI + I_LEADER_IDS + WIDTH);
    this.floats.fill(0, slot * SF + F_MASS, slot * SF + F_MASS + WIDTH);
    const guess = this.floats[slot * SF + F_ESTIMATE] > 0 ? this.floats[slot * SF + F_ESTIMATE] : 1;
    if (this.random.next() * guess < LEADERS) {
      this.ints[slot * SI + I_LEADER_IDS] = this.ctx.store.idOf[slot];
      this.floats[slot * SF + F_MASS] = 1;
    }
    this.floats[slot * SF + F_QUOTA_SUM] = this.ints[slot * SI + I_QUOTA];
    this.floats[slot * SF + F_WEIGHT] = 1;
  }

  /** Positions pending in the whole subcloud, by the count: the mean quota per member times the size. */
  private pending(slot: number, estimate: number): number {
    const w = this.floats[slot * SF + F_WEIGHT];
    return w > 0 ? Math.max(0, this.floats[slot * SF + F_QUOTA_SUM] / w) * estimate : 0;
  }

  /**
   * The size controller, at the end of an epoch: acts only when every count instance
   * the member holds (at least two) says the subcloud is outside the tolerance, on the
   * same side (the instances are independent, so that a count not yet settled rarely
   * moves anyone).
   */
  private control(slot: number, r: number, estimate: number, pending: number): void {
    const target = this.requests[r].size;
    const total = estimate + pending;
    if (estimateRange.instances < 2) return;
    // With the ring, only a settled count acts (its instances agree within the tolerance),
    // and only on a small gap: the ring's bookkeeping is exact but for a few positions,
    // while a count whose leader failed early in the epoch can be far off (its mass, last
    // seen before it spread, is counted twice), all instances alike.
    if (this.ring && (estimateRange.high > estimateRange.low * (1 + this.tolerance) || Math.abs(total - target) > RING_GAP * target)) return;
    if (estimateRange.high + pending < target * (1 - this.tolerance)) {
      const wanted = (target - total) / estimate;
      this.addQuota(slot, Math.floor(wanted) + (this.random.next() < wanted % 1 ? 1 : 0));
    } else if (estimateRange.low + pending > target * (1 + this.shedTolerance) && this.random.next() < (total - target) / estimate) {
      this.ints[slot * SI + I_LEAVING] = 1;
      this.addQuota(slot, -this.ints[slot * SI + I_QUOTA]);
    }
  }

  /** Starts the member's next count exchange of this round, if it has one left. */
  private countRound(slot: number, r: number): void {
    if (this.ints[slot * SI + I_COUNT_WAIT] !== 0 || this.ints[slot * SI + I_COUNT_LEFT] === 0) return;
    this.ints[slot * SI + I_COUNT_LEFT]--;
    const selfId = this.ctx.store.idOf[slot];
    const base = slot * SI + I_MATES;
    let peer = -1;
    const start = this.random.int(M);
    for (let k = 0; k < M && peer < 0; k++) {
      const id = this.ints[base + (start + k) % M];
      if (id >= 0 && id !== selfId) peer = id;
    }
    if (peer < 0) peer = this.ints[slot * SI + I_SUCC];
    if (peer < 0 || peer === selfId) return;
    const token = this.token(slot);
    this.ints[slot * SI + I_COUNT_WAIT] = token;
    this.ints[slot * SI + I_COUNT_PEER] = peer;
    const record = this.record(r, token);
    this.pushHalf(slot, record);
    const receipt = this.pool.allocate();
    this.pool.data.copyWithin(receipt * RECORD, record * RECORD, record * RECORD + RECORD);
    this.ints[slot * SI + I_COUNT_RECEIPT] = receipt;
    this.post(slot, peer, COUNT, record);
    this.wire.timeout(slot, COUNT_WAIT, token);
  }

  /** Push-sum: the node keeps half its count state and puts the other half, and one of its mates, in a COUNT record. */
  private pushHalf(slot: number, record: number): void {
    const d = this.pool.data, at = record * RECORD;
    d[at + C_STATE] = MEMBER;
    d[at + C_EPOCH] = this.ints[slot * SI + I_EPOCH_OF];
    for (let k = 0; k < WIDTH; k++) {
      const half = this.floats[slot * SF + F_MASS + k] / 2;
      this.floats[slot * SF + F_MASS + k] = half;
      d[at + C_IDS + k] = this.ints[slot * SI + I_LEADER_IDS + k];
      d[at + C_MASS + k] = half;
    }
    this.floats[slot * SF + F_QUOTA_SUM] /= 2;
    this.floats[slot * SF + F_WEIGHT] /= 2;
    d[at + C_QUOTA] = this.floats[slot * SF + F_QUOTA_SUM];
    d[at + C_WEIGHT] = this.floats[slot * SF + F_WEIGHT];
    d[at + C_MATE] = this.ints[slot * SI + I_MATES + this.random.int(M)];
  }

  /** Push-sum: adds the count state carried at record offset `at` (a push received, or one returned) to the node's. */
  private addHalf(slot: number, d: Float64Array, at: number): void {
    absorbColumns(this.ints, slot * SI + I_LEADER_IDS, this.floats, slot * SF + F_MASS, d, at + C_IDS, d, at + C_MASS);
    this.floats[slot * SF + F_QUOTA_SUM] += d[at + C_QUOTA];
    this.floats[slot * SF + F_WEIGHT] += d[at + C_WEIGHT];
  }

  /** The outstanding push was not taken (refused, or lost with its destination): the member adds its half back. */
  private takeBack(slot: number, r: number, member: boolean): void {
    const receipt = this.ints[slot * SI + I_COUNT_RECEIPT];
    if (receipt < 0) return;
    const d = this.pool.data, at = receipt * RECORD;
    if (member && d[at + P_REQUEST] === r && d[at + C_EPOCH] === this.ints[slot * SI + I_EPOCH_OF]) this.addHalf(slot, d, at);
    this.dropReceipt(slot);
  }

  private dropReceipt(slot: number): void {
    const receipt = this.ints[slot * SI + I_COUNT_RECEIPT];
    if (receipt < 0) return;
    this.pool.release(receipt);
    this.ints[slot * SI + I_COUNT_RECEIPT] = -1;
  }

  /** Puts `id` among the node's mates, over a random one (unless it is there already, or the node itself). */
  private meet(slot: number, id: number): void {
    if (id < 0 || id === this.ctx.store.idOf[slot]) return;
    const base = slot * SI + I_MATES;
    for (let k = 0; k < M; k++) if (this.ints[base + k] === id) return;
    for (let k = 0; k < M; k++) if (this.ints[base + k] < 0) { this.ints[base + k] = id; return; }
    this.ints[base + this.random.int(M)] = id;
  }

  private forget(slot: number, id: number): void {
    const base = slot * SI + I_MATES;
    for (let k = 0; k < M; k++) if (this.ints[base + k] === id) this.ints[base + k] = -1;
  }

  // ---- Message handlers ----

  onMessage(slot: number, kind: number, from: number, payload: number): void {
    const d = this.pool.data;
    const at = payload * RECORD;
    const r = d[at + P_REQUEST];
    const token = d[at + P_TOKEN];
    const owner = this.assignments.owner;
    const member = owner[slot] === r && this.now() < this.requests[r].until;
    if (member) this.startEpoch(slot, r);
    switch (kind) {
      case RECRUIT: {
        let outcome = REJECTED;
        if (owner[slot] < 0 && this.status[r] === ACTIVE && this.now() < this.requests[r].until && this.qualifies(r, slot)) {
          this.join(slot, r, d[at + R_SHARE], d[at + R_ESTIMATE]);
          const base = slot * SI + I_SUCC;
          for (let i = 0; i < L; i++) this.ints[base + i] = d[at + R_SUCC + i];
          this.trimSelf(slot);
          this.ints[slot * SI + I_SUCC_QUOTA] = d[at + R_SUCC_QUOTA];
          this.ints[slot * SI + I_SUCC_EPOCH] = -1;
          for (let i = 0; i < M; i++) this.meet(slot, d[at + R_MATES + i]);
          if (d[at + R_BROKER] === 1) this.ints[slot * SI + I_LINKED] = 1;
          else this.confirm(slot, from);
          d[at + A_TIME] = this.now();
          d[at + A_LIFE] = this.ints[slot * SI + I_LIFE];
          outcome = ACCEPTED;
        } else if (member) {
          outcome = SAME_REQUEST;
        }
        if (outcome !== ACCEPTED) d[at + A_SUGGEST] = this.suggestion(slot, r, from);
        this.reply(slot, from, ANSWER, payload, outcome);
        return;
      }
      case ANSWER: {
        const outcome = d[at + P_X];
        const acceptedAt = d[at + A_TIME], life = d[at + A_LIFE];
        if (outcome !== ACCEPTED && this.ints[slot * SI + I_RECRUIT_WAIT] === token && token !== 0) this.ints[slot * SI + I_SUGGESTED] = d[at + A_SUGGEST];
        this.pool.release(payload);
        this.answered(slot, from, r, token, outcome, acceptedAt, life);
        return;
      }
      case PING: {
        if (!member) { this.reply(slot, from, PONG, payload, NOT_MEMBER); return; }
        const state = this.ints[slot * SI + I_LEAVING] ? LEAVING : MEMBER;
        if (state === MEMBER) {
          this.floats[slot * SF + F_PINGED_AT] = this.now();
          this.ints[slot * SI + I_LINKED] = 1;
          this.confirm(slot, from);
          this.ints[slot * SI + I_REPORTED] = this.ints[slot * SI + I_QUOTA];
          d[at + G_TIME] = this.now();
          d[at + G_LIFE] = this.ints[slot * SI + I_LIFE];
        }
        d[at + G_STATE] = state;
        d[at + G_QUOTA] = this.ints[slot * SI + I_QUOTA];
        d[at + G_EPOCH] = this.ints[slot * SI + I_EPOCH_OF];
        for (let k = 0; k < WIDTH; k++) {
          d[at + G_IDS + k] = this.ints[slot * SI + I_LEADER_IDS + k];
          d[at + G_MASS + k] = this.floats[slot * SF + F_MASS + k];
        }
        // A leaver hands its mass over to the predecessor, which absorbs it.
        d[at + G_QSUM] = this.floats[slot * SF + F_QUOTA_SUM];
        if (state === LEAVING) {
          this.ints.fill(-1, slot * SI + I_LEADER_IDS, slot * SI + I_LEADER_IDS + WIDTH);
          this.floats.fill(0, slot * SF + F_MASS, slot * SF + F_MASS + WIDTH);
          this.floats[slot * SF + F_QUOTA_SUM] = 0;
        }
        for (let i = 0; i < L; i++) d[at + G_SUCC + i] = this.ints[slot * SI + I_SUCC + i];
        this.reply(slot, from, PONG, payload, -1);
        return;
      }
      case PONG: {
        this.ponged(slot, from, r, token, at, member);
        this.pool.release(payload);
        return;
      }
      case COUNT: {
        // A push that cannot be taken (not a member, another epoch) goes back whole.
        if (!member) { this.reply(slot, from, COUNT_REPLY, payload, NOT_MEMBER); return; }
        if (d[at + C_EPOCH] !== this.ints[slot * SI + I_EPOCH_OF]) { this.reply(slot, from, COUNT_REPLY, payload, OTHER_EPOCH); return; }
        // Push-pull in push-sum form: take the half that came, send back half of the result.
        this.addHalf(slot, d, at);
        const mate = d[at + C_MATE];
        this.pushHalf(slot, payload);
        this.meet(slot, from);
        this.meet(slot, mate);
        this.post(slot, from, COUNT_REPLY, payload);
        return;
      }
      case COUNT_REPLY: {
        const state = d[at + C_STATE];
        const current = this.ints[slot * SI + I_COUNT_WAIT] === token && token !== 0;
        if (state === MEMBER) {
          // The half that came back (late or not: the other side took ours).
          if (member && d[at + C_EPOCH] === this.ints[slot * SI + I_EPOCH_OF]) this.addHalf(slot, d, at);
          this.meet(slot, d[at + C_MATE]);
        } else if (state === NOT_MEMBER) {
          this.forget(slot, from);
        }
        if (current) {
          this.ints[slot * SI + I_COUNT_WAIT] = 0;
          // Ours was not taken: take it back from the receipt.
          if (state !== MEMBER) this.takeBack(slot, r, member);
          else this.dropReceipt(slot);
          if (member) this.countRound(slot, r);
        }
        this.pool.release(payload);
        return;
      }
      case RELEASE: {
        if (member) this.quit(slot, from === this.ints[slot * SI + I_CONFIRMED_TO]);
        this.pool.release(payload);
        return;
      }
      case NOTE: {
        if (d[at + N_WHAT] === QUOTA) {
          if (member && this.ints[slot * SI + I_SUCC] === from) {
            // Its recruits of the round, spliced in after it, are now in our list too.
            this.ints[slot * SI + I_SUCC_QUOTA] = d[at + P_X];
            for (let i = 1; i < L; i++) this.ints[slot * SI + I_SUCC + i] = d[at + N_SUCC + i - 1];
            this.trimSelf(slot);
          }
        } else if (member && !this.ints[slot * SI + I_LEAVING] && from === this.ints[slot * SI + I_CONFIRMED_TO]) {
          this.ints[slot * SI + I_LINKED] = 1;
          this.floats[slot * SF + F_PINGED_AT] = this.now();
          // At once, so that its successor reports quota changes to it from now on.
          this.ping(slot, r);
        }
        this.pool.release(payload);
        return;
      }
    }
    this.pool.release(payload);
  }

  /** Answers on the same record (its request and token kept): `state` into the state field unless -1. */
  private reply(slot: number, to: number, kind: number, payload: number, state: number): void {
    if (state >= 0) this.pool.data[payload * RECORD + P_X] = state;
    this.post(slot, to, kind, payload);
  }

  private answered(slot: number, from: number, r: number, token: number, outcome: number, acceptedAt: number, life: number): void {
    if (this.ints[slot * SI + I_RECRUIT_WAIT] !== token || token === 0) {
      // Given up on already: a late acceptance is undone.
      if (outcome === ACCEPTED) this.sendRecord(slot, from, RELEASE, r, 0);
      return;
    }
    this.ints[slot * SI + I_RECRUIT_WAIT] = 0;
    const share = this.ints[slot * SI + I_RECRUIT_SHARE];
    const owner = this.assignments.owner;
    if (this.ints[slot * SI + I_RECRUIT_SUCC0] === -2) {
      // A broker's offer: on a refusal, the next candidate of its view.
      if (outcome !== ACCEPTED) {
        if (this.ints[slot * SI + I_BROKER_FOR] === r && this.entry[r] === slot && this.assignments.size[r] === 0) this.offer(slot, r, this.requests[r].size - 1, true);
        return;
      }
      if (this.entry[r] === slot) this.entry[r] = -1;
      if (this.ints[slot * SI + I_BROKER_FOR] === r) this.ints[slot * SI + I_BROKER_FOR] = -1;
      return;
    }
    const member = owner[slot] === r && this.now() < this.requests[r].until;
    if (outcome === ACCEPTED) {
      const base = slot * SI + I_SUCC;
      if (member && this.ints[base] === this.ints[slot * SI + I_RECRUIT_SUCC0]) {
        // Splice: slot -> recruit -> the old successors; the recruit now watches the old succ[0].
        for (let i = L - 1; i > 0; i--) this.ints[base + i] = this.ints[base + i - 1];
        this.ints[base] = from;
        if (this.local) this.ints[slot * SI + I_SUCC_HINT] = this.local.sender;
        this.trimSelf(slot);
        this.ints[slot * SI + I_SUCC_QUOTA] = share;
        this.ints[slot * SI + I_SUCC_EPOCH] = -1;
        this.floats[slot * SF + F_CLAIM_AT] = acceptedAt;
        this.ints[slot * SI + I_CLAIM_LIFE] = life;
        this.post(slot, from, NOTE, this.note(r, LINK, 0));
        this.meet(slot, from);
        this.ints[slot * SI + I_RECRUITED]++;
      } else {
        this.sendRecord(slot, from, RELEASE, r, 0);
        if (member) this.addQuota(slot, 1 + share);
      }
    } else {
      if (member) this.addQuota(slot, 1 + share);
      if (outcome === SAME_REQUEST && member) this.meet(slot, from);
    }
    if (member && !this.ints[slot * SI + I_LEAVING]) this.recruit(slot, r);
  }

  private ponged(slot: number, from: number, r: number, token: number, at: number, member: boolean): void {
    if (this.ints[slot * SI + I_PING_WAIT] !== token || token === 0) return;
    this.ints[slot * SI + I_PING_WAIT] = 0;
    if (!member || this.ints[slot * SI + I_SUCC] !== from) return;
    const d = this.pool.data;
    const state = d[at + G_STATE];
    if (state === NOT_MEMBER) { this.dropSuccessor(slot, r, true); return; }
    const base = slot * SI + I_SUCC;
    if (state === LEAVING) {
      // It leaves on purpose: take its successors and mass; no position to refill.
      for (let i = 0; i < L; i++) this.ints[base + i] = d[at + G_SUCC + i];
      this.trimSelf(slot);
      this.floats[slot * SF + F_CLAIM_AT] = -Infinity;
      if (d[at + G_EPOCH] === this.ints[slot * SI + I_EPOCH_OF]) {
        absorbColumns(this.ints, slot * SI + I_LEADER_IDS, this.floats, slot * SF + F_MASS, d, at + G_IDS, d, at + G_MASS);
        this.floats[slot * SF + F_QUOTA_SUM] += d[at + G_QSUM];
      }
      this.ints[slot * SI + I_SUCC_QUOTA] = 0;
      this.ints[slot * SI + I_SUCC_EPOCH] = -1;
      this.sendRecord(slot, from, RELEASE, r, 0);
      this.ping(slot, r);
      return;
    }
    this.ints[slot * SI + I_SUCC_QUOTA] = d[at + G_QUOTA];
    this.ints[slot * SI + I_SUCC_EPOCH] = d[at + G_EPOCH];
    if (this.local) this.ints[slot * SI + I_SUCC_HINT] = this.local.sender;
    for (let k = 0; k < WIDTH; k++) {
      this.ints[slot * SI + I_SUCC_IDS + k] = d[at + G_IDS + k];
      this.floats[slot * SF + F_SUCC_MASS + k] = d[at + G_MASS + k];
    }
    for (let i = 1; i < L; i++) this.ints[base + i] = d[at + G_SUCC + i - 1];
    this.trimSelf(slot);
    this.floats[slot * SF + F_CLAIM_AT] = d[at + G_TIME];
    this.ints[slot * SI + I_CLAIM_LIFE] = d[at + G_LIFE];
  }

  onTimeout(slot: number, kind: number, token: number): void {
    const r = this.assignments.owner[slot];
    switch (kind) {
      case PING_WAIT:
        if (this.ints[slot * SI + I_PING_WAIT] !== token) return;
        this.ints[slot * SI + I_PING_WAIT] = 0;
        // If a recruit was spliced in meanwhile, the silent node is the recruit's successor now: its to drop.
        if (r >= 0 && this.now() < this.requests[r].until && this.ints[slot * SI + I_SUCC] === this.ints[slot * SI + I_PING_TO]) this.dropSuccessor(slot, r, true);
        return;
      case RECRUIT_WAIT: {
        if (this.ints[slot * SI + I_RECRUIT_WAIT] !== token) return;
        this.ints[slot * SI + I_RECRUIT_WAIT] = 0;
        const fr = this.ints[slot * SI + I_RECRUIT_FOR];
        if (this.ints[slot * SI + I_RECRUIT_SUCC0] !== -2 && r === fr && r >= 0) {
          this.addQuota(slot, 1 + this.ints[slot * SI + I_RECRUIT_SHARE]);
          if (!this.ints[slot * SI + I_LEAVING]) this.recruit(slot, r);
        }
        return;
      }
      case COUNT_WAIT:
        if (this.ints[slot * SI + I_COUNT_WAIT] !== token) return;
        this.ints[slot * SI + I_COUNT_WAIT] = 0;
        this.takeBack(slot, r, r >= 0 && this.now() < this.requests[r].until);
        this.forget(slot, this.ints[slot * SI + I_COUNT_PEER]);
        if (r >= 0 && this.now() < this.requests[r].until) this.countRound(slot, r);
        return;
    }
  }

  onUndelivered(kind: number, payload: number): void {
    if (kind >= 0) this.pool.release(payload);
  }

  /** succ[0] failed or serves no longer: drop it, take over its positions (and its last known mass), move to the next. */
  private dropSuccessor(slot: number, r: number, refill: boolean): void {
    const base = slot * SI + I_SUCC;
    // Its quota as last reported (QUOTA after each of its rounds that changed it, or its PONG).
    if (refill) this.addQuota(slot, 1 + Math.max(0, this.ints[slot * SI + I_SUCC_QUOTA]));
    if (this.ints[slot * SI + I_SUCC_EPOCH] === this.ints[slot * SI + I_EPOCH_OF] && this.ints[slot * SI + I_SUCC_EPOCH] >= 0) {
      absorbColumns(this.ints, slot * SI + I_LEADER_IDS, this.floats, slot * SF + F_MASS, this.ints, slot * SI + I_SUCC_IDS, this.floats, slot * SF + F_SUCC_MASS);
    }
    this.forget(slot, this.ints[base]);
    for (let i = 0; i < L - 1; i++) this.ints[base + i] = this.ints[base + i + 1];
    this.ints[base + L - 1] = -1;
    this.trimSelf(slot);
    this.ints[slot * SI + I_SUCC_QUOTA] = 0;
    this.ints[slot * SI + I_SUCC_EPOCH] = -1;
    this.ints.fill(-1, slot * SI + I_SUCC_IDS, slot * SI + I_SUCC_IDS + WIDTH);
    this.floats[slot * SF + F_CLAIM_AT] = -Infinity;
    this.ping(slot, r);
    if (!this.ints[slot * SI + I_LEAVING]) this.recruit(slot, r);
  }

  /** Cuts the successor list at the node itself (a small ring lists it) and drops duplicates of succ[0]. */
  private trimSelf(slot: number): void {
    const selfId = this.ctx.store.idOf[slot];
    const base = slot * SI + I_SUCC;
    for (let i = 0; i < L; i++) {
      if (this.ints[base + i] === selfId || this.ints[base + i] < 0) {
        this.ints.fill(-1, base + i, base + L);
        return;
      }
    }
  }
}

function toRequest(size: number, where: readonly string[]): Request {
  return { id: 0, customer: 'slice', at: 0, size, where: where.map((w) => parseConstraint(w)!), until: Infinity, priority: 0 };
}

export const allocation = defineProtocol({
  type: 'allocation',
  description: 'decentralised allocation of subclouds to customers\' requests: recruitment by gossip, ring repair, absolute slicing\'s size count',
  params: allocationParams,
  create: (ctx, p) => new SubcloudAllocator(ctx, expandRequests(p.requests, ctx.scenario.seed, ctx.scenario.cycles), p, p.sampler),
});

export const absoluteSlicing = defineProtocol({
  type: 'absolute-slicing',
  description: 'absolute slicing (Montresor & Zandonati 2008): a slice of a given number of nodes meeting constraints, kept at that size under churn',
  params: slicingParams,
  create: (ctx, p) => new SubcloudAllocator(ctx, [toRequest(p.size, p.where)], p, p.sampler),
});

/**
 * A Float64Array whose element 0 starts a cache line (best effort; see line-aligned.ts:
 * a view from byte 48 of a slightly larger buffer), so that each record spans whole lines.
 */
function lineAlignedFloat64Array(length: number): Float64Array {
  return new Float64Array(new ArrayBuffer(48 + 8 * length), 48, length);
}
