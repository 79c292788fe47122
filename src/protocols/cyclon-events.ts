import type { ProtocolContext } from '../engine/protocol.js';
import { bytesOf, lineAlignedInt32Array } from '../engine/line-aligned.js';
import type { SlabPool } from '../engine/slab-pool.js';
import type { CyclonCaches } from './cyclon-cache.js';

/** Event engine message kinds: P's request, Q's reply, Q's refusal (busy: refuse). */
const REQUEST = 0, REPLY = 1, REFUSAL = 2;
/**
 * Event engine: one shuffle's message record, carried by the request and then by
 * its reply: the request's sequence number, the entry counts of P and of Q, P's l ids,
 * Q's l ids, then as bytes the entries' ages (or birth stamps: see CyclonCaches), P's l
 * and Q's l. Records are whole cache lines, line-aligned: for l = 5, 16 words, one line.
 * Under `busy: defer`, Q's first id word (free until Q answers) links a request Q
 * deferred to the next one.
 */
const SEQUENCE = 0, P_COUNT = 1, Q_COUNT = 2, P_IDS = 3;

/** What a node with its own request in flight does with another's request (CyclonParams.busy). */
export type BusyRule = 'answer' | 'refuse' | 'defer';
const ANSWER = 0, REFUSE = 1, DEFER = 2;
const BUSY_RULES: Record<BusyRule, number> = { answer: ANSWER, refuse: REFUSE, defer: DEFER };

/**
 * Cyclon in the event-driven engine: each shuffle is a request and a reply in flight,
 * over the same caches and the same steps as the cycle-driven exchange (CyclonCaches'
 * takeOldest, offer, answer, mergeAnswer); Cyclon hands the engine's timers, messages
 * and early reads on to here. The node's request in flight is kept in its own record
 * (CyclonCaches.requestAt); the entries travel in one pooled message record.
 */
export class CyclonEvents {
  /** The shuffles' message records (event engine only), declared: messages in flight are state. */
  private readonly messages?: SlabPool<Int32Array>;
  /** The message records' bytes, for the ages, and the records they view (replaced when the pool grows). */
  private messageBytes: Uint8Array = new Uint8Array(0);
  private messageBytesOf?: Int32Array;
  private readonly shuffleLength: number;
  /** Word offset of Q's ids, and byte offsets of P's and Q's ages, in a message record. */
  private readonly qIds: number;
  private readonly pAgeBytes: number;
  private readonly qAgeBytes: number;
  private readonly messageWidth: number;
  // Scratch for one handler, reused: no allocation on the hot path.
  /** Positions P sends from, in draw order; then where the entries it sent sit now. */
  private readonly sentP: Int32Array;
  /** Positions Q sends from, in draw order. */
  private readonly sentQ: Int32Array;
  private readonly sendIds: Int32Array;
  private readonly sendAges: Uint8Array;
  private readonly replyIds: Int32Array;
  private readonly replyAges: Uint8Array;
  /** The busy rule (ANSWER, REFUSE or DEFER). */
  private readonly busy: number;
  /**
   * busy: defer, event engine: per slot, the first and the last of the requests it
   * deferred (message records, -1: none), a queue linked through the records. Declared.
   */
  private readonly deferred?: Int32Array;

  constructor(private readonly ctx: ProtocolContext, private readonly caches: CyclonCaches, shuffle: number, busy: BusyRule = 'answer') {
    this.shuffleLength = shuffle;
    this.qIds = P_IDS + shuffle;
    this.pAgeBytes = 4 * (P_IDS + 2 * shuffle);
    this.qAgeBytes = this.pAgeBytes + shuffle;
    this.messageWidth = Math.ceil((this.qAgeBytes + shuffle) / 64) * 16;
    this.sentP = new Int32Array(shuffle + 1); // + 1: see CyclonCaches.pickRandom
    this.sentQ = new Int32Array(shuffle + 1);
    this.sendIds = new Int32Array(shuffle);
    this.sendAges = new Uint8Array(shuffle);
    this.replyIds = new Int32Array(shuffle);
    this.replyAges = new Uint8Array(shuffle);
    this.busy = BUSY_RULES[busy];
    if (ctx.engine === 'event') {
      this.messages = ctx.state.pool('messages', this.messageWidth, lineAlignedInt32Array);
      if (this.busy === DEFER) this.deferred = ctx.state.array('deferred', new Int32Array(2 * caches.capacity).fill(-1));
    }
  }

  /** What may change between events: the global cycle. */
  private refresh(): void {
    this.caches.refresh(this.ctx.clock.cycle);
  }

