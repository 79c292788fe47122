import type { Context } from '../engine/protocol.js';
import { contactId } from './slots.js';

/** What a message-style protocol needs from the engine: the event engine's Transport, or LocalWire in the cycle engine. */
export interface Wire {
  /**
   * Sends `kind` with pooled `payload` from the node in slot `from` to node id `to`; false:
   * dropped at once (the sender's timeout will tell). `hint`: the slot `to` was last seen
   * in, or -1 (a speed-up only: a wrong hint changes nothing).
   */
  send(from: number, to: number, kind: number, payload: number, hint?: number): boolean;
  /** onTimeout(slot, kind, token) once the wait for a reply is over. */
  timeout(slot: number, kind: number, token: number): void;
}

/** The handlers LocalWire delivers to (the protocol's own, so that instruments wrapping them see each delivery). */
export interface Handlers {
  onMessage(slot: number, kind: number, from: number, payload: number): void;
  onTimeout(slot: number, kind: number, token: number): void;
  onUndelivered(kind: number, payload: number): void;
}

/**
 * The cycle engine's delivery of a message-style protocol: what a node's step sends is
 * queued and delivered before the step returns, in order, each through ctx.contact
 * (-1: the destination left, is offline or across a partition: the message is lost).
 * Replies are delivered the same way, so a whole exchange completes within the step;
 * then the step's timeouts fire (a reply that has not come by then never will). Nothing
 * is queued between steps, so nothing here needs saving in checkpoints.
 *
 * Slot hints: a message may carry the slot its destination was last seen in, tried
 * before the id is looked up (see slots.ts: the result is ctx.contact's). A reply to
 * the message being delivered (to its sender's id) gets its sender's slot as hint.
 */
export class LocalWire implements Wire {
  private messages: Int32Array = new Int32Array(RECORD * 64);
  private head = 0;
  private tail = 0;
  private timeouts: Int32Array = new Int32Array(3 * 16);
  private timeoutHead = 0;
  private timeoutTail = 0;

  /** The slot and id of the sender of the message being delivered (-1: none). */
  private senderSlot = -1;
  private senderId = -1;

  constructor(private readonly ctx: Context, private readonly handlers: Handlers) {}

  /** The slot of the sender of the message being delivered, or -1 outside deliveries. */
  get sender(): number {
    return this.senderSlot;
  }

  send(from: number, to: number, kind: number, payload: number, hint = -1): boolean {
    if (this.tail + RECORD > this.messages.length) this.messages = grow(this.messages, this.head, this.tail, (n) => { this.tail = n; this.head = 0; });
    const m = this.messages;
    m[this.tail] = from; m[this.tail + 1] = to; m[this.tail + 2] = kind; m[this.tail + 3] = payload;
    m[this.tail + 4] = hint < 0 && to === this.senderId ? this.senderSlot : hint;
    this.tail += RECORD;
    return true;
  }


  timeout(slot: number, kind: number, token: number): void {
    if (this.timeoutTail + 3 > this.timeouts.length) this.timeouts = grow(this.timeouts, this.timeoutHead, this.timeoutTail, (n) => { this.timeoutTail = n; this.timeoutHead = 0; });
    const t = this.timeouts;
    t[this.timeoutTail] = slot; t[this.timeoutTail + 1] = kind; t[this.timeoutTail + 2] = token;
    this.timeoutTail += 3;
  }

  /** Delivers everything queued, then fires the timeouts, until nothing is left. */
  drain(): void {
    const { ctx, handlers } = this;
    for (;;) {
      if (this.head < this.tail) {
        const m = this.messages;
        const from = m[this.head], to = m[this.head + 1], kind = m[this.head + 2], payload = m[this.head + 3], hint = m[this.head + 4];
        this.head += RECORD;
        const slot = contactId(ctx, from, to, hint);
        if (slot < 0) {
          handlers.onUndelivered(kind, payload);
          continue;
        }
        const id = ctx.store.idOf[from];
        this.senderSlot = from;
        this.senderId = id;
        handlers.onMessage(slot, kind, id, payload);
        this.senderSlot = this.senderId = -1;
        continue;
      }
      this.head = this.tail = 0;
      if (this.timeoutHead < this.timeoutTail) {
        const t = this.timeouts;
        const slot = t[this.timeoutHead], kind = t[this.timeoutHead + 1], token = t[this.timeoutHead + 2];
        this.timeoutHead += 3;
        handlers.onTimeout(slot, kind, token);
        continue;
      }
      this.timeoutHead = this.timeoutTail = 0;
      return;
    }
  }
}

/** Words per queued message: sender slot, destination id, kind, payload, destination slot hint. */
const RECORD = 5;

/** A queue's live part [head, tail) moved to the front of an array twice as large. */
function grow(queue: Int32Array, head: number, tail: number, moved: (length: number) => void): Int32Array {
  const grown = new Int32Array(queue.length * 2);
  grown.set(queue.subarray(head, tail));
  moved(tail - head);
  return grown;
}
