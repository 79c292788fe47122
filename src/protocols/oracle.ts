import { z } from 'zod';
import { defineProtocol, type Linkable, type BatchedStep, type Protocol, type ProtocolContext } from '../engine/protocol.js';
import type { Random } from '../engine/random.js';

/**
 * The idealised peer sampling service every paper compares with: each request
 * returns a uniformly random live node other than the caller. It keeps no state
 * and has no per-cycle work, so it exposes no neighbour list (degree 0).
 */
class Oracle implements Protocol, BatchedStep, Linkable {
  readonly linkable = this;
  constructor(private readonly ctx: ProtocolContext) {}

  step(): void {}
  stepAll(): void {}

  degree(): number { return 0; }

  neighbor(slot: number, i: number): number {
    throw new RangeError(`the oracle holds no neighbour list (asked for neighbour ${i} of slot ${slot})`);
  }

  samplePeer(slot: number, random: Random): number {
    const { store } = this.ctx;
    const n = store.size;
    if (n < 2) return -1;
    // Draw among the n-1 others: pick in [0, n-1) and skip over the caller's position.
    let other = store.liveSlot(random.int(n - 1));
    if (other === slot) other = store.liveSlot(n - 1);
    return store.idOf[other];
  }
}

export const oracle = defineProtocol({
  type: 'oracle',
  description: 'uniformly random live peer on every request (the idealised sampling baseline)',
  params: z.strictObject({}),
  create: (ctx) => new Oracle(ctx),
});