  /**
   * The node's timer fired. It takes its oldest neighbour Q out of its
   * cache and sends Q itself plus l-1 random entries; the entries stay in its cache
   * until Q's reply replaces them. Q answers a request whether or not P still waits,
   * as a deployed node would (it cannot know). A request to a departed node gets no
   * reply (Q's entry is gone already); a reply later than `timeoutAfter`, or
   * overtaken by the node's next request, is ignored. Under `busy: answer` (the
   * default) shuffles overlap freely; see underBusyRule for the other rules.
   */
  onTimer(p: number): void {
    this.refresh();
    const caches = this.caches;
    const records = caches.records;
    const pBase = p * caches.stride;
    // The node's request in flight, if any, is superseded now: what it deferred is answered first.
    if (this.busy === DEFER) this.answerDeferred(p);
    let n = records[pBase + caches.cache];
    if (n === 0) return;
    const qId = caches.takeOldest(pBase, n, -1);
    caches.ageEntries(pBase); // see Cyclon.shuffles
    n--;

    const messages = this.messages!;
    const message = messages.allocate();
    const data = messages.data;
    const at = message * messages.width;
    const offered = caches.offer(pBase, n, this.shuffleLength, this.sentP, data, at + P_IDS, this.bytesOf(data), 4 * at + this.pAgeBytes);
    const transport = this.ctx.transport!;
    const request = pBase + caches.requestAt;
    const sequence = (records[request] + 1) | 0;
    records[request] = sequence;
    records[request + 1] = offered;
    records[request + 2] = transport.now | 0;
    if (caches.positionsAt >= 0) records[pBase + caches.positionsAt] = this.packPositions(offered - 1);
    data[at + SEQUENCE] = sequence;
    data[at + P_COUNT] = offered;
    if (!transport.send(p, qId, REQUEST, message, 8 * offered)) messages.release(message);
  }

  /** Early reads of the records an upcoming timer, request or reply will touch. */
  prefetch(slot: number, message: number, _from: number, payload: number): number {
    let sum = this.caches.prefetch(slot);
    if (message < 0) return sum;
    // One word per line of the message record.
    const messages = this.messages!;
    let at = payload * messages.width;
    for (const end = at + messages.width; at < end; at += 16) sum += messages.data[at];
    return sum;
  }

  onMessage(slot: number, kind: number, from: number, payload: number): void {
    this.refresh();
    if (this.busy !== ANSWER) this.underBusyRule(slot, kind, from, payload);
    else if (kind === REQUEST) this.answer(slot, from, payload);
    else this.takeReply(slot, payload);
  }

  /**
   * A request, reply or refusal arrived, under `busy: refuse` or `defer` (under `answer`
   * a request is answered at once, from a cache that may still hold the entries its
   * node sent out). A request to a node whose own request is in flight (sent, not yet
   * answered, not timed out) is refused under `refuse`; under `defer`, it is answered
   * once the node's own shuffle is done: when its reply comes, or at the first event
   * after it timed out (a request, a late reply, or the node's next timer, which
   * supersedes it).
   */
  private underBusyRule(slot: number, kind: number, from: number, payload: number): void {
    if (kind === REQUEST) {
      if (!this.waiting(slot)) {
        if (this.busy === DEFER) this.answerDeferred(slot);
        this.answer(slot, from, payload);
      } else if (this.busy === REFUSE) this.refuse(slot, from, payload);
      else this.defer(slot, payload);
    } else if (kind === REPLY) {
      this.takeReply(slot, payload);
      if (this.busy === DEFER && !this.waiting(slot)) this.answerDeferred(slot);
    } else {
      this.takeRefusal(slot, from, payload);
    }
  }

  onUndelivered(_kind: number, payload: number): void {
    this.messages!.release(payload);
  }

  /** The node in `slot` leaves or goes offline: the requests it deferred are lost with it (their senders time out). */
  onLeave(slot: number): void {
    const deferred = this.deferred;
    if (deferred === undefined) return;
    const messages = this.messages!;
    for (let message = deferred[2 * slot]; message >= 0;) {
      const next = messages.data[message * messages.width + this.qIds];
      messages.release(message);
      message = next;
    }
    deferred[2 * slot] = deferred[2 * slot + 1] = -1;
  }

  /** Whether the node in `slot` waits for the reply to its request: one is in flight, and not timed out. */
  private waiting(slot: number): boolean {
    const records = this.caches.records;
    const request = slot * this.caches.stride + this.caches.requestAt;
    const transport = this.ctx.transport!;
    return records[request + 1] > 0 && (((transport.now | 0) - records[request + 2]) | 0) <= transport.timeoutAfter;
  }

  /** busy: refuse. Q sends the record back as a refusal: no entries, and Q's cache unchanged. */
  private refuse(q: number, from: number, message: number): void {
    const messages = this.messages!;
    messages.data[message * messages.width + Q_COUNT] = 0;
    if (!this.ctx.transport!.send(q, from, REFUSAL, message, 0)) messages.release(message);
  }

  /**
   * busy: refuse. P's request was refused: P puts its entry for Q back, with age 0.
   * Q is live and reachable, so dropping the entry as after a failed contact would cut
   * a sound link; and the refusal comes from Q itself, as fresh a word of it as the
   * entry Q sends of itself in a shuffle. Kept at its old age it would stay P's oldest,
   * and with timers at fixed phases P would ask Q again at the same moment of Q's
   * period, busy again, every period. P's cache is as P left it (it refused every
   * request meanwhile) unless the refusal is stale: then it is ignored, like a stale reply.
   */
  private takeRefusal(p: number, qId: number, message: number): void {
    const caches = this.caches;
    const records = caches.records;
    const pBase = p * caches.stride;
    const messages = this.messages!;
    if (records[pBase + caches.requestAt] === messages.data[message * messages.width + SEQUENCE] && this.waiting(p)) {
      const n = records[pBase + caches.cache];
      if (n < caches.cache && !caches.holds(pBase, n, qId)) {
        records[pBase + n] = qId;
        caches.stampNew(pBase, n);
        records[pBase + caches.cache] = n + 1;
      }
      records[pBase + caches.requestAt + 1] = 0;
    }
    messages.release(message);
  }

