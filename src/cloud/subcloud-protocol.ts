import { z } from 'zod';
import { declaredAttribute } from '../engine/attribute.js';
import { defineProtocol, type Linkable, type Protocol, type ProtocolContext } from '../engine/protocol.js';
import type { Random } from '../engine/random.js';
import type { SlabPool } from '../engine/slab-pool.js';
import { Assignments, type Allocator } from './allocator.js';
import { expandRequests, meets, parseConstraint, requestsSchema, type Constraint, type Request } from './requests.js';
import { absorbColumns, estimateFrom, estimateRange, WIDTH } from './size-columns.js';
import { LocalWire, type Wire } from './wire.js';

/** Successors each member keeps (Chord's successor list): the ring survives up to L - 1 consecutive failures. */
const L = 4;
/** Members of the same subcloud each member knows, for the size count's exchanges. */
const M = 4;
/** Leaders expected per epoch and subcloud (each member elects itself with probability LEADERS / ŝ). */
const LEADERS = 6;
/** Count exchanges a member starts per cycle, one after the other: the count needs about 3 log2(s) exchanges per member to settle. */
const EXCHANGES = 4;

/** Message kinds. */
const RECRUIT = 0, ANSWER = 1, PING = 2, PONG = 3, COUNT = 4, COUNT_REPLY = 5, RELEASE = 6;
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
 *   ANSWER       [2] outcome
 *   PONG         [2] state [3] quota [4] epoch [5..5+W) leader ids [5+W..5+2W) masses [5+2W..5+2W+L) successors [5+2W+L] quota sum
 *   COUNT(_REPLY)[2] state [3] epoch [4..4+W) leader ids [4+W..4+2W) masses [4+2W] quota sum [5+2W] weight [6+2W] a mate
 */
const P_REQUEST = 0, P_TOKEN = 1, P_X = 2;
const R_SHARE = 2, R_ESTIMATE = 3, R_SUCC_QUOTA = 4, R_BROKER = 5, R_SUCC = 6, R_MATES = 6 + L;
const G_STATE = 2, G_QUOTA = 3, G_EPOCH = 4, G_IDS = 5, G_MASS = 5 + WIDTH, G_SUCC = 5 + 2 * WIDTH, G_QSUM = 5 + 2 * WIDTH + L;
const C_STATE = 2, C_EPOCH = 3, C_IDS = 4, C_MASS = 4 + WIDTH, C_QUOTA = 4 + 2 * WIDTH, C_WEIGHT = 5 + 2 * WIDTH, C_MATE = 6 + 2 * WIDTH;
const RECORD = Math.max(R_MATES + M, G_QSUM + 1, C_MATE + 1);

const constraint = z.string().refine((s) => parseConstraint(s) !== undefined, {
  message: 'expected a constraint such as "capacity >= 2", "region in [0, 3]" or "region in {0, 3}"',
});

const knobs = {
  sampler: z.string().optional().describe('protocol instance whose neighbour lists supply candidates (cyclon...); default: the first protocol that has one'),
  epoch: z.number().int().min(2).default(10).describe('cycles between restarts of the size count (and of the size controller)'),
  lease: z.number().positive().default(3).describe('cycles a member waits, unpinged by a predecessor, before it counts itself as detached'),
  recruits: z.number().int().min(1).default(2).describe('recruitment messages a member with positions to fill may send per cycle'),
  repair: z.enum(['ring', 'none']).default('ring').describe('ring: members watch their ring successors and replace the ones that fail; none: the size count alone keeps the size'),
  tolerance: z.number().min(0).max(1).default(0.02).describe('the size controller acts only when the estimate is outside target × (1 ± tolerance)'),
};

