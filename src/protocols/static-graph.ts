import { z } from 'zod';
import { defineProtocol, randomNeighbor, type Linkable, type BatchedStep, type Protocol, type ProtocolContext } from '../engine/protocol.js';
import type { Random } from '../engine/random.js';

const params = z.strictObject({
  degree: z.number().int().min(1).max(1024).default(20).describe('k: distinct random out-neighbours each node gets at the start (1-1024, below size)'),
});
type StaticGraphParams = z.infer<typeof params>;

/**
 * A fixed random k-out graph: each node links to k distinct other nodes drawn
 * uniformly at initialisation, and the links never change (the "static network" of
 * the aggregation paper). Links to nodes that leave go dead and stay; a node that
 * joins gets k random live nodes, so it can initiate too. No per-cycle work.
 */
class StaticGraph implements Protocol, BatchedStep, Linkable {
  readonly linkable = this;
  /** slot * k + i -> id of the slot's i-th neighbour. */
  private readonly neighbours: Int32Array;
  /** slot -> number of neighbours (k, or fewer in a network of at most k nodes). */
  private readonly degrees: Int32Array;

  constructor(private readonly ctx: ProtocolContext, private readonly k: number) {
    this.neighbours = ctx.state.array('neighbours', new Int32Array(ctx.store.capacity * k));
    this.degrees = ctx.state.array('degrees', new Int32Array(ctx.store.capacity));
  }

  init(): void {
    const { store } = this.ctx;
    for (let i = 0; i < store.size; i++) this.wire(store.liveSlot(i), this.ctx.initRandom);
  }

  onJoin(slot: number): void {
    this.wire(slot, this.ctx.random);
  }

  onLeave(slot: number): void {
    this.degrees[slot] = 0;
  }

  step(): void {}
  stepAll(): void {}

  degree(slot: number): number {
    return this.degrees[slot];
  }

  neighbor(slot: number, i: number): number {
    return this.neighbours[slot * this.k + i];
  }

  samplePeer(slot: number, random: Random): number {
    return randomNeighbor(this, slot, random);
  }

  /** Draws min(k, n - 1) distinct live nodes other than `slot` (rejection: k is far below n). */
  private wire(slot: number, random: Random): void {
    const { store } = this.ctx;
    const base = slot * this.k;
    const self = store.idOf[slot];
    const wanted = Math.min(this.k, store.size - 1);
    let d = 0;
    while (d < wanted) {
      const id = store.idOf[store.liveSlot(random.int(store.size))];
      if (id === self) continue;
      let held = false;
      for (let i = base; i < base + d; i++) if (this.neighbours[i] === id) { held = true; break; }
      if (!held) this.neighbours[base + d++] = id;
    }
    this.degrees[slot] = d;
  }
}

export const staticGraph = defineProtocol({
  type: 'static',
  description: 'fixed random k-out graph: k distinct random neighbours per node, drawn once',
  params,
  check(p: StaticGraphParams, scenario) {
    if (p.degree >= scenario.size) {
      return [{ key: 'degree', message: `expected a degree smaller than the network (size ${scenario.size}), found ${p.degree}` }];
    }
    return [];
  },
  create: (ctx, p) => new StaticGraph(ctx, p.degree),
});