  /** busy: defer. Q keeps the request, last in its queue, for answerDeferred. */
  private defer(q: number, message: number): void {
    const deferred = this.deferred!;
    const messages = this.messages!;
    const data = messages.data;
    data[message * messages.width + this.qIds] = -1;
    const last = deferred[2 * q + 1];
    if (last < 0) deferred[2 * q] = message;
    else data[last * messages.width + this.qIds] = message;
    deferred[2 * q + 1] = message;
  }

  /** busy: defer. Q answers the requests it deferred, in the order they arrived. */
  private answerDeferred(q: number): void {
    const deferred = this.deferred!;
    let message = deferred[2 * q];
    if (message < 0) return;
    deferred[2 * q] = deferred[2 * q + 1] = -1;
    const messages = this.messages!;
    while (message >= 0) {
      const at = message * messages.width;
      const next = messages.data[at + this.qIds];
      // The requester's id is the first entry it offered: itself.
      this.answer(q, messages.data[at + P_IDS], message);
      message = next;
    }
  }

  /** Q received P's request: answer with l random entries (in the same record) and merge P's into its cache. */
  private answer(q: number, from: number, message: number): void {
    const messages = this.messages!;
    const data = messages.data;
    const bytes = this.bytesOf(data);
    const at = message * messages.width;
    // P's entries are copied out: the merge uses them up, and P's reply handler reads them again.
    const offered = data[at + P_COUNT];
    const pAgesAt = 4 * at + this.pAgeBytes;
    for (let k = 0; k < offered; k++) {
      this.sendIds[k] = data[at + P_IDS + k];
      this.sendAges[k] = bytes[pAgesAt + k];
    }
    const answered = this.caches.answer(q * this.caches.stride, this.shuffleLength, this.sendIds, this.sendAges, offered, this.sentQ,
      data, at + this.qIds, bytes, 4 * at + this.qAgeBytes);
    data[at + Q_COUNT] = answered;
    if (!this.ctx.transport!.send(q, from, REPLY, message, 8 * answered)) messages.release(message);
  }

  /** P received Q's reply: merge it, overwriting the entries P sent (where it still holds them). */
  private takeReply(p: number, message: number): void {
    const messages = this.messages!;
    const data = messages.data;
    const at = message * messages.width;
    const caches = this.caches;
    const records = caches.records;
    const pBase = p * caches.stride;
    const request = pBase + caches.requestAt;
    const transport = this.ctx.transport!;
    const fresh = records[request] === data[at + SEQUENCE] && records[request + 1] > 0
      && (((transport.now | 0) - records[request + 2]) | 0) <= transport.timeoutAfter;
    if (fresh) {
      const n = records[pBase + caches.cache];
      // Where the entries P sent (after itself) sit now. Other shuffles may have moved
      // them: each is looked for where it was sent from first (ids in a cache are distinct).
      let positions = 0;
      const packed = caches.positionsAt >= 0 ? records[pBase + caches.positionsAt] : -1;
      for (let k = 1, sent = data[at + P_COUNT]; k < sent; k++) {
        const id = data[at + P_IDS + k];
        const was = (packed >>> (5 * (k - 1))) & 31;
        if (packed >= 0 && was < n && records[pBase + was] === id) {
          this.sentP[positions++] = was;
          continue;
        }
        for (let i = 0; i < n; i++) if (records[pBase + i] === id) { this.sentP[positions++] = i; break; }
      }
      const count = data[at + Q_COUNT];
      const qIds = at + this.qIds;
      const bytes = this.bytesOf(data);
      const qAgesAt = 4 * at + this.qAgeBytes;
      for (let k = 0; k < count; k++) {
        this.replyIds[k] = data[qIds + k];
        this.replyAges[k] = bytes[qAgesAt + k];
      }
      caches.mergeAnswer(pBase, n, this.replyIds, this.replyAges, count, this.sentP, positions);
      records[request + 1] = 0;
    }
    messages.release(message);
  }

  /** The first `sent` positions of sentP, 5 bits each (the cache is at most 32), or -1 if they do not fit in 31 bits. */
  private packPositions(sent: number): number {
    if (sent > 6) return -1;
    let packed = 0;
    for (let k = 0; k < sent; k++) packed |= this.sentP[k] << (5 * k);
    return packed;
  }

  /** The bytes of the pool's records (`data` is replaced when the pool grows). */
  private bytesOf(data: Int32Array): Uint8Array {
    if (this.messageBytesOf !== data) {
      this.messageBytes = bytesOf(data);
      this.messageBytesOf = data;
    }
    return this.messageBytes;
  }
}