const allocationParams = z.strictObject({ requests: requestsSchema, ...knobs });
const slicingParams = z.strictObject({
  size: z.number().int().positive().describe('nodes in the slice'),
  where: z.array(constraint).default([]).describe('constraints every member meets, e.g. ["capacity >= 2"]'),
  ...knobs,
});
type Knobs = { sampler?: string; epoch: number; lease: number; recruits: number; repair: 'ring' | 'none'; tolerance: number };

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
 *   constraints, else offers it (RECRUIT) to the qualifying nodes of its sampler view
 *   (their attributes come with the view's descriptors), one after another, until one
 *   accepts: the first member, with quota s - 1 (positions still to fill). A customer
 *   whose subcloud has no member and no broker (the broker left) resubmits elsewhere.
 * - Recruitment: a member with quota q > 0 offers a position to the qualifying nodes of
 *   its view, one at a time from a random entry, until `recruits` accepted this cycle or
 *   the view is scanned. A free node that qualifies accepts: it sets its own owner (the
 *   only place a node joins a subcloud) and answers ACCEPT; the recruiter splices it in
 *   as its ring successor. The recruit gets ⌊(q-1)/2⌋ of the quota, so a subcloud fills
 *   in about log2(s) rounds when free nodes are easy to find. A refusal, a timeout, or
 *   an ACCEPT after the recruiter's successor changed gives the quota back (a late
 *   ACCEPT is answered RELEASE: the node frees itself, unclaimed meanwhile).
 * - Ring (repair: ring): each member pings succ[0] every cycle; the PONG carries the
 *   successor's list, quota and count state, and the member refreshes its list as
 *   [succ0, succ0's list...] (Chord's stabilisation; L = 4 successors). A successor
 *   gone (no PONG before the timeout) or serving no longer is dropped: the member takes
 *   1 + half the quota last seen there (the rest has likely gone to a recruit since)
 *   and the successor's last known count mass, and moves on to the next.
 * - Size (both modes): push-sum counting (Kempe et al. 2003) restricted to the
 *   subcloud, restarted every `epoch` cycles. Each member elects itself leader with
 *   probability 6/ŝ; the 3 smallest leader ids' instances run (size-columns.ts). Per
 *   cycle a member makes 4 exchanges with random mates (M = 4 members it knows,
 *   swapped during exchanges): it sends half its (masses, weight, quota share), the mate
 *   adds them and sends back half of its own. Mass is conserved whatever the
 *   interleaving (a push that is refused or lost is taken back from a receipt), so the
 *   event engine counts as well as the cycle engine. ŝ = weight/mass (median over the
 *   instances), pending quota Q = ŝ × quota share/weight.
 * - Controller, at an epoch's end, by members that were there all epoch, only when all
 *   their instances agree: if ŝ + Q < s(1 - tolerance) take one more position with
 *   probability (s - ŝ - Q)/ŝ; if ŝ + Q > s(1 + tolerance) leave with probability
 *   (ŝ + Q - s)/ŝ (with the ring, beyond 3 × tolerance: the ring replaces failures
 *   exactly, while the count reads a little high under churn). A leaving member answers
 *   its predecessor's PING with LEAVING (handing over its list and count shares) and
 *   frees itself on the RELEASE that follows. With repair: none this controller is all
 *   there is (the paper's scheme): departures are seen only as a smaller count.
 * - Leases: a member unpinged for `lease` cycles is detached (an orphaned recruit, or
 *   dropped on a lost PONG); it frees itself if leaving or if the count says surplus.
 * - Release: every member frees itself at its first step at or after `until`; a
 *   request's claims end at `until`.
 *
 * Claims (forEachClaim, ring only): each active member claims its succ[0], unless that
 * node rejoined the network since the member last heard from it. A node frees itself
 * only after its claimer dropped it (RELEASE), unpinged for `lease` cycles, or at
 * `until`. A node claimed by two members of its subcloud (an orphan's list overlaps the
 * ring) can be claimed after it left by the one that has not pinged it yet: at most
 * until that member's next ping (one cycle). Priority preemption is not implemented:
 * a request waits for free nodes whatever its priority.
 *
 * State: typed arrays by slot and by request, declared through ctx.state; payloads in
 * a pool. A free node's step only reads its owner; a member's is O(L + M + view) and
 * sends about 10 messages a cycle (one ping, four count exchanges, replies).
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
  /** Per request, its constraints' attribute columns. */
  private readonly columns: Float64Array[][];
  private readonly constraints: (readonly Constraint[])[];

  // Per slot (capacity, or capacity × width).
  private readonly succ: Int32Array;
  private readonly succQuota: Int32Array;
  /** Last known count state of succ[0]: its epoch, leader ids and masses. */
  private readonly succEpoch: Int32Array;
  private readonly succIds: Int32Array;
  private readonly succMass: Float64Array;
  /** Time (cycles) the member last heard from succ[0] (a PONG, or the splice). */
  private readonly heardAt: Float64Array;
  private readonly quota: Int32Array;
  /** Time (cycles) the member was last pinged (its lease). */
  private readonly pingedAt: Float64Array;
  private readonly leaving: Uint8Array;
  /** 1 until the end of the epoch in which the member joined: it counts, but does not act on that epoch's count. */
  private readonly fresh: Uint8Array;
  private readonly tokens: Int32Array;
  private readonly pingWait: Int32Array;
  private readonly recruitWait: Int32Array;
  private readonly recruitShare: Int32Array;
  private readonly recruitFor: Int32Array;
  private readonly recruitSucc0: Int32Array;
  /** This round's recruitment: where the scan of the view started, entries scanned, recruits accepted. */
  private readonly scanFrom: Int32Array;
  private readonly scanned: Int32Array;
  private readonly recruited: Int32Array;
  private readonly countWait: Int32Array;
  private readonly countPeer: Int32Array;
  /** A copy of the half of the count state in the member's outstanding push (a pool record), or -1: taken back if the push is lost. */
  private readonly countReceipt: Int32Array;
  /** Count exchanges the member still starts this round. */
  private readonly countLeft: Uint8Array;
  private readonly mates: Int32Array;
  private readonly leaderIds: Int32Array;
  private readonly mass: Float64Array;
  /** Push-sum state of the count: the node's share of the subcloud's pending quota, and its weight (members sum to the subcloud's size). */
  private readonly quotaSum: Float64Array;
  private readonly weight: Float64Array;
  private readonly epochOf: Int32Array;
  private readonly estimate: Float64Array;
  private readonly brokerFor: Int32Array;

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
    this.epoch = p.epoch;
    this.lease = p.lease;
    this.recruits = p.recruits;
    this.tolerance = p.tolerance;
    // With the ring, surplus comes only from rare orphans, while the count reads high
    // under churn (departed members take mass): shedding waits for a larger excess.
    this.shedTolerance = this.ring ? 3 * p.tolerance : p.tolerance;
    this.random = ctx.random;
    this.constraints = requests.map((r) => r.where);
    this.columns = requests.map((r) => r.where.map((c, i) => declaredAttribute(store, c.attribute, `protocols.${ctx.name}.${'size' in p ? 'where' : 'requests'}.${i}`)));
    this.assignments = new Assignments(n, requests.length, state);
    this.succ = state.array('succ', new Int32Array(n * L).fill(-1));
    this.succQuota = state.array('succ-quota', new Int32Array(n));
    this.succEpoch = state.array('succ-epoch', new Int32Array(n).fill(-1));
    this.succIds = state.array('succ-leaders', new Int32Array(n * WIDTH).fill(-1));
    this.succMass = state.array('succ-mass', new Float64Array(n * WIDTH));
    this.heardAt = state.array('heard-at', new Float64Array(n));
    this.quota = state.array('quota', new Int32Array(n));
    this.pingedAt = state.array('pinged-at', new Float64Array(n));
    this.leaving = state.array('leaving', new Uint8Array(n));
    this.fresh = state.array('fresh', new Uint8Array(n));
    this.tokens = state.array('tokens', new Int32Array(n));
    this.pingWait = state.array('ping-wait', new Int32Array(n));
    this.recruitWait = state.array('recruit-wait', new Int32Array(n));
    this.recruitShare = state.array('recruit-share', new Int32Array(n));
    this.recruitFor = state.array('recruit-for', new Int32Array(n).fill(-1));
    this.recruitSucc0 = state.array('recruit-succ', new Int32Array(n).fill(-1));
    this.scanFrom = state.array('scan-from', new Int32Array(n));
    this.scanned = state.array('scanned', new Int32Array(n));
    this.recruited = state.array('recruited', new Int32Array(n));
    this.countWait = state.array('count-wait', new Int32Array(n));
    this.countPeer = state.array('count-peer', new Int32Array(n).fill(-1));
    this.countLeft = state.array('count-left', new Uint8Array(n));
    this.countReceipt = state.array('count-receipt', new Int32Array(n).fill(-1));
    this.mates = state.array('mates', new Int32Array(n * M).fill(-1));
    this.leaderIds = state.array('leaders', new Int32Array(n * WIDTH).fill(-1));
    this.mass = state.array('mass', new Float64Array(n * WIDTH));
    this.quotaSum = state.array('quota-sum', new Float64Array(n));
    this.weight = state.array('weight', new Float64Array(n));
    this.epochOf = state.array('epoch-of', new Int32Array(n).fill(-1));
    this.estimate = state.array('estimate', new Float64Array(n));
    this.brokerFor = state.array('broker-for', new Int32Array(n).fill(-1));
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
    for (let i = 0; i < store.size; i++) {
      const slot = store.liveSlot(i);
      const r = owner[slot];
      if (r < 0 || now >= this.requests[r].until) continue;
      const claimed = store.slotOf(this.succ[slot * L]);
      if (claimed < 0 || claimed === slot || store.joinedAt[claimed] > this.heardAt[slot]) continue;
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
      if (this.brokerFor[slot] >= 0) continue;
      this.brokerFor[slot] = r;
      this.entry[r] = slot;
      return;
    }
  }

  onJoin(slot: number, returning: boolean): void {
    if (!returning) this.assignments.reset(slot);
    this.clear(slot);
  }

  onLeave(slot: number): void {
    this.assignments.release(slot, this.ctx.clock.time);
    const r = this.brokerFor[slot];
    if (r >= 0 && this.entry[r] === slot) this.entry[r] = -1;
    this.clear(slot);
  }

  /** A node's state when it serves nobody. */
  private clear(slot: number): void {
    this.succ.fill(-1, slot * L, slot * L + L);
    this.mates.fill(-1, slot * M, slot * M + M);
    this.leaderIds.fill(-1, slot * WIDTH, slot * WIDTH + WIDTH);
    this.succIds.fill(-1, slot * WIDTH, slot * WIDTH + WIDTH);
    this.quota[slot] = 0;
    this.leaving[slot] = 0;
    this.pingWait[slot] = 0;
    this.recruitWait[slot] = 0;
    this.countWait[slot] = 0;
    this.dropReceipt(slot);
    this.recruitFor[slot] = -1;
    this.brokerFor[slot] = -1;
    this.epochOf[slot] = -1;
  }

  step(slot: number): void {
    this.onTimer(slot);
    this.local!.drain();
  }

  /** A node's round: broker work, then (a member) release, epoch, ring, count, recruitment. */
  onTimer(slot: number): void {
    if (this.brokerFor[slot] >= 0) this.brokerRound(slot);
    const r = this.assignments.owner[slot];
    if (r < 0) return;
    const now = this.now();
    if (now >= this.requests[r].until) { this.free(slot); return; }
    this.startEpoch(slot, r);
    const selfId = this.ctx.store.idOf[slot];
    const base = slot * L;
    const lone = this.succ[base] < 0;
    if (!this.ring || lone) {
      if (this.leaving[slot]) { this.free(slot); return; }
      this.pingedAt[slot] = now;
    } else if (now - this.pingedAt[slot] > this.lease && (this.leaving[slot] || this.hasSurplus(slot, r))) {
      this.free(slot);
      return;
    }
    if (this.ring && !lone && this.pingWait[slot] === 0) {
      const token = this.token(slot);
      this.pingWait[slot] = token;
      this.sendRecord(slot, this.succ[base], PING, r, token);
      this.wire.timeout(slot, PING_WAIT, token);
    }
    this.countLeft[slot] = EXCHANGES;
    this.countRound(slot, r);
    this.startScan(slot);
    if (!this.leaving[slot]) this.recruit(slot, r);
  }

  /** Whether the member's last estimate says its subcloud has a surplus (see shedTolerance). */
  private hasSurplus(slot: number, r: number): boolean {
    const estimate = this.estimate[slot];
    return estimate > 0 && estimate + this.pending(slot, estimate) > this.requests[r].size * (1 + this.shedTolerance);
  }

  private token(slot: number): number {
    const t = (this.tokens[slot] + 1) & 0x3fffffff;
    this.tokens[slot] = t === 0 ? 1 : t;
    return this.tokens[slot];
  }

  /** A record with its request and token filled in; the caller fills the rest and sends it. */
  private record(r: number, token: number): number {
    const record = this.pool.allocate();
    const at = record * RECORD;
    this.pool.data[at + P_REQUEST] = r;
    this.pool.data[at + P_TOKEN] = token;
    return record;
  }

  private post(from: number, to: number, kind: number, record: number): void {
    this.counters.messages++;
    if (!this.wire.send(from, to, kind, record)) this.pool.release(record);
  }

  private sendRecord(from: number, to: number, kind: number, r: number, token: number, x = 0): void {
    const record = this.record(r, token);
    this.pool.data[record * RECORD + P_X] = x;
    this.post(from, to, kind, record);
  }

  /** The node stops serving (released, left on purpose, or detached). */
  private free(slot: number): void {
    this.assignments.release(slot, this.ctx.clock.time);
    const broker = this.brokerFor[slot];
    this.clear(slot);
    this.brokerFor[slot] = broker;
  }

  // ---- Brokers and recruitment ----

  private brokerRound(slot: number): void {
    const r = this.brokerFor[slot];
    const request = this.requests[r];
    const owner = this.assignments.owner;
    if (this.status[r] !== ACTIVE || this.assignments.size[r] > 0 || this.entry[r] !== slot) {
      if (this.entry[r] === slot) this.entry[r] = -1;
      this.brokerFor[slot] = -1;
      return;
    }
    if (owner[slot] < 0 && this.qualifies(r, slot)) {
      this.brokerFor[slot] = -1;
      this.entry[r] = -1;
      this.join(slot, r, request.size - 1, 1);
      return;
    }
    if (this.recruitWait[slot] !== 0) return;
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
    const start = this.scanFrom[slot];
    for (let k = this.scanned[slot]; k < degree; k++) {
      this.scanned[slot] = k + 1;
      const id = peers.neighbor(slot, (start + k) % degree);
      // The candidate's attributes come with its descriptor in the view.
      const q = store.slotOf(id);
      if (q < 0 || id === selfId || !this.qualifies(r, q)) continue;
      const token = this.token(slot);
      this.recruitWait[slot] = token;
      this.recruitShare[slot] = share;
      this.recruitFor[slot] = r;
      this.recruitSucc0[slot] = broker ? -2 : this.succ[slot * L];
      const record = this.record(r, token);
      const d = this.pool.data, at = record * RECORD;
      d[at + R_SHARE] = share;
      d[at + R_ESTIMATE] = broker ? 1 : this.estimate[slot];
      d[at + R_SUCC_QUOTA] = broker ? 0 : this.succQuota[slot];
      d[at + R_BROKER] = broker ? 1 : 0;
      for (let i = 0; i < L; i++) d[at + R_SUCC + i] = broker ? -1 : this.succ[slot * L + i];
      for (let i = 0; i < M; i++) d[at + R_MATES + i] = broker ? -1 : this.mates[slot * M + i];
      if (!broker && this.succ[slot * L] < 0) d[at + R_SUCC] = selfId;
      if (!broker) d[at + R_MATES + this.random.int(M)] = selfId;
      this.post(slot, id, RECRUIT, record);
      this.wire.timeout(slot, RECRUIT_WAIT, token);
      return true;
    }
    return false;
  }

  /** A round's scan of the view starts at a random entry; each entry is offered at most once per round. */
  private startScan(slot: number): void {
    const degree = this.peers.degree(slot);
    this.scanFrom[slot] = degree > 0 ? this.random.int(degree) : 0;
    this.scanned[slot] = 0;
    this.recruited[slot] = 0;
  }

  /** A member with positions to fill sends its next RECRUIT, until `recruits` accepted this round or its view is scanned. */
  private recruit(slot: number, r: number): void {
    const q = this.quota[slot];
    if (q <= 0 || this.recruitWait[slot] !== 0 || this.recruited[slot] >= this.recruits) return;
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
    this.quota[slot] = quota;
    this.pingedAt[slot] = now;
    this.heardAt[slot] = now;
    this.estimate[slot] = estimate;
    this.leaving[slot] = 0;
    this.fresh[slot] = 1;
    // It counts from the current epoch on, holding no mass yet.
    this.epochOf[slot] = Math.floor(now / this.epoch);
    this.leaderIds.fill(-1, slot * WIDTH, slot * WIDTH + WIDTH);
    this.mass.fill(0, slot * WIDTH, slot * WIDTH + WIDTH);
    this.quotaSum[slot] = quota;
    this.weight[slot] = 1;
  }

  /**
   * Changes a member's quota, and its share of the averaged quota by as much, so that
   * the average keeps tracking the positions pending in the whole subcloud.
   */
  private addQuota(slot: number, change: number): void {
    this.quota[slot] += change;
    this.quotaSum[slot] += change;
  }

  // ---- The size count and its controller ----

  /** At a member's first round or exchange in a new epoch: close the last one (the controller), start this one. */
  private startEpoch(slot: number, r: number): void {
    const e = Math.floor(this.now() / this.epoch);
    if (this.epochOf[slot] >= e) return;
    const estimate = estimateFrom(this.leaderIds, this.mass, slot * WIDTH, this.weight[slot]);
    if (estimate > 0 && Number.isFinite(estimate)) {
      this.estimate[slot] = estimate;
      // A member that joined during the epoch saw only part of it (while a subcloud
      // fills, nearly all of them): it keeps the estimate but leaves the acting to others.
      if (this.fresh[slot] === 0) this.control(slot, r, estimate, this.pending(slot, estimate));
    }
    this.fresh[slot] = 0;
    this.epochOf[slot] = e;
    this.leaderIds.fill(-1, slot * WIDTH, slot * WIDTH + WIDTH);
    this.mass.fill(0, slot * WIDTH, slot * WIDTH + WIDTH);
    const guess = this.estimate[slot] > 0 ? this.estimate[slot] : 1;
    if (this.random.next() * guess < LEADERS) {
      this.leaderIds[slot * WIDTH] = this.ctx.store.idOf[slot];
      this.mass[slot * WIDTH] = 1;
    }
    this.quotaSum[slot] = this.quota[slot];
    this.weight[slot] = 1;
  }

  /** Positions pending in the whole subcloud, by the count: the mean quota per member times the size. */
  private pending(slot: number, estimate: number): number {
    const w = this.weight[slot];
    return w > 0 ? Math.max(0, this.quotaSum[slot] / w) * estimate : 0;
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
    if (estimateRange.high + pending < target * (1 - this.tolerance)) {
      const wanted = (target - total) / estimate;
      this.addQuota(slot, Math.floor(wanted) + (this.random.next() < wanted % 1 ? 1 : 0));
    } else if (estimateRange.low + pending > target * (1 + this.shedTolerance) && this.random.next() < (total - target) / estimate) {
      this.leaving[slot] = 1;
      this.addQuota(slot, -this.quota[slot]);
    }
  }

  /** Starts the member's next count exchange of this round, if it has one left. */
  private countRound(slot: number, r: number): void {
    if (this.countWait[slot] !== 0 || this.countLeft[slot] === 0) return;
    this.countLeft[slot]--;
    const selfId = this.ctx.store.idOf[slot];
    const base = slot * M;
    let peer = -1;
    const start = this.random.int(M);
    for (let k = 0; k < M && peer < 0; k++) {
      const id = this.mates[base + (start + k) % M];
      if (id >= 0 && id !== selfId) peer = id;
    }
    if (peer < 0) peer = this.succ[slot * L];
    if (peer < 0 || peer === selfId) return;
    const token = this.token(slot);
    this.countWait[slot] = token;
    this.countPeer[slot] = peer;
    const record = this.record(r, token);
    this.pushHalf(slot, record);
    const receipt = this.pool.allocate();
    this.pool.data.copyWithin(receipt * RECORD, record * RECORD, record * RECORD + RECORD);
    this.countReceipt[slot] = receipt;
    this.post(slot, peer, COUNT, record);
    this.wire.timeout(slot, COUNT_WAIT, token);
  }

  /** Push-sum: the node keeps half its count state and puts the other half, and one of its mates, in a COUNT record. */
  private pushHalf(slot: number, record: number): void {
    const d = this.pool.data, at = record * RECORD;
    d[at + C_STATE] = MEMBER;
    d[at + C_EPOCH] = this.epochOf[slot];
    for (let k = 0; k < WIDTH; k++) {
      const half = this.mass[slot * WIDTH + k] / 2;
      this.mass[slot * WIDTH + k] = half;
      d[at + C_IDS + k] = this.leaderIds[slot * WIDTH + k];
      d[at + C_MASS + k] = half;
    }
    this.quotaSum[slot] /= 2;
    this.weight[slot] /= 2;
    d[at + C_QUOTA] = this.quotaSum[slot];
    d[at + C_WEIGHT] = this.weight[slot];
    d[at + C_MATE] = this.mates[slot * M + this.random.int(M)];
  }

  /** Push-sum: adds the count state carried at record offset `at` (a push received, or one returned) to the node's. */
  private addHalf(slot: number, d: Float64Array, at: number): void {
    absorbColumns(this.leaderIds, this.mass, slot * WIDTH, d, at + C_IDS, d, at + C_MASS);
    this.quotaSum[slot] += d[at + C_QUOTA];
    this.weight[slot] += d[at + C_WEIGHT];
  }

  /** The outstanding push was not taken (refused, or lost with its destination): the member adds its half back. */
  private takeBack(slot: number, r: number, member: boolean): void {
    const receipt = this.countReceipt[slot];
    if (receipt < 0) return;
    const d = this.pool.data, at = receipt * RECORD;
    if (member && d[at + P_REQUEST] === r && d[at + C_EPOCH] === this.epochOf[slot]) this.addHalf(slot, d, at);
    this.dropReceipt(slot);
  }

  private dropReceipt(slot: number): void {
    const receipt = this.countReceipt[slot];
    if (receipt < 0) return;
    this.pool.release(receipt);
    this.countReceipt[slot] = -1;
  }

  /** Puts `id` among the node's mates, over a random one (unless it is there already, or the node itself). */
  private meet(slot: number, id: number): void {
    if (id < 0 || id === this.ctx.store.idOf[slot]) return;
    const base = slot * M;
    for (let k = 0; k < M; k++) if (this.mates[base + k] === id) return;
    for (let k = 0; k < M; k++) if (this.mates[base + k] < 0) { this.mates[base + k] = id; return; }
    this.mates[base + this.random.int(M)] = id;
  }

  private forget(slot: number, id: number): void {
    const base = slot * M;
    for (let k = 0; k < M; k++) if (this.mates[base + k] === id) this.mates[base + k] = -1;
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
          const base = slot * L;
          for (let i = 0; i < L; i++) this.succ[base + i] = d[at + R_SUCC + i];
          this.trimSelf(slot);
          this.succQuota[slot] = d[at + R_SUCC_QUOTA];
          this.succEpoch[slot] = -1;
          for (let i = 0; i < M; i++) this.meet(slot, d[at + R_MATES + i]);
          outcome = ACCEPTED;
        } else if (member) {
          outcome = SAME_REQUEST;
        }
        this.reply(slot, from, ANSWER, payload, outcome);
        return;
      }
      case ANSWER: {
        const outcome = d[at + P_X];
        this.pool.release(payload);
        this.answered(slot, from, r, token, outcome);
        return;
      }
      case PING: {
        if (!member) { this.reply(slot, from, PONG, payload, NOT_MEMBER); return; }
        this.pingedAt[slot] = this.now();
        const state = this.leaving[slot] ? LEAVING : MEMBER;
        d[at + G_STATE] = state;
        d[at + G_QUOTA] = this.quota[slot];
        d[at + G_EPOCH] = this.epochOf[slot];
        for (let k = 0; k < WIDTH; k++) {
          d[at + G_IDS + k] = this.leaderIds[slot * WIDTH + k];
          d[at + G_MASS + k] = this.mass[slot * WIDTH + k];
        }
        // A leaver hands its mass over to the predecessor, which absorbs it.
        d[at + G_QSUM] = this.quotaSum[slot];
        if (state === LEAVING) {
          this.leaderIds.fill(-1, slot * WIDTH, slot * WIDTH + WIDTH);
          this.mass.fill(0, slot * WIDTH, slot * WIDTH + WIDTH);
          this.quotaSum[slot] = 0;
        }
        for (let i = 0; i < L; i++) d[at + G_SUCC + i] = this.succ[slot * L + i];
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
        if (d[at + C_EPOCH] !== this.epochOf[slot]) { this.reply(slot, from, COUNT_REPLY, payload, OTHER_EPOCH); return; }
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
        const current = this.countWait[slot] === token && token !== 0;
        if (state === MEMBER) {
          // The half that came back (late or not: the other side took ours).
          if (member && d[at + C_EPOCH] === this.epochOf[slot]) this.addHalf(slot, d, at);
          this.meet(slot, d[at + C_MATE]);
        } else if (state === NOT_MEMBER) {
          this.forget(slot, from);
        }
        if (current) {
          this.countWait[slot] = 0;
          // Ours was not taken: take it back from the receipt.
          if (state !== MEMBER) this.takeBack(slot, r, member);
          else this.dropReceipt(slot);
          if (member) this.countRound(slot, r);
        }
        this.pool.release(payload);
        return;
      }
      case RELEASE: {
        if (member) this.free(slot);
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

  private answered(slot: number, from: number, r: number, token: number, outcome: number): void {
    if (this.recruitWait[slot] !== token || token === 0) {
      // Given up on already: a late acceptance is undone.
      if (outcome === ACCEPTED) this.sendRecord(slot, from, RELEASE, r, 0);
      return;
    }
    this.recruitWait[slot] = 0;
    const share = this.recruitShare[slot];
    const owner = this.assignments.owner;
    if (this.recruitSucc0[slot] === -2) {
      // A broker's offer: on a refusal, the next candidate of its view.
      if (outcome !== ACCEPTED) {
        if (this.brokerFor[slot] === r && this.entry[r] === slot && this.assignments.size[r] === 0) this.offer(slot, r, this.requests[r].size - 1, true);
        return;
      }
      if (this.entry[r] === slot) this.entry[r] = -1;
      if (this.brokerFor[slot] === r) this.brokerFor[slot] = -1;
      return;
    }
    const member = owner[slot] === r && this.now() < this.requests[r].until;
    if (outcome === ACCEPTED) {
      const base = slot * L;
      if (member && this.succ[base] === this.recruitSucc0[slot]) {
        // Splice: slot -> recruit -> the old successors; the recruit now watches the old succ[0].
        for (let i = L - 1; i > 0; i--) this.succ[base + i] = this.succ[base + i - 1];
        this.succ[base] = from;
        this.trimSelf(slot);
        this.succQuota[slot] = share;
        this.succEpoch[slot] = -1;
        this.heardAt[slot] = this.now();
        this.meet(slot, from);
        this.recruited[slot]++;
      } else {
        this.sendRecord(slot, from, RELEASE, r, 0);
        if (member) this.addQuota(slot, 1 + share);
      }
    } else {
      if (member) this.addQuota(slot, 1 + share);
      if (outcome === SAME_REQUEST && member) this.meet(slot, from);
    }
    if (member && !this.leaving[slot]) this.recruit(slot, r);
  }

  private ponged(slot: number, from: number, r: number, token: number, at: number, member: boolean): void {
    if (this.pingWait[slot] !== token || token === 0) return;
    this.pingWait[slot] = 0;
    if (!member || this.succ[slot * L] !== from) return;
    const d = this.pool.data;
    const state = d[at + G_STATE];
    if (state === NOT_MEMBER) { this.dropSuccessor(slot, r, true); return; }
    const base = slot * L;
    if (state === LEAVING) {
      // It leaves on purpose: take its successors and mass; no position to refill.
      for (let i = 0; i < L; i++) this.succ[base + i] = d[at + G_SUCC + i];
      this.trimSelf(slot);
      if (d[at + G_EPOCH] === this.epochOf[slot]) {
        absorbColumns(this.leaderIds, this.mass, slot * WIDTH, d, at + G_IDS, d, at + G_MASS);
        this.quotaSum[slot] += d[at + G_QSUM];
      }
      this.succQuota[slot] = 0;
      this.succEpoch[slot] = -1;
      this.sendRecord(slot, from, RELEASE, r, 0);
      return;
    }
    this.succQuota[slot] = d[at + G_QUOTA];
    this.succEpoch[slot] = d[at + G_EPOCH];
    for (let k = 0; k < WIDTH; k++) {
      this.succIds[slot * WIDTH + k] = d[at + G_IDS + k];
      this.succMass[slot * WIDTH + k] = d[at + G_MASS + k];
    }
    for (let i = 1; i < L; i++) this.succ[base + i] = d[at + G_SUCC + i - 1];
    this.trimSelf(slot);
    this.heardAt[slot] = this.now();
  }

  onTimeout(slot: number, kind: number, token: number): void {
    const r = this.assignments.owner[slot];
    switch (kind) {
      case PING_WAIT:
        if (this.pingWait[slot] !== token) return;
        this.pingWait[slot] = 0;
        if (r >= 0 && this.now() < this.requests[r].until) this.dropSuccessor(slot, r, true);
        return;
      case RECRUIT_WAIT: {
        if (this.recruitWait[slot] !== token) return;
        this.recruitWait[slot] = 0;
        const fr = this.recruitFor[slot];
        if (this.recruitSucc0[slot] !== -2 && r === fr && r >= 0) {
          this.addQuota(slot, 1 + this.recruitShare[slot]);
          if (!this.leaving[slot]) this.recruit(slot, r);
        }
        return;
      }
      case COUNT_WAIT:
        if (this.countWait[slot] !== token) return;
        this.countWait[slot] = 0;
        this.takeBack(slot, r, r >= 0 && this.now() < this.requests[r].until);
        this.forget(slot, this.countPeer[slot]);
        if (r >= 0 && this.now() < this.requests[r].until) this.countRound(slot, r);
        return;
    }
  }

  onUndelivered(kind: number, payload: number): void {
    if (kind >= 0) this.pool.release(payload);
  }

  /** succ[0] failed or serves no longer: drop it, take over its positions (and its last known mass), move to the next. */
  private dropSuccessor(slot: number, r: number, refill: boolean): void {
    const base = slot * L;
    // Its quota as last seen is up to a round old: while a subcloud fills, the successor
    // has since handed about half of it to a recruit (who lives on). Half is taken: an
    // underfill is the count controller's to mend, an overfill would be a claim too many.
    if (refill) this.addQuota(slot, 1 + (Math.max(0, this.succQuota[slot]) >> 1));
    if (this.succEpoch[slot] === this.epochOf[slot] && this.succEpoch[slot] >= 0) {
      absorbColumns(this.leaderIds, this.mass, slot * WIDTH, this.succIds, slot * WIDTH, this.succMass, slot * WIDTH);
    }
    this.forget(slot, this.succ[base]);
    for (let i = 0; i < L - 1; i++) this.succ[base + i] = this.succ[base + i + 1];
    this.succ[base + L - 1] = -1;
    this.trimSelf(slot);
    this.succQuota[slot] = 0;
    this.succEpoch[slot] = -1;
    this.succIds.fill(-1, slot * WIDTH, slot * WIDTH + WIDTH);
    this.heardAt[slot] = this.now();
    if (!this.leaving[slot]) this.recruit(slot, r);
  }

  /** Cuts the successor list at the node itself (a small ring lists it) and drops duplicates of succ[0]. */
  private trimSelf(slot: number): void {
    const selfId = this.ctx.store.idOf[slot];
    const base = slot * L;
    for (let i = 0; i < L; i++) {
      if (this.succ[base + i] === selfId || this.succ[base + i] < 0) {
        this.succ.fill(-1, base + i, base + L);
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
